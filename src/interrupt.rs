//! Ctrl-C and SIGTERM, and the test-only kill points.
//!
//! A signal never aborts a cloud call in flight. It sets a flag that the pipeline checks where
//! stopping is safe (after a resource is recorded, before a step starts), and it ends at once
//! the waits that change nothing (the VM booting, SSH, the services coming up). The run then
//! stops with [`Interrupted`], its state saved, and the binary exits 130. A second signal
//! quits immediately.
//!
//! `CARTO_PROVISION_DIE_AT` (for tests) names a point where the process kills itself with
//! SIGKILL, as a crash or an OOM kill would: `unrecorded:<kind>` (the cloud has made the
//! resource, the state file does not know it yet), `recorded:<kind>` (just saved), or
//! `step:<step>` (the step just finished).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// The run stopped because the user asked it to; the state is saved.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by a signal; the state is saved")]
pub struct Interrupted;

static REQUESTED: AtomicBool = AtomicBool::new(false);

fn notify() -> &'static Notify {
    static NOTIFY: OnceLock<Notify> = OnceLock::new();
    NOTIFY.get_or_init(Notify::new)
}

/// Starts listening for SIGINT and SIGTERM (call once, inside the runtime).
pub fn listen() {
    tokio::spawn(async {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            if REQUESTED.swap(true, Ordering::SeqCst) {
                eprintln!("carto-provision: second signal, quitting now");
                std::process::exit(crate::exit::Code::Interrupted as i32);
            }
            eprintln!(
                "carto-provision: stopping once the cloud call in flight returns (signal again to quit now)"
            );
            notify().notify_waiters();
        }
    });
}

/// Sets the flag as a signal would (for tests of the pipeline).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
    notify().notify_waiters();
}

/// Clears the flag (for tests of the pipeline, after [`request`]).
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// `Err(Interrupted)` once a stop was asked for: call where stopping is safe.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

/// Resolves when a stop is asked for.
pub async fn wait() {
    loop {
        let notified = notify().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if requested() {
            return;
        }
        notified.await;
    }
}

/// Runs `fut`, a wait that changes nothing, unless a stop is asked for first.
pub async fn unless_stopped<T>(fut: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::select! {
        result = fut => result,
        _ = wait() => Err(Interrupted.into()),
    }
}

/// Kills this process with SIGKILL when `CARTO_PROVISION_DIE_AT` names `point`.
pub fn die_at(point: &str) {
    if std::env::var("CARTO_PROVISION_DIE_AT").is_ok_and(|p| p == point) {
        // SAFETY: kill(2) on our own pid with a constant signal has no memory effects.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// `args` as one shell command line a user can paste (single-quoted where needed).
pub fn shell_line(args: impl IntoIterator<Item = String>) -> String {
    args.into_iter()
        .map(|a| crate::remote::cmd::quote(&a))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_line_quotes_only_what_needs_it() {
        let line = shell_line(
            ["carto-provision", "aws", "--package", "/tmp/my pkg", "it's"].map(String::from),
        );
        assert_eq!(
            line,
            r"carto-provision aws --package '/tmp/my pkg' 'it'\''s'"
        );
        assert_eq!(shell_line([String::new()]), "''");
    }
}
