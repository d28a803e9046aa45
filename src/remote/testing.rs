//! `RecordingRunner`: a fake `Runner` for tests, which records what ran and answers from a script.
//!
//! Answers are rules: the first rule whose pattern occurs in the command's shell text gives
//! the output (each rule's outputs are used in order; the last one repeats). A command no rule
//! matches answers exit 0 with no output. Uploads are recorded with their bytes and mode.

use std::collections::VecDeque;

use async_trait::async_trait;

use super::{Cmd, LineSink, Output, RemoteError, Runner, Stream};

/// One recorded upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Absolute path.
    pub path: String,
    /// The bytes written.
    pub contents: Vec<u8>,
    /// The mode asked for.
    pub mode: u32,
}

/// What the fake saw, in order.
#[derive(Debug, Clone)]
pub enum Event {
    /// A command ran.
    Exec(Cmd),
    /// A file was uploaded.
    Upload(Upload),
}

/// A scripted fake of a remote host.
#[derive(Debug, Default)]
pub struct RecordingRunner {
    rules: Vec<(String, VecDeque<Output>)>,
    fail_transport: Option<String>,
    /// Everything that happened, in order.
    pub events: Vec<Event>,
}

impl RecordingRunner {
    /// A host where every command succeeds silently.
    pub fn new() -> Self {
        Self::default()
    }

    /// Commands whose shell text contains `pattern` answer `outputs` in turn (the last repeats).
    pub fn answer(mut self, pattern: &str, outputs: Vec<Output>) -> Self {
        self.rules.push((pattern.to_string(), outputs.into()));
        self
    }

    /// Commands whose shell text contains `pattern` fail at the transport level.
    pub fn lose_connection_on(mut self, pattern: &str) -> Self {
        self.fail_transport = Some(pattern.to_string());
        self
    }

    /// The shell text of every command run, in order.
    pub fn commands(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Exec(c) => Some(c.to_shell()),
                Event::Upload(_) => None,
            })
            .collect()
    }

    /// Every upload, in order.
    pub fn uploads(&self) -> Vec<&Upload> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Upload(u) => Some(u),
                Event::Exec(_) => None,
            })
            .collect()
    }
}

#[async_trait]
impl Runner for RecordingRunner {
    async fn exec(&mut self, cmd: &Cmd, sink: &mut dyn LineSink) -> Result<Output, RemoteError> {
        let shell = cmd.to_shell();
        self.events.push(Event::Exec(cmd.clone()));
        if let Some(p) = &self.fail_transport
            && shell.contains(p.as_str())
        {
            return Err(RemoteError::transport(
                format!("running `{}`", cmd.display()),
                "connection reset by peer",
            ));
        }
        let out = self
            .rules
            .iter_mut()
            .find(|(p, _)| shell.contains(p.as_str()))
            .map(|(_, outs)| {
                if outs.len() > 1 {
                    outs.pop_front().unwrap_or_default()
                } else {
                    outs.front().cloned().unwrap_or_default()
                }
            })
            .unwrap_or_default();
        for l in out.stdout.lines() {
            sink.line(Stream::Stdout, l);
        }
        for l in out.stderr.lines() {
            sink.line(Stream::Stderr, l);
        }
        Ok(out)
    }

    async fn upload(&mut self, path: &str, contents: &[u8], mode: u32) -> Result<(), RemoteError> {
        self.events.push(Event::Upload(Upload {
            path: path.to_string(),
            contents: contents.to_vec(),
            mode,
        }));
        Ok(())
    }
}
