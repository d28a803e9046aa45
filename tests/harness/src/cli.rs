//! The one way tests run the built `carto-provision` binary: [`Cli`] starts it with a clean
//! environment (only PATH, a HOME of its own, test credentials for the emulators, a short
//! retry base) and a state folder, and [`Cli::run`] captures both streams, killing the
//! process by its PID when it outlives [`RUN_TIMEOUT`]. The CLI tests, [`crate::deployment`]
//! and [`crate::smoke`] all start from it.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long one run of the binary may take before [`Cli::run`] kills it.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// What one run of the binary did.
#[derive(Debug)]
pub struct Output {
    /// Exit code (`-1` when killed by a signal).
    pub code: i32,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
}

impl Output {
    /// Panics unless the exit code is `code`, showing both streams.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code; {self:#?}");
        self
    }
}

/// `bin` with a clean environment and `CARTO_PROVISION_STATE_DIR=state_dir`; HOME is a
/// `home` folder beside `state_dir`. Both streams are piped unless changed.
pub struct Cli {
    cmd: Command,
}

impl Cli {
    /// The binary at `bin`, keeping its state in `state_dir`.
    pub fn new(bin: &Path, state_dir: &Path) -> Cli {
        let mut cmd = Command::new(bin);
        let home = state_dir.with_file_name("home");
        std::fs::create_dir_all(&home).expect("create test HOME");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("CARTO_PROVISION_RETRY_BASE_MS", "10")
            .env("CARTO_PROVISION_STATE_DIR", state_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Cli { cmd }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cli {
        self.cmd.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Cli
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cli {
        self.cmd.env(key, value);
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(mut self, vars: I) -> Cli
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.cmd.envs(vars);
        self
    }

    /// The command, for a caller that sets its own streams.
    pub fn into_command(self) -> Command {
        self.cmd
    }

    /// Starts in the background (for tests that signal it).
    pub fn spawn(mut self) -> Child {
        self.cmd.spawn().expect("spawn carto-provision")
    }

    /// Runs to the end (killed by PID after [`RUN_TIMEOUT`]) and captures both streams.
    pub fn run(mut self) -> Output {
        let mut child = self.cmd.spawn().expect("spawn carto-provision");
        let read = |mut from: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = from.read_to_string(&mut s);
                s
            })
        };
        let out = read(Box::new(child.stdout.take().expect("stdout piped")));
        let err = read(Box::new(child.stderr.take().expect("stderr piped")));
        let status = wait_or_kill(&mut child, RUN_TIMEOUT);
        Output {
            code: status.code().unwrap_or(-1),
            stdout: out.join().expect("stdout reader"),
            stderr: err.join().expect("stderr reader"),
        }
    }
}

/// Waits for `child` to end; past `limit`, kills it (by its PID) and panics. Polls every
/// 0.5 ms at first, backing off to 20 ms, so a quick command's wall time (timed by the
/// footprint bench) is not rounded up to the polling period.
pub fn wait_or_kill(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    let mut pause = Duration::from_micros(500);
    loop {
        if let Some(status) = child.try_wait().expect("wait for carto-provision") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("carto-provision ran longer than {limit:?}; killed");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}
