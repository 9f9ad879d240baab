//! SSH settings: users, the bastion, and key files (exist, are files, and on Unix are private).
use std::path::Path;

use super::Ctx;
use crate::files::{resolve, FileState};
use crate::{field, Cluster, Role};

pub(super) fn check(cluster: &Cluster, ctx: &mut Ctx) {
    let ssh = &cluster.ssh;
    if ssh.user.is_empty() {
        ctx.error("ssh.user", "must not be empty");
    }
    if let Some(path) = &ssh.key_path {
        key_file(ctx, "ssh.key_path", path);
    }
    if let Some(bastion) = &ssh.bastion {
        if let Err(e) = field::address(&bastion.address) {
            ctx.error("ssh.bastion.address", e);
        }
        if let Some(path) = &bastion.key_path {
            key_file(ctx, "ssh.bastion.key_path", path);
        }
    }
    let mut any_key = ssh.key_path.is_some();
    for role in [Role::Master, Role::Agent, Role::PublicAgent] {
        for (i, host) in cluster.hosts(role).iter().enumerate() {
            if let Some(path) = &host.key_path {
                any_key = true;
                key_file(ctx, &format!("{}[{i}].key_path", role.key()), path);
            }
        }
    }
    if !any_key && !ssh.use_agent {
        ctx.error(
            "ssh.use_agent",
            "no way to log in: set `ssh.key_path`, or `use_agent: true` to use a running ssh-agent",
        );
    }
}

fn key_file(ctx: &mut Ctx, key: &str, path: &Path) {
    let home = ctx.files.home();
    let full = resolve(path, ctx.base, home.as_deref());
    let shown = path.display();
    match ctx.files.state(&full) {
        FileState::Missing => ctx.error(key, format!("SSH key `{shown}` does not exist")),
        FileState::Directory => ctx.error(key, format!("SSH key `{shown}` is a directory, not a key file")),
        FileState::File { mode: Some(mode) } if mode & 0o077 != 0 => ctx.error(
            key,
            format!("SSH key `{shown}` is readable by group or others (mode {mode:04o}); run `chmod 600 {shown}`"),
        ),
        FileState::File { .. } => {}
    }
}
