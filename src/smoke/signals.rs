//! Ctrl-C and SIGTERM during a smoke run. The first signal turns the stop flag on: every
//! deployment still running is asked to stop (see `child.rs`), and its destroy follows as
//! after any other end. Later signals are answered with a line and otherwise ignored, so the
//! destroys finish: a smoke run never leaves its environments behind because it was hurried.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Listens for SIGINT and SIGTERM until the returned task is aborted; the receiver turns true
/// at the first one.
pub fn listen() -> (watch::Receiver<bool>, JoinHandle<()>) {
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            tracing::warn!("cannot listen for signals; Ctrl-C will end the smoke run at once");
            return;
        };
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            if tx.send_replace(true) {
                eprintln!("smoke: already stopping; waiting for the destroys to finish");
            } else {
                eprintln!(
                    "smoke: stopping the deployments, then destroying every environment (this takes a while)"
                );
            }
        }
    });
    (rx, task)
}
