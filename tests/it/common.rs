//! Helpers for driving the built `carto-provision` binary against moto: [`Cloud`] (the
//! harness's [`LocalAws`] handing out an address the test chooses, with one public hosted
//! zone), [`TestCommand`], which runs the binary with a clean environment, test credentials,
//! a fast retry policy and a temporary state directory, and the flags of a deployment.
//! Reading moto back and the fixture package live in `carto_harness`; this file must not
//! grow its own copies of them.
//!
//! Nothing here talks to anything but 127.0.0.1: moto listens there, and the binary is only
//! ever given moto's endpoint.

use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use carto_harness::local_aws::{Counts, LocalAws};

/// The zone every test domain lives in.
pub const ZONE: &str = "example.test";
/// The operator range every test passes.
pub const SSH_CIDR: &str = "127.0.0.1/32";
/// How long one run of the binary may take before the test kills it (by its PID).
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

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

/// The built binary with a clean environment: only PATH, a temporary HOME, moto's test
/// credentials and a 10 ms retry base; every run gets `--state-dir`.
pub struct TestCommand {
    cmd: Command,
}

impl TestCommand {
    /// `carto-provision --state-dir STATE_DIR`, HOME pointing inside `state_dir`'s parent.
    pub fn new(state_dir: &Path) -> TestCommand {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_carto-provision"));
        let home = state_dir.with_file_name("home");
        std::fs::create_dir_all(&home).expect("create test HOME");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("CARTO_PROVISION_RETRY_BASE_MS", "10")
            .arg("--state-dir")
            .arg(state_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        TestCommand { cmd }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> TestCommand {
        self.cmd.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> TestCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> TestCommand {
        self.cmd.env(key, value);
        self
    }

    /// Starts in the background with both streams piped (for tests that signal it).
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd.spawn().expect("spawn carto-provision")
    }

    /// Runs to the end (killed by PID after [`RUN_TIMEOUT`]) and captures both streams.
    pub fn run(mut self) -> Output {
        let mut child = self.cmd.spawn().expect("spawn carto-provision");
        let mut out = child.stdout.take().expect("stdout piped");
        let mut err = child.stderr.take().expect("stderr piped");
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for carto-provision") {
                break status;
            }
            if start.elapsed() > RUN_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("carto-provision ran longer than {RUN_TIMEOUT:?}; killed");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Output {
            code: status.code().unwrap_or(-1),
            stdout: out_reader.join().expect("stdout reader"),
            stderr: err_reader.join().expect("stderr reader"),
        }
    }
}

/// The flags of a deployment (`aws …` or `plan aws …`) of `domain` with `package`, against
/// `endpoint`, SSH only from [`SSH_CIDR`].
pub fn deploy_args(domain: &str, package: &Path, endpoint: &str) -> Vec<String> {
    vec![
        "--domain".into(),
        domain.into(),
        "--package".into(),
        package.display().to_string(),
        "--ssh-cidr".into(),
        SSH_CIDR.into(),
        "--endpoint-url".into(),
        endpoint.into(),
    ]
}

/// moto handing out one address the test chooses, with the public hosted zone [`ZONE`].
pub struct Cloud {
    /// The emulator and its read-back calls (moto is stopped by PID when dropped).
    pub aws: LocalAws,
    /// The zone's bare id (`Z…`, random per server), as the CLI prints it.
    pub zone_id: String,
}

impl Cloud {
    /// Starts moto handing out `vm_ip` as every public address, and creates [`ZONE`].
    pub fn start(vm_ip: Ipv4Addr) -> Cloud {
        let aws =
            LocalAws::start_with(vm_ip).expect("moto starts (run .ci/install if it is missing)");
        let zone = aws.create_zone(ZONE).expect("create the hosted zone");
        Cloud {
            zone_id: zone.trim_start_matches("/hostedzone/").to_string(),
            aws,
        }
    }

    /// moto's endpoint, for `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        self.aws.moto.endpoint()
    }

    /// What exists in moto now (record sets of [`ZONE`]).
    pub fn counts(&self) -> Counts {
        let counts = self.aws.counts(&self.zone_id);
        self.must("counting moto's resources", counts)
    }

    /// Live EC2 resources carrying both carto tags for `env`, as (kind, id), sorted.
    pub fn managed(&self, env: &str) -> Vec<(&'static str, String)> {
        let mut found = self.must("listing tagged resources", self.aws.managed(env));
        found.sort();
        found
    }

    /// `result`'s value, or a panic naming `what` with moto's log.
    pub fn must<T>(&self, what: &str, result: std::io::Result<T>) -> T {
        result.unwrap_or_else(|e| panic!("{what}: {e}\n{}", self.aws.moto.log_text()))
    }
}

/// Every file under `dir` (recursively) with its contents, lossily as text.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}

/// Compares `actual` with `tests/it/golden/NAME`, or rewrites it with CARTO_UPDATE_GOLDEN=1.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/golden")
        .join(name);
    if std::env::var_os("CARTO_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("golden dir")).expect("mkdir golden");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (CARTO_UPDATE_GOLDEN=1 writes it)", path.display()));
    assert!(
        expected == actual,
        "{} differs (CARTO_UPDATE_GOLDEN=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}
