//! The install step lists: what needs no Docker (carto-selfhosted at the chosen tag, the package
//! files, 0600; [`prepare_steps`]), then `bash install.sh`, `docker-compose up -d` ([`steps`]);
//! then `wait_healthy` (in `install/health.rs`).
//!
//! Pure functions of the `RemoteSpec`, except `tar_source`, which reads a local checkout.
//! Commands that talk to the Docker daemon run as `sg docker -c …` because the SSH session
//! predates the user's docker group membership (see `bootstrap`). File contents only travel
//! through uploads: checks compare a locally computed sha256, never the bytes.

mod health;
pub mod release;
mod verdict;

use std::path::{Path, PathBuf};

use russh::keys::HashAlg;

use crate::remote::{Cmd, Output, RemoteError, RemoteStep, Secret};

pub use crate::compose::ComposeError;
pub use crate::remote::{DockerSource, RemoteSpec, UploadFile};
pub use health::{HealthOptions, wait_healthy};
pub use verdict::{Health, Poll, Rules, judge};

/// Why installing failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A remote step or command failed.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// Docker printed something we could not read.
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// Some services are failing.
    #[error("CARTO services failing: {}: {why}{}{}", .services.join(", "), health::show_logs(.logs), health::show_saved(.saved))]
    Unhealthy {
        /// The failing services.
        services: Vec<String>,
        /// What was seen.
        why: String,
        /// Each failing service's last log lines.
        logs: Vec<(String, Vec<String>)>,
        /// Local folder with `docker-compose ps -a` and `docker-compose logs -t`.
        saved: Option<PathBuf>,
    },
    /// The services did not become ready in time.
    #[error("CARTO services not ready after {waited:?}: {last}{}{}", health::show_logs(.logs), health::show_saved(.saved))]
    Timeout {
        /// How long we waited.
        waited: std::time::Duration,
        /// The last state seen.
        last: String,
        /// The last log lines of the services not ready.
        logs: Vec<(String, Vec<String>)>,
        /// Local folder with `docker-compose ps -a` and `docker-compose logs -t`.
        saved: Option<PathBuf>,
    },
    /// A local file could not be read or written.
    #[error("{what} {}: {source}", .path.display())]
    Local {
        /// What we were doing.
        what: &'static str,
        /// The local path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Exit 0 when the checkout in $1 is at tag $2 and docker-compose.yml has no local edits.
const CHECKOUT_CHECK: &str = r#"git -C "$1" tag --points-at HEAD 2>/dev/null | grep -qxF "$2" &&
git -C "$1" diff --quiet -- docker-compose.yml"#;

/// Clone $1 into $2 (when absent) and check out tag $3; exit 3 on local compose edits.
const CHECKOUT: &str = r#"set -eu
repo="$1"; dir="$2"; tag="$3"
if [ ! -d "$dir/.git" ]; then git clone --quiet -- "$repo" "$dir"; fi
if ! git -C "$dir" diff --quiet -- docker-compose.yml; then
  echo "$dir/docker-compose.yml has local edits (see: git -C $dir diff docker-compose.yml)" >&2
  exit 3
fi
git -C "$dir" fetch --quiet --force --tags origin
git -C "$dir" -c advice.detachedHead=false checkout --quiet "refs/tags/$tag""#;

/// Exit 0 when file $1 has mode 600 and sha256 $2.
const FILE_CHECK: &str = r#"[ "$(stat -c %a "$1" 2>/dev/null)" = 600 ] &&
printf '%s  %s\n' "$2" "$1" | sha256sum --check --status -"#;

/// Exit 0 when $1/.env is mode 0600. install.sh writes .env (every value of customer.env)
/// with the session's umask, as CARTO's does; the step after it tightens it.
const DOT_ENV_CHECK: &str = r#"[ "$(stat -c %a "$1/.env" 2>/dev/null)" = 600 ]"#;

/// Unpack the uploaded tarball $2 into $1, delete it, record its sha256 $3.
const UNPACK_SOURCE: &str = r#"set -eu
mkdir -p "$1"
tar -xf "$2" -C "$1"
rm -f "$2"
echo "$3" > "$1/.carto-provision-source""#;

/// Exit 0 when the checkout $1 was unpacked from the tarball with sha256 $2.
const SOURCE_CHECK: &str = r#"grep -qxF "$2" "$1/.carto-provision-source" 2>/dev/null"#;

/// Local files never sent with an uploaded checkout (they come from the package, 0600).
const SOURCE_EXCLUDES: [&str; 6] = [
    ".git",
    ".env",
    "customer.env",
    "key.json",
    "certs",
    ".carto-provision-source",
];

/// install.sh's verdict: its exit code lies, so success is exit 0 AND no `[ERROR]` line.
pub fn install_judge(out: &Output) -> Result<(), String> {
    let errors: Vec<&str> = out
        .stdout
        .lines()
        .chain(out.stderr.lines())
        .filter(|l| l.contains("[ERROR]"))
        .map(str::trim)
        .collect();
    match (out.exit, errors.is_empty()) {
        (0, true) => Ok(()),
        (0, false) => Err(format!(
            "install.sh exited 0 but reported: {}",
            errors.join(" | ")
        )),
        (n, true) => Err(format!("install.sh exited {n}")),
        (n, false) => Err(format!("install.sh exited {n}: {}", errors.join(" | "))),
    }
}

/// The checkout script's verdict (exit 3 = local edits to docker-compose.yml).
pub fn checkout_judge(out: &Output) -> Result<(), String> {
    match out.exit {
        0 => Ok(()),
        3 => Err("docker-compose.yml in the checkout has local edits; carto-provision will not overwrite them: commit or revert them on the VM, then run again".into()),
        n => Err(format!("git exited {n}")),
    }
}

/// Hex sha256 of `bytes`, computed locally.
pub fn sha256_hex(bytes: &[u8]) -> String {
    HashAlg::Sha256
        .digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A command run in the checkout with the docker group.
pub fn in_checkout(spec: &RemoteSpec, cmd: Cmd) -> Cmd {
    cmd.in_dir(&spec.checkout_dir).in_group("docker")
}

/// What goes on the VM before Docker is needed, in order: carto-selfhosted at its tag and the
/// package files. They run while cloud-init still installs Docker (see `on_vm`). With
/// `selfhosted_source` set there is no checkout step: put `source_step(spec, &tar_source(dir)?)`
/// first instead.
pub fn prepare_steps(spec: &RemoteSpec) -> Vec<RemoteStep> {
    let mut steps = Vec::new();
    if spec.selfhosted_source.is_none() {
        steps.push(checkout(spec));
    }
    steps.extend(spec.files.iter().map(|f| upload(spec, f)));
    steps
}

/// The install steps once Docker is ready, in order: install.sh, .env's mode, compose up.
pub fn steps(spec: &RemoteSpec) -> Vec<RemoteStep> {
    vec![
        RemoteStep::new("run install.sh")
            .run(in_checkout(spec, Cmd::new("bash").arg("install.sh")))
            .judge(install_judge),
        RemoteStep::new("make .env readable by its owner only")
            .check(Cmd::script(DOT_ENV_CHECK).arg(&spec.checkout_dir))
            .run(in_checkout(spec, Cmd::new("chmod").args(["600", ".env"]))),
        RemoteStep::new("start the services").run(in_checkout(
            spec,
            Cmd::new("docker-compose").args(["up", "-d", "--remove-orphans"]),
        )),
    ]
}

/// What `plan` shows for the tag before the VM resolved it (see [`release`]).
pub const UNRESOLVED_TAG: &str = "NEWEST-RELEASE";

fn checkout(spec: &RemoteSpec) -> RemoteStep {
    let tag = if spec.selfhosted_version.is_empty() {
        UNRESOLVED_TAG
    } else {
        spec.selfhosted_version.as_str()
    };
    let name = if spec.selfhosted_version.is_empty() {
        "check out carto-selfhosted at its newest release (git ls-remote --tags on the VM)".into()
    } else {
        format!("check out carto-selfhosted {tag}")
    };
    RemoteStep::new(name)
        .check(Cmd::script(CHECKOUT_CHECK).arg(&spec.checkout_dir).arg(tag))
        .run(
            Cmd::script(CHECKOUT)
                .arg(&spec.selfhosted_repo)
                .arg(&spec.checkout_dir)
                .arg(tag),
        )
        .judge(checkout_judge)
}

fn upload(spec: &RemoteSpec, file: &UploadFile) -> RemoteStep {
    let path = spec.remote_path(file.path());
    let hash = sha256_hex(file.contents.expose());
    let mut step = RemoteStep::new(format!("upload {}", file.path()))
        .check(Cmd::script(FILE_CHECK).arg(&path).arg(hash));
    if let Some((parent, _)) = path.rsplit_once('/')
        && parent != spec.checkout_dir.trim_end_matches('/')
    {
        step = step.run(Cmd::new("mkdir").arg("-p").arg(parent));
    }
    step.upload(path, file.contents.clone(), 0o600)
}

/// The step that replaces the git checkout by a local one (`tar` bytes from `tar_source`).
pub fn source_step(spec: &RemoteSpec, tar: &[u8]) -> RemoteStep {
    let hash = sha256_hex(tar);
    let tarball = format!("{}.source.tar", spec.checkout_dir.trim_end_matches('/'));
    RemoteStep::new("upload the local carto-selfhosted checkout")
        .check(Cmd::script(SOURCE_CHECK).arg(&spec.checkout_dir).arg(&hash))
        .upload(&tarball, Secret::new(tar.to_vec()), 0o600)
        .run(
            Cmd::script(UNPACK_SOURCE)
                .arg(&spec.checkout_dir)
                .arg(&tarball)
                .arg(hash),
        )
}

/// A tar of the local checkout `dir` (without .git, secrets and certs), with stable
/// ordering and ownership so the same tree gives the same bytes.
pub fn tar_source(dir: &Path) -> Result<Vec<u8>, InstallError> {
    let mut cmd = std::process::Command::new("tar");
    cmd.args(["--sort=name", "--owner=0", "--group=0", "--numeric-owner"]);
    for ex in SOURCE_EXCLUDES {
        cmd.arg(format!("--exclude=./{ex}"));
    }
    cmd.arg("-C").arg(dir).args(["-cf", "-", "."]);
    let local = |source| InstallError::Local {
        what: "packing the local checkout",
        path: dir.to_path_buf(),
        source,
    };
    let out = cmd.output().map_err(local)?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(local(std::io::Error::other(format!("tar failed: {msg}"))));
    }
    Ok(out.stdout)
}

#[cfg(test)]
#[path = "install/tests.rs"]
mod tests;

#[cfg(test)]
#[path = "install/script_tests.rs"]
mod script_tests;
