//! The Unix user a task runs as: its app's `user` (Marathon), else the agent's `task_user`
//! (`runtime.task_user` in cluster.yaml, made on agents by install.sh), else the agent's own.

/// A user resolved on this agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Why a task cannot run as the user it asked for. The text becomes the task's
/// `TASK_FAILED` message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RunAsError {
    #[error("Failed to launch task: user '{0}' does not exist on this agent")]
    NoSuchUser(String),
    #[error(
        "Failed to launch task: the agent runs as uid {agent} and cannot start tasks as '{user}'"
    )]
    NotRoot { agent: u32, user: String },
    #[error("Failed to launch task: cannot look up user '{user}': {message}")]
    Lookup { user: String, message: String },
}

/// The user to switch to for `app_user` (else `default`), or `None` when the task runs as the
/// agent's own user (no user asked for, or the one the agent already is).
/// `name`'s uid and gid on this agent, whoever the agent runs as (a container engine, not the
/// agent, switches to them).
pub fn ids_of(name: &str) -> Result<RunAs, RunAsError> {
    let user = nix::unistd::User::from_name(name)
        .map_err(|e| RunAsError::Lookup {
            user: name.to_string(),
            message: e.to_string(),
        })?
        .ok_or_else(|| RunAsError::NoSuchUser(name.to_string()))?;
    Ok(RunAs {
        name: name.to_string(),
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    })
}

pub fn resolve(
    app_user: Option<&str>,
    default: Option<&str>,
    agent_uid: u32,
) -> Result<Option<RunAs>, RunAsError> {
    let Some(name) = app_user.or(default) else {
        return Ok(None);
    };
    let user = ids_of(name)?;
    if user.uid == agent_uid {
        return Ok(None);
    }
    if agent_uid != 0 {
        return Err(RunAsError::NotRoot {
            agent: agent_uid,
            user: name.to_string(),
        });
    }
    Ok(Some(user))
}

/// The agent's effective uid.
pub fn agent_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_user_wins_over_the_default_and_unknown_users_fail_the_task() {
        assert_eq!(resolve(None, None, 0), Ok(None));
        let nobody = resolve(Some("nobody"), Some("root"), 0)
            .expect("nobody exists")
            .expect("a switch");
        assert_eq!(nobody.name, "nobody");
        assert_ne!(nobody.uid, 0);
        // root asked by a root agent: nothing to switch.
        assert_eq!(resolve(None, Some("root"), 0), Ok(None));
        assert_eq!(
            resolve(Some("no-such-user-x1"), None, 0),
            Err(RunAsError::NoSuchUser("no-such-user-x1".into()))
        );
        assert!(matches!(
            resolve(Some("nobody"), None, 1000),
            Err(RunAsError::NotRoot { agent: 1000, .. })
        ));
        assert_eq!(
            RunAsError::NoSuchUser("web".into()).to_string(),
            "Failed to launch task: user 'web' does not exist on this agent"
        );
    }
}
