//! Remote steps as data, and the one function that runs them.
//!
//! `cmd` builds commands (program + argv, secrets redacted when shown); `runner` holds the
//! `RemoteStep` (check, apply, judge, post-check) and `run_steps`; `spec` is the input the
//! bootstrap/install step lists are built from; `testing` is a recording fake `Runner`.
//! Transport lives in `crate::ssh`, which implements `Runner`; nothing here opens a socket.

pub mod cmd;
pub mod runner;
pub mod spec;
pub mod testing;

use async_trait::async_trait;
use std::io::Write;

pub use cmd::{Arg, Cmd, Secret};
pub use runner::{Action, Judge, NoEvents, RemoteStep, StepEvents, exit_zero, run_steps};
pub use spec::{DockerSource, RemoteSpec, UploadFile};

/// How many output lines an error carries.
pub const TAIL_LINES: usize = 20;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// The result of one remote command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Exit status (128 + signal number when killed by a signal, 255 when unknown).
    pub exit: u32,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Output {
    /// A finished command with these exit code and outputs (handy in tests and fakes).
    pub fn new(exit: u32, stdout: &str, stderr: &str) -> Self {
        Output {
            exit,
            stdout: stdout.to_string(),
            stderr: stderr.to_string(),
        }
    }

    /// The last `n` lines of stdout followed by stderr (where errors usually are).
    pub fn tail(&self, n: usize) -> Vec<String> {
        let lines: Vec<&str> = self.stdout.lines().chain(self.stderr.lines()).collect();
        let start = lines.len().saturating_sub(n);
        lines[start..].iter().map(|l| l.to_string()).collect()
    }
}

/// Receives remote output line by line as it arrives.
pub trait LineSink: Send {
    /// One line (without its newline) from `stream`.
    fn line(&mut self, stream: Stream, line: &str);
}

/// A sink that drops every line.
pub struct NullSink;

impl LineSink for NullSink {
    fn line(&mut self, _: Stream, _: &str) {}
}

/// Appends every line to a log file (`2024-…Z out| …`); write errors are logged once, not fatal.
pub struct FileSink {
    file: std::fs::File,
    failed: bool,
}

impl FileSink {
    /// Open (create or append) the log file at `path`.
    pub fn append(path: &std::path::Path) -> std::io::Result<Self> {
        let file = crate::state::append_private(path)?;
        Ok(FileSink {
            file,
            failed: false,
        })
    }
}

impl LineSink for FileSink {
    fn line(&mut self, stream: Stream, line: &str) {
        let tag = match stream {
            Stream::Stdout => "out",
            Stream::Stderr => "err",
        };
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        if let Err(e) = writeln!(self.file, "{now} {tag}| {line}")
            && !self.failed
        {
            self.failed = true;
            tracing::warn!("cannot write the remote log: {e}");
        }
    }
}

/// Runs commands and uploads files on one host.
#[async_trait]
pub trait Runner: Send {
    /// Run `cmd`, streaming its output to `sink`; a non-zero exit is NOT an error here.
    async fn exec(&mut self, cmd: &Cmd, sink: &mut dyn LineSink) -> Result<Output, RemoteError>;
    /// Write `contents` to the absolute `path`, atomically, with exactly `mode`.
    async fn upload(&mut self, path: &str, contents: &[u8], mode: u32) -> Result<(), RemoteError>;
}

/// Why a remote step failed. Commands are shown redacted; output tails are the last lines.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// A command ran and its judge rejected the result.
    #[error("step {step}: `{cmd}` failed (exit {exit}): {why}{}", show_tail(.tail))]
    Failed {
        /// The step's name.
        step: String,
        /// The command, redacted.
        cmd: String,
        /// Its exit status.
        exit: u32,
        /// The judge's reason.
        why: String,
        /// The last lines of its output.
        tail: Vec<String>,
    },
    /// The step was applied but its check still does not pass.
    #[error("step {step}: applied, but the check `{cmd}` still fails (exit {exit}){}", show_tail(.tail))]
    NotSatisfied {
        /// The step's name.
        step: String,
        /// The check command, redacted.
        cmd: String,
        /// The check's exit status.
        exit: u32,
        /// The last lines of its output.
        tail: Vec<String>,
    },
    /// The transport failed (connection lost, channel refused, SFTP error…).
    #[error("{}{what}: {message}", .step.as_ref().map(|s| format!("step {s}: ")).unwrap_or_default())]
    Transport {
        /// The step's name, once known.
        step: Option<String>,
        /// What was being done (`running \`cmd\``, `uploading PATH`).
        what: String,
        /// The transport's error.
        message: String,
    },
}

impl RemoteError {
    /// A transport error outside of any step (the step is filled in by `run_steps`).
    pub fn transport(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        RemoteError::Transport {
            step: None,
            what: what.into(),
            message: message.to_string(),
        }
    }

    fn in_step(self, name: &str) -> Self {
        match self {
            RemoteError::Transport {
                step: None,
                what,
                message,
            } => RemoteError::Transport {
                step: Some(name.to_string()),
                what,
                message,
            },
            other => other,
        }
    }
}

fn show_tail(tail: &[String]) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let mut s = String::from("\n  last output:");
    for l in tail {
        s.push_str("\n  | ");
        s.push_str(l);
    }
    s
}
