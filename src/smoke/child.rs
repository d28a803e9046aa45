//! Running one child `carto-provision` (a deployment or a destroy): stdout and stderr go to
//! files, the child gets its own process group (so a Ctrl-C at the terminal reaches only the
//! smoke, which decides what each child gets), and a stop request is passed on to it by PID:
//! SIGTERM, then, if it has not ended after [`STOP_GRACE`], SIGKILL. A child stopped by
//! SIGTERM saves its state and ends at its next safe point, so its destroy can follow.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How long a stopped child may take to reach a safe point before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(180);

/// Where a child's output goes.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Logs {
    /// Its stdout (JSON event lines).
    pub stdout: PathBuf,
    /// Its stderr (the error line).
    pub stderr: PathBuf,
}

impl Logs {
    /// `<dir>/<stem>.out` and `<dir>/<stem>.err`.
    pub fn new(dir: &Path, stem: &str) -> Logs {
        Logs {
            stdout: dir.join(format!("{stem}.out")),
            stderr: dir.join(format!("{stem}.err")),
        }
    }

    /// Both files' text (empty when unreadable).
    pub fn read(&self) -> (String, String) {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        (read(&self.stdout), read(&self.stderr))
    }
}

/// How a child ended.
#[derive(Clone, Debug)]
pub struct Ended {
    /// Its exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// How long it ran.
    pub wall: Duration,
    /// Whether we asked it to stop.
    pub stopped: bool,
}

impl Ended {
    /// Whether it exited 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `bin args…` to its end, writing its output to `logs`. When `stop` turns true while
/// it runs, the child is asked to stop (see the module doc); `None` means it is never
/// interrupted (a destroy).
pub async fn run(
    bin: &Path,
    args: &[OsString],
    logs: &Logs,
    stop: Option<watch::Receiver<bool>>,
) -> io::Result<Ended> {
    let start = Instant::now();
    let mut child = tokio::process::Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&logs.stdout)?)
        .stderr(File::create(&logs.stderr)?)
        .process_group(0)
        .spawn()?;
    let mut stopped = false;
    let status = match stop {
        None => child.wait().await?,
        Some(mut stop) => {
            tokio::select! {
                status = child.wait() => status?,
                _ = stopped_by(&mut stop) => {
                    stopped = true;
                    if let Some(pid) = child.id() {
                        terminate(pid).await;
                    }
                    match tokio::time::timeout(STOP_GRACE, child.wait()).await {
                        Ok(status) => status?,
                        Err(_) => {
                            child.start_kill()?;
                            child.wait().await?
                        }
                    }
                }
            }
        }
    };
    Ok(Ended {
        code: status.code(),
        wall: start.elapsed(),
        stopped,
    })
}

/// Resolves once `stop` is true; never when its sender is gone without asking.
async fn stopped_by(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Sends SIGTERM to one process by its PID.
async fn terminate(pid: u32) {
    let sent = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    if !sent.is_ok_and(|s| s.success()) {
        tracing::warn!(pid, "could not send SIGTERM (it may have ended already)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn output_goes_to_the_log_files_and_the_code_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let logs = Logs::new(dir.path(), "c");
        let args: Vec<OsString> = ["-c", "echo out; echo err >&2; exit 3"]
            .map(OsString::from)
            .to_vec();
        let ended = run(Path::new("/bin/sh"), &args, &logs, None).await.unwrap();
        assert_eq!(ended.code, Some(3));
        assert!(!ended.ok() && !ended.stopped);
        assert_eq!(logs.read(), ("out\n".to_string(), "err\n".to_string()));
    }

    #[tokio::test]
    async fn a_stop_reaches_the_child_as_sigterm() {
        let dir = tempfile::tempdir().unwrap();
        let logs = Logs::new(dir.path(), "c");
        // The child turns SIGTERM into a clean exit 7, as carto-provision saves and exits.
        let args: Vec<OsString> = [
            "-c",
            "trap 'echo got-term; exit 7' TERM; while :; do sleep 0.05; done",
        ]
        .map(OsString::from)
        .to_vec();
        let (tx, rx) = watch::channel(false);
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            tx.send(true).unwrap();
            tx
        });
        let ended = run(Path::new("/bin/sh"), &args, &logs, Some(rx))
            .await
            .unwrap();
        drop(stopper.await);
        assert!(ended.stopped);
        assert_eq!(ended.code, Some(7));
        assert_eq!(logs.read().0, "got-term\n");
    }
}
