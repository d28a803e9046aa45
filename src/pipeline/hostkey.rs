//! Rotating the VM's SSH host key after the first pinned session.
//!
//! The host key that went into user-data exists only to make the first connection verifiable:
//! it was generated on the operator's machine and sat in the cloud's metadata. Over that first
//! authenticated session we generate a new ed25519 host key on the VM (staged beside the live
//! one), read its public half, and only then put it in place and restart sshd. This file owns
//! the commands and the reading of their answers; the pipeline (`on_vm.rs`) records the new
//! key in the state file between [`stage`] and [`install`], so a kill at any point resumes:
//! before the move both keys are on the VM and either pin is accepted, after it the new one is.
//!
//! cloud-init writes `ssh_keys` from user-data in its per-instance `ssh` module, so a reboot
//! of the same instance does not put the old key back. Once the rotation is recorded the
//! pipeline asks the provider to forget the user-data (`infra::forget_user_data`), and a VM that
//! replaces the recorded one starts the rotation over (`infra::run`).

use russh::keys::PublicKey;

use crate::remote::{Cmd, LineSink, Output, Runner, Stream};

/// The live ed25519 host key sshd serves.
pub const HOST_KEY: &str = "/etc/ssh/ssh_host_ed25519_key";
/// Where the new key is generated before it replaces the live one.
pub const STAGED_KEY: &str = "/etc/ssh/ssh_host_ed25519_key.carto-new";

/// Generates the staged key unless a complete one is already there (a resumed rotation).
const STAGE_SCRIPT: &str = r#"set -e
if ! { test -s "$1" && test -s "$1.pub"; }; then
  rm -f "$1" "$1.pub"
  ssh-keygen -q -t ed25519 -N '' -C "$(hostname)" -f "$1"
fi
ssh-keygen -y -f "$1""#;

/// Moves the staged key into place (private half last, mode 0600), checks sshd's
/// configuration and restarts it. Running sessions survive the restart.
const INSTALL_SCRIPT: &str = r#"set -e
if test -s "$2"; then
  chmod 600 "$2"
  ssh-keygen -y -f "$2" > "$1.pub"
  mv -f "$2" "$1"
  rm -f "$2.pub"
fi
sshd -t
systemctl restart ssh"#;

/// Why the rotation could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// A remote command failed.
    #[error("{what} on the VM failed (exit {exit}): {detail}")]
    Command {
        /// What we were doing.
        what: &'static str,
        /// Its exit status.
        exit: u32,
        /// The last lines it printed.
        detail: String,
    },
    /// The VM printed something that is not an OpenSSH public key.
    #[error("{what} on the VM printed no ed25519 public key ({reason})")]
    NotAKey {
        /// What we were reading.
        what: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// The connection broke.
    #[error(transparent)]
    Remote(#[from] crate::remote::RemoteError),
}

/// Discards command output (host key commands print nothing worth logging).
struct Quiet;

impl LineSink for Quiet {
    fn line(&mut self, _: Stream, _: &str) {}
}

async fn run(runner: &mut dyn Runner, what: &'static str, cmd: Cmd) -> Result<Output, RotateError> {
    let out = runner.exec(&cmd, &mut Quiet).await?;
    if out.exit != 0 {
        return Err(RotateError::Command {
            what,
            exit: out.exit,
            detail: out.tail(5).join(" | "),
        });
    }
    Ok(out)
}

fn parse(what: &'static str, out: &Output) -> Result<PublicKey, RotateError> {
    let not_a_key = |reason: String| RotateError::NotAKey { what, reason };
    let line = out.stdout.lines().next().unwrap_or_default().trim();
    let key = PublicKey::from_openssh(line).map_err(|e| not_a_key(e.to_string()))?;
    if key.algorithm() != russh::keys::Algorithm::Ed25519 {
        return Err(not_a_key(format!("it is {}", key.algorithm())));
    }
    Ok(key)
}

/// The public half of the key sshd serves now, derived from its private half (so a
/// half-finished move is not mistaken for a finished one).
pub async fn live(runner: &mut dyn Runner) -> Result<PublicKey, RotateError> {
    let what = "reading the live host key";
    let out = run(
        runner,
        what,
        Cmd::sudo("ssh-keygen").args(["-y", "-f", HOST_KEY]),
    )
    .await?;
    parse(what, &out)
}

/// Makes sure a new host key is staged on the VM and returns its public half.
pub async fn stage(runner: &mut dyn Runner) -> Result<PublicKey, RotateError> {
    let what = "generating a new host key";
    let cmd = Cmd::sudo("bash")
        .arg("-c")
        .arg(STAGE_SCRIPT)
        .arg("_")
        .arg(STAGED_KEY);
    let out = run(runner, what, cmd).await?;
    parse(what, &out)
}

/// Puts the staged key in place and restarts sshd.
pub async fn install(runner: &mut dyn Runner) -> Result<(), RotateError> {
    let cmd = Cmd::sudo("bash")
        .arg("-c")
        .arg(INSTALL_SCRIPT)
        .arg("_")
        .arg(HOST_KEY)
        .arg(STAGED_KEY);
    run(
        runner,
        "installing the new host key and restarting sshd",
        cmd,
    )
    .await?;
    Ok(())
}

/// Puts a new host key on the VM unless `pinned` (the key recorded by an earlier run) is
/// already live; `record` is called with the new key after it is staged and before it goes
/// live. Returns the key sshd serves afterwards.
pub async fn rotate(
    runner: &mut dyn Runner,
    pinned: Option<&PublicKey>,
    record: impl FnOnce(&PublicKey) -> anyhow::Result<()>,
) -> anyhow::Result<PublicKey> {
    let live_key = live(runner).await?;
    if pinned.is_some_and(|p| p.key_data() == live_key.key_data()) {
        // The move finished; the restart may not have: restarting again is harmless.
        install(runner).await?;
        return Ok(live_key);
    }
    let new = stage(runner).await?;
    record(&new)?;
    crate::interrupt::die_at("hostkey:recorded");
    install(runner).await?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::testing::RecordingRunner;
    use russh::keys::{Algorithm, PrivateKey};

    fn key() -> String {
        PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
            .unwrap()
            .public_key()
            .to_openssh()
            .unwrap()
    }

    fn ok(stdout: &str) -> Vec<Output> {
        vec![Output::new(0, &format!("{stdout}\n"), "")]
    }

    #[tokio::test]
    async fn stages_records_then_installs_a_new_key() {
        let (old, new) = (key(), key());
        let mut vm = RecordingRunner::new()
            .answer(&format!("-y -f {HOST_KEY}"), ok(&old))
            .answer("ssh-keygen -q -t ed25519", ok(&new));
        let mut recorded = None;
        let got = rotate(&mut vm, None, |k| {
            recorded = Some(k.to_openssh().unwrap());
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(got.to_openssh().unwrap(), new);
        assert_eq!(recorded.as_deref(), Some(new.as_str()));
        let cmds = vm.commands();
        assert_eq!(cmds.len(), 3, "{cmds:#?}");
        assert!(cmds[1].contains(STAGED_KEY) && cmds[1].contains("ssh-keygen -q"));
        assert!(cmds[2].contains("mv -f") && cmds[2].contains("systemctl restart ssh"));
        assert!(cmds[2].contains("chmod 600"));
        assert!(cmds.iter().all(|c| c.starts_with("sudo -n ")), "{cmds:#?}");
    }

    #[tokio::test]
    async fn a_recorded_key_that_is_live_is_not_rotated_again() {
        let live_key = key();
        let pinned = PublicKey::from_openssh(&live_key).unwrap();
        let mut vm = RecordingRunner::new().answer(HOST_KEY, ok(&live_key));
        let got = rotate(&mut vm, Some(&pinned), |_| panic!("must not record"))
            .await
            .unwrap();
        assert_eq!(got.key_data(), pinned.key_data());
        let cmds = vm.commands();
        assert!(
            !cmds.iter().any(|c| c.contains("ssh-keygen -q")),
            "{cmds:#?}"
        );
        assert!(cmds.last().unwrap().contains("systemctl restart ssh"));
    }

    #[tokio::test]
    async fn a_recorded_key_not_yet_live_is_staged_again() {
        // Killed after recording, before the move: the staged key is still there and the
        // stage script reuses it (the script's own test), so the same key is recorded.
        let (old, staged) = (key(), key());
        let pinned = PublicKey::from_openssh(&staged).unwrap();
        let mut vm = RecordingRunner::new()
            .answer(&format!("-y -f {HOST_KEY}"), ok(&old))
            .answer("ssh-keygen -q -t ed25519", ok(&staged));
        let mut recorded = None;
        rotate(&mut vm, Some(&pinned), |k| {
            recorded = Some(k.key_data().clone());
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(recorded.as_ref(), Some(pinned.key_data()));
    }

    #[tokio::test]
    async fn a_failed_restart_names_the_step_and_garbage_is_refused() {
        let mut vm = RecordingRunner::new()
            .answer("systemctl", vec![Output::new(1, "", "sshd: bad config")])
            .answer(HOST_KEY, ok(&key()));
        let err = install(&mut vm).await.unwrap_err().to_string();
        assert!(
            err.contains("restarting sshd") && err.contains("bad config"),
            "{err}"
        );
        let mut vm = RecordingRunner::new().answer(HOST_KEY, ok("not a key"));
        let err = live(&mut vm).await.unwrap_err().to_string();
        assert!(err.contains("no ed25519 public key"), "{err}");
    }
}
