//! `carto-provision smoke` across several emulated clouds at once: one package, one stand-in
//! repository per cloud (so a test can break one cloud's install), the smoke run in the
//! background with every cloud's CLI environment merged, and, in one thread per cloud, that
//! cloud's test VM booted from the user-data the CLI sent, as [`crate::deployment`] does for a
//! single deployment. Read-back helpers check the report, the JUnit file and that nothing is
//! left in any cloud. Used by the smoke e2e tests and the `smoke-bench` binary.
//!
//! Smoke passes no per-cloud flags: a cloud's [`LocalCloud::deploy_args`] are handed to the
//! run as the environment variables those flags read ([`FLAG_ENV`]).

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::cli::Cli;
use crate::cloud::LocalCloud;
use crate::vm::{TestVm, Variant, VmOptions};
use crate::{package, selfhosted};

/// How long a cloud may take to create its VM.
const USER_DATA_TIMEOUT: Duration = Duration::from_secs(300);

/// The domain suffix: every emulator serves the zone `test.`.
pub const SUFFIX: &str = "test";

/// A smoke run's fixtures.
pub struct SmokeRun {
    /// A private copy of the `carto-provision` binary, in `dir`.
    pub bin: PathBuf,
    /// The emulated clouds, in `--clouds` order.
    pub clouds: Vec<Box<dyn LocalCloud>>,
    /// `--run-id`.
    pub run_id: String,
    /// Temporary folder: package, repositories, state, reports, captured output.
    pub dir: tempfile::TempDir,
    /// The installation package.
    pub package: PathBuf,
    /// One stand-in bare repository per cloud, same order as `clouds`.
    pub repos: Vec<PathBuf>,
    /// Variables set after every cloud's `cli_env` (e.g. an endpoint through a proxy).
    pub overrides: Vec<(String, String)>,
}

/// How a smoke run ended.
pub struct SmokeOutcome {
    /// Its exit code (-1 when a signal ended it).
    pub code: i32,
    /// Its stdout (the table).
    pub stdout: String,
    /// Its stderr (progress and the final error line).
    pub stderr: String,
    /// `--report`, parsed (`Null` when missing or not JSON).
    pub report: serde_json::Value,
    /// How long it took.
    pub wall: Duration,
    /// The test VMs that booted (kept running until dropped).
    pub vms: Vec<TestVm>,
    /// Why a cloud's VM did not boot, per cloud (`None`: booted).
    pub boot_errors: Vec<Option<String>>,
}

impl SmokeRun {
    /// Fixtures for a run over `clouds` with id `run_id`.
    pub fn new(bin: &Path, clouds: Vec<Box<dyn LocalCloud>>, run_id: &str) -> io::Result<SmokeRun> {
        let mut overrides = Vec::new();
        for c in &clouds {
            overrides.extend(flags_as_env(c.cloud(), &c.deploy_args())?);
        }
        let dir = tempfile::tempdir()?;
        // A private copy: the shared build folder's binary may be rebuilt from another
        // checkout while the run (and the children it starts from its own path) goes on.
        let own_bin = dir.path().join("carto-provision");
        std::fs::copy(bin, &own_bin)?;
        let package = package::write(
            &dir.path().join("package"),
            selfhosted::PACKAGE_VERSION,
            &[],
        )?;
        let repos = clouds
            .iter()
            .map(|c| {
                selfhosted::bare_repo(
                    &dir.path().join(format!("repo-{}", c.cloud())),
                    selfhosted::TEST_TAGS,
                )
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(SmokeRun {
            bin: own_bin,
            clouds,
            run_id: run_id.to_string(),
            dir,
            package,
            repos,
            overrides,
        })
    }

    /// `smoke-<cloud>-<id>` of cloud `i`.
    pub fn env(&self, i: usize) -> String {
        format!("smoke-{}-{}", self.clouds[i].cloud(), self.run_id)
    }

    /// The state folder the run uses.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// `--report`.
    pub fn report_path(&self) -> PathBuf {
        self.dir.path().join("report.json")
    }

    /// `--junit`.
    pub fn junit_path(&self) -> PathBuf {
        self.dir.path().join("junit.xml")
    }

    /// `carto-provision smoke …` over every cloud, with `extra` arguments, not started.
    pub fn command(&self, extra: &[&str]) -> Command {
        let mut cmd = Cli::new(&self.bin, &self.state_dir())
            .envs(self.clouds.iter().flat_map(|c| c.cli_env()))
            .env("CARTO_PROVISION_RETRY_BASE_MS", "50")
            .envs(self.overrides.iter().cloned())
            .into_command();
        let clouds: Vec<&str> = self.clouds.iter().map(|c| c.cloud()).collect();
        cmd.args([
            "smoke",
            "--clouds",
            &clouds.join(","),
            "--domain-suffix",
            SUFFIX,
        ])
        .arg("--package")
        .arg(&self.package)
        .args(["--run-id", &self.run_id])
        .arg("--report")
        .arg(self.report_path())
        .arg("--junit")
        .arg(self.junit_path())
        .args(["--ssh-cidr", "127.0.0.1/32", "--docker-source", "distro-v1"])
        .args(["--selfhosted-repo", "file:///srv/carto-selfhosted.git"])
        .args(["--ssh-timeout", "300", "--healthy-timeout", "600"])
        .args(extra);
        cmd
    }

    /// Runs the smoke to its end while every cloud's VM boots from the user-data it was sent
    /// and gets that cloud's repository. A VM that does not boot stops the run (SIGTERM by
    /// PID), so its destroy still runs; a cloud that never creates its VM (its deployment
    /// failed first) is waited for only until the smoke ends.
    pub fn run(&self, variant: Variant, extra: &[&str]) -> io::Result<SmokeOutcome> {
        let start = Instant::now();
        let mut child = self
            .command(extra)
            .stdout(std::fs::File::create(self.dir.path().join("smoke.out"))?)
            .stderr(std::fs::File::create(self.dir.path().join("smoke.err"))?)
            .spawn()?;
        // The smoke's end (or a VM that cannot boot) ends the waits for user-data.
        let ended = AtomicBool::new(false);
        let boot_failed = AtomicBool::new(false);
        let (booted, status) = std::thread::scope(|s| {
            let handles: Vec<_> = (0..self.clouds.len())
                .map(|i| {
                    let (ended, boot_failed) = (&ended, &boot_failed);
                    s.spawn(move || {
                        let vm = self.boot(i, variant, ended);
                        if vm.is_err() {
                            boot_failed.store(true, Ordering::SeqCst);
                        }
                        vm
                    })
                })
                .collect();
            let mut terminated = false;
            let status = loop {
                match child.try_wait() {
                    Ok(Some(status)) => break Ok(status),
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
                if !terminated && boot_failed.load(Ordering::SeqCst) {
                    terminate(&child);
                    terminated = true;
                }
                std::thread::sleep(Duration::from_millis(200));
            };
            ended.store(true, Ordering::SeqCst);
            let booted: Vec<io::Result<TestVm>> = handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(io::Error::other("boot thread panicked")))
                })
                .collect();
            (booted, status)
        });
        let status = status?;
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        let mut vms = Vec::new();
        let mut boot_errors = Vec::new();
        for b in booted {
            match b {
                Ok(vm) => {
                    vms.push(vm);
                    boot_errors.push(None);
                }
                Err(e) => boot_errors.push(Some(e.to_string())),
            }
        }
        Ok(SmokeOutcome {
            code: status.code().unwrap_or(-1),
            stdout: read("smoke.out"),
            stderr: read("smoke.err"),
            report: serde_json::from_str(&read("report.json")).unwrap_or_default(),
            wall: start.elapsed(),
            vms,
            boot_errors,
        })
    }

    /// Boots cloud `i`'s VM from the user-data the CLI sent (as
    /// [`LocalCloud::boot_from_user_data`] does), giving up once `ended` is set.
    fn boot(&self, i: usize, variant: Variant, ended: &AtomicBool) -> io::Result<TestVm> {
        let (cloud, env) = (&self.clouds[i], self.env(i));
        let deadline = Instant::now() + USER_DATA_TIMEOUT;
        let user_data = loop {
            match cloud.wait_user_data(&env, Duration::from_secs(2)) {
                Ok(user_data) => break user_data,
                Err(e) if ended.load(Ordering::SeqCst) || Instant::now() > deadline => {
                    return Err(e);
                }
                Err(_) => {}
            }
        };
        let vm = TestVm::boot(VmOptions {
            name: format!("vm-{env}"),
            address: cloud.vm_ip(),
            user_data,
            variant,
        })?;
        vm.install_repo(&self.repos[i])?;
        Ok(vm)
    }

    /// What any cloud still has of the run: tagged resources and A records, as
    /// `cloud: what`, plus any state file left (empty when everything is gone).
    pub fn leftovers(&self) -> io::Result<Vec<String>> {
        let mut left = Vec::new();
        for (i, c) in self.clouds.iter().enumerate() {
            for t in c.tagged(&self.env(i))? {
                left.push(format!("{}: {t}", c.cloud()));
            }
            for (name, ip) in c.a_records()? {
                left.push(format!("{}: A {name} {ip}", c.cloud()));
            }
        }
        if let Ok(entries) = std::fs::read_dir(self.state_dir()) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".json") || name.ends_with(".lock") || name.ends_with(".ssh") {
                    left.push(format!("state: {name}"));
                }
            }
        }
        Ok(left)
    }

    /// The JUnit file parsed by Python's XML parser: (root tag, test cases, failures, the
    /// failing test cases' names).
    pub fn junit(&self) -> io::Result<(String, usize, usize, Vec<String>)> {
        let script = "import sys, xml.etree.ElementTree as E\n\
                      r = E.parse(sys.argv[1]).getroot()\n\
                      cases = r.findall('testcase')\n\
                      failed = [c.get('name') for c in cases if c.find('failure') is not None]\n\
                      print(r.tag); print(len(cases)); print(len(failed)); print(','.join(failed))\n";
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(self.junit_path())
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "junit does not parse: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        let num = |i: usize| {
            lines
                .get(i)
                .and_then(|l| l.parse().ok())
                .unwrap_or(usize::MAX)
        };
        let failed = lines
            .get(3)
            .map(|l| {
                l.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        Ok((
            lines.first().unwrap_or(&"").to_string(),
            num(1),
            num(2),
            failed,
        ))
    }
}

/// The variable each per-cloud flag of a `deploy_args` also reads (see `src/cli.rs`).
pub const FLAG_ENV: &[(&str, &str)] = &[
    ("--project", "CLOUDSDK_CORE_PROJECT"),
    ("--subscription", "AZURE_SUBSCRIPTION_ID"),
    ("--region", "CARTO_PROVISION_REGION"),
    ("--zone", "CARTO_PROVISION_ZONE"),
    ("--location", "CARTO_PROVISION_LOCATION"),
];

/// `--flag value` pairs as the environment variables the flags read.
fn flags_as_env(cloud: &str, args: &[String]) -> io::Result<Vec<(String, String)>> {
    args.chunks(2)
        .map(|pair| {
            let var = FLAG_ENV
                .iter()
                .find(|(f, _)| pair.first().map(String::as_str) == Some(*f));
            match (var, pair.get(1)) {
                (Some((_, var)), Some(value)) => Ok((var.to_string(), value.clone())),
                _ => Err(io::Error::other(format!(
                    "{cloud}: the smoke cannot pass {pair:?}: add its variable to FLAG_ENV"
                ))),
            }
        })
        .collect()
}

/// Sends SIGTERM to the smoke process by its PID.
pub fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}
