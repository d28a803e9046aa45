//! Helpers for driving the built `carto-provision` binary against moto: [`Cloud`] (the
//! harness's [`LocalAws`] handing out an address the test chooses, with one public hosted
//! zone), [`cli`], the built binary as `carto_harness::cli` runs it (a clean environment, test
//! credentials, a fast retry policy, a temporary state directory), and the flags of a
//! deployment.
//! Reading moto back and the fixture package live in `carto_harness`; this file must not
//! grow its own copies of them.
//!
//! Nothing here talks to anything but 127.0.0.1: moto listens there, and the binary is only
//! ever given moto's endpoint.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

pub use carto_harness::cli::{Cli, Output, wait_or_kill};
use carto_harness::local_aws::{Counts, LocalAws};

/// The zone every test domain lives in.
pub const ZONE: &str = "example.test";
/// The operator range every test passes.
pub const SSH_CIDR: &str = "127.0.0.1/32";

/// The built `carto-provision`, keeping its state in `state_dir`.
pub fn cli(state_dir: &Path) -> Cli {
    Cli::new(Path::new(env!("CARGO_BIN_EXE_carto-provision")), state_dir)
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
