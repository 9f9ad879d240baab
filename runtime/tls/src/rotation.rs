//! Rotating the cluster CA without a moment in which two members distrust each other. The PKI
//! directory holds the state, so an interrupted rotation resumes where it stopped:
//!
//! 1. **Introduce**: a new CA is made as `ca.next.*`; members are given a trust bundle of both
//!    CAs while their certificates still come from the old one.
//! 2. **Switch**: the new CA becomes `ca.*` (the old one is kept as `ca.previous.*`); members get
//!    certificates of the new CA and still trust both.
//! 3. **Retire**: the old CA is removed; members trust only the new one.
//!
//! After each step every member must be redeployed before the next (`strato ca rotate` runs a
//! deploy after each, and re-runs the last step's deploy when it resumes). `rotation.step`
//! names the last step applied until [`finish`] ends the rotation. `trust.crt` is the bundle members trust, rewritten at each step; outside
//! a rotation it holds `ca.crt` alone.

use std::path::Path;

use crate::error::TlsError;
use crate::issue::{new_ca, read, write, CA_CERT, CA_KEY};

/// The CA being introduced (trusted, not yet issuing).
pub const CA_NEXT_CERT: &str = "ca.next.crt";
pub const CA_NEXT_KEY: &str = "ca.next.key";
/// The CA being retired (trusted, no longer issuing).
pub const CA_PREVIOUS_CERT: &str = "ca.previous.crt";
pub const CA_PREVIOUS_KEY: &str = "ca.previous.key";
/// Every CA certificate members trust during a rotation.
pub const TRUST_BUNDLE: &str = "trust.crt";
/// The last step applied, while a rotation is under way.
pub const ROTATION_STEP: &str = "rotation.step";

/// A step of a rotation, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStep {
    Introduce,
    Switch,
    Retire,
}

impl RotationStep {
    fn as_str(self) -> &'static str {
        match self {
            RotationStep::Introduce => "introduce",
            RotationStep::Switch => "switch",
            RotationStep::Retire => "retire",
        }
    }

    /// 1, 2 or 3.
    pub fn number(self) -> usize {
        self as usize + 1
    }

    pub fn describe(self) -> &'static str {
        match self {
            RotationStep::Introduce => "introduce a new CA: every member trusts both CAs",
            RotationStep::Switch => {
                "switch to the new CA: every member gets a certificate of it, still trusting both"
            }
            RotationStep::Retire => "retire the old CA: every member trusts only the new one",
        }
    }
}

/// Where a rotation stands: the last step applied, if one is under way.
pub fn last_step(dir: &Path) -> Result<Option<RotationStep>, TlsError> {
    let path = dir.join(ROTATION_STEP);
    if !path.exists() {
        return Ok(None);
    }
    match read(&path)?.trim() {
        "introduce" => Ok(Some(RotationStep::Introduce)),
        "switch" => Ok(Some(RotationStep::Switch)),
        "retire" => Ok(Some(RotationStep::Retire)),
        other => Err(TlsError::Pem {
            path,
            what: format!(
                "names no rotation step ({other:?}; expected introduce, switch or retire)"
            ),
        }),
    }
}

/// The steps still to run: all three when no rotation is under way.
pub fn remaining_steps(last: Option<RotationStep>) -> Vec<RotationStep> {
    let all = [
        RotationStep::Introduce,
        RotationStep::Switch,
        RotationStep::Retire,
    ];
    let done = last.map_or(0, RotationStep::number);
    all[done..].to_vec()
}

/// Ends a rotation once the last step's deploy has reached every member.
pub fn finish(dir: &Path) -> Result<(), TlsError> {
    match std::fs::remove_file(dir.join(ROTATION_STEP)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(TlsError::Write {
            path: dir.join(ROTATION_STEP),
            source,
        }),
    }
}

/// Carry out `step` on the PKI directory. Each is safe to repeat after a crash.
pub fn apply_step(dir: &Path, cluster_name: &str, step: RotationStep) -> Result<(), TlsError> {
    match step {
        RotationStep::Introduce => {
            if !dir.join(CA_NEXT_CERT).exists() {
                let (cert_pem, key, _) = new_ca(cluster_name)?;
                write(&dir.join(CA_NEXT_KEY), &key.serialize_pem(), 0o600)?;
                write(&dir.join(CA_NEXT_CERT), &cert_pem, 0o644)?;
            }
        }
        RotationStep::Switch => {
            // Keep the old CA first; then move the new one in, key before certificate, each a
            // rename, so a re-run after a crash finishes the move.
            if !dir.join(CA_PREVIOUS_CERT).exists() {
                write(&dir.join(CA_PREVIOUS_KEY), &read(&dir.join(CA_KEY))?, 0o600)?;
                write(
                    &dir.join(CA_PREVIOUS_CERT),
                    &read(&dir.join(CA_CERT))?,
                    0o644,
                )?;
            }
            for (from, to) in [(CA_NEXT_KEY, CA_KEY), (CA_NEXT_CERT, CA_CERT)] {
                if dir.join(from).exists() {
                    std::fs::rename(dir.join(from), dir.join(to)).map_err(|source| {
                        TlsError::Write {
                            path: dir.join(to),
                            source,
                        }
                    })?;
                }
            }
        }
        RotationStep::Retire => {
            for name in [CA_PREVIOUS_KEY, CA_PREVIOUS_CERT] {
                match std::fs::remove_file(dir.join(name)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(TlsError::Write {
                            path: dir.join(name),
                            source,
                        })
                    }
                }
            }
        }
    }
    write_trust_bundle(dir)?;
    write(
        &dir.join(ROTATION_STEP),
        &format!("{}\n", step.as_str()),
        0o644,
    )
}

/// The certificates members trust: `ca.crt`, then the next or previous CA when there is one.
pub fn trust_bundle(dir: &Path) -> Result<String, TlsError> {
    let mut pem = read(&dir.join(CA_CERT))?;
    for other in [CA_NEXT_CERT, CA_PREVIOUS_CERT] {
        let path = dir.join(other);
        if path.exists() {
            if !pem.ends_with('\n') {
                pem.push('\n');
            }
            pem.push_str(&read(&path)?);
        }
    }
    Ok(pem)
}

/// Writes `trust.crt` from the CA files present (also outside a rotation, where it is `ca.crt`).
pub fn write_trust_bundle(dir: &Path) -> Result<(), TlsError> {
    write(&dir.join(TRUST_BUNDLE), &trust_bundle(dir)?, 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::ClusterCa;

    fn certs(pem: &str) -> usize {
        pem.matches("BEGIN CERTIFICATE").count()
    }

    #[test]
    fn a_rotation_trusts_both_cas_until_the_old_one_is_retired() {
        let dir = tempfile::tempdir().expect("tmp");
        let old = ClusterCa::load_or_create(dir.path(), "demo").expect("CA");
        let old_cert = old.cert_pem().to_string();
        assert_eq!(old.trust_pem(), old_cert);
        assert_eq!(last_step(dir.path()).expect("state"), None);
        assert_eq!(remaining_steps(None).len(), 3);

        apply_step(dir.path(), "demo", RotationStep::Introduce).expect("introduce");
        let ca = ClusterCa::load(dir.path()).expect("load");
        assert_eq!(ca.cert_pem(), old_cert, "the old CA still issues");
        assert_eq!(certs(ca.trust_pem()), 2);
        let last = last_step(dir.path()).expect("state");
        assert_eq!(last, Some(RotationStep::Introduce));
        assert_eq!(
            remaining_steps(last),
            [RotationStep::Switch, RotationStep::Retire]
        );

        apply_step(dir.path(), "demo", RotationStep::Switch).expect("switch");
        // A re-run after the step (a crash before its deploy finished) changes nothing.
        apply_step(dir.path(), "demo", RotationStep::Switch).expect("switch again");
        let ca = ClusterCa::load(dir.path()).expect("load");
        assert_ne!(ca.cert_pem(), old_cert, "the new CA issues");
        assert_eq!(certs(ca.trust_pem()), 2);
        assert!(ca.trust_pem().contains(old_cert.trim()));
        let last = last_step(dir.path()).expect("state");
        assert_eq!(remaining_steps(last), [RotationStep::Retire]);

        apply_step(dir.path(), "demo", RotationStep::Retire).expect("retire");
        let ca = ClusterCa::load(dir.path()).expect("load");
        assert_eq!(certs(ca.trust_pem()), 1);
        assert!(!ca.trust_pem().contains(old_cert.trim()));
        assert!(!dir.path().join(CA_PREVIOUS_KEY).exists());
        let last = last_step(dir.path()).expect("state");
        assert_eq!(
            last,
            Some(RotationStep::Retire),
            "under way until its deploy is done"
        );
        assert!(remaining_steps(last).is_empty());
        finish(dir.path()).expect("finish");
        assert_eq!(last_step(dir.path()).expect("state"), None);
    }
}
