//! The harness registry: Debian's `docker-registry` serving the stand-in images (built once by
//! `tests/harness/registry/build-images`, cached like the rootfs) read-only over TLS, one per
//! VM, in the VM's services namespace on port 443. The VM resolves the real registry host name
//! [`HOST`] to it and trusts its CA through Docker's `certs.d`, so `docker-compose up -d` pulls
//! the images exactly as it would from CARTO's registry. The access log tells which images a
//! deployment pulled ([`Registry::pulls`]).

use std::fs;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{cache_dir, harness_dir, other_error};

/// The registry host name the stand-in's env.tpl names (CARTO's), resolved by the VM to the
/// harness registry.
pub const HOST: &str = "gcr.io";
/// Where the registry's TLS files and storage live, relative to the built folder.
const TLS_CA: &str = "tls/ca.crt";
/// File in the VM's work dir holding the registry's PID (for the sweep).
pub(crate) const PID_FILE: &str = "registry.pid";
/// The registry's configuration in the VM's work dir (its path is on the command line).
pub(crate) const CONFIG_FILE: &str = "registry.yml";

/// A running registry. Dropping it stops the process by its PID.
pub struct Registry {
    child: Child,
    log: PathBuf,
}

/// Builds the images if they are not cached yet and returns the built folder.
pub fn ensure_images() -> io::Result<PathBuf> {
    let script = harness_dir().join("registry").join("build-images");
    let output = Command::new(&script)
        .arg(cache_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dir = stdout.lines().last().unwrap_or("").trim();
    if !output.status.success() || dir.is_empty() || !Path::new(dir).is_dir() {
        return Err(other_error(format!(
            "{} failed ({}), printed {dir:?}",
            script.display(),
            output.status
        )));
    }
    Ok(PathBuf::from(dir))
}

/// The CA certificate the VM's Docker trusts for [`HOST`].
pub(crate) fn ca_certificate(images: &Path) -> io::Result<Vec<u8>> {
    fs::read(images.join(TLS_CA))
}

impl Registry {
    /// Starts the registry in namespace `netns` on `address:443`, serving `images`, with its
    /// configuration, log and PID file in `workdir`; returns once it listens.
    pub(crate) fn start(
        workdir: &Path,
        netns: &str,
        address: Ipv4Addr,
        images: &Path,
    ) -> io::Result<Registry> {
        let config_path = workdir.join(CONFIG_FILE);
        let config = format!(
            "version: 0.1\n\
             log:\n  level: info\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  \
             maintenance:\n    uploadpurging:\n      enabled: false\n    readonly:\n      enabled: true\n\
             http:\n  addr: {address}:443\n  tls:\n    certificate: {tls}/server.crt\n    key: {tls}/server.key\n",
            storage = images.join("storage").display(),
            tls = images.join("tls").display(),
        );
        fs::write(&config_path, config)?;
        let log = workdir.join("registry.log");
        let out = fs::File::create(&log)?;
        let child = Command::new("ip")
            .args(["netns", "exec", netns, "docker-registry", "serve"])
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        fs::write(workdir.join(PID_FILE), child.id().to_string())?;
        let mut registry = Registry { child, log };
        registry.wait_listening(Duration::from_secs(20))?;
        Ok(registry)
    }

    fn wait_listening(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = fs::read_to_string(&self.log).unwrap_or_default();
            if text.contains("listening on") {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(other_error(format!(
                    "docker-registry exited ({status}) before listening:\n{text}"
                )));
            }
            if Instant::now() >= deadline {
                return Err(other_error(format!(
                    "docker-registry not listening after {timeout:?}:\n{text}"
                )));
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// Every image pulled so far, as `repository:tag`, in order: the manifest requests by tag
    /// (`HEAD` or `GET`) the registry answered 200.
    pub fn pulls(&self) -> io::Result<Vec<String>> {
        Ok(pulls_in(&fs::read_to_string(&self.log)?))
    }
}

/// The pulls in an access log (see [`Registry::pulls`]): lines like
/// `... "HEAD /v2/REPO/manifests/TAG HTTP/1.1" 200 ...`; requests by digest are the same pull's
/// second half and are not counted.
fn pulls_in(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| {
            let (_, request) = line.split_once('"')?;
            let (request, rest) = request.split_once('"')?;
            let mut words = request.split_whitespace();
            let method = words.next()?;
            let path = words.next()?;
            let status = rest.split_whitespace().next()?;
            if !matches!(method, "GET" | "HEAD") || status != "200" {
                return None;
            }
            let (repo, reference) = path.strip_prefix("/v2/")?.split_once("/manifests/")?;
            (!reference.starts_with("sha256:")).then(|| format!("{repo}:{reference}"))
        })
        .collect()
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulls_are_manifest_requests_by_tag() {
        let log = r#"time="x" level=info msg="listening on 198.19.1.1:443, tls"
198.19.1.2 - - [04/Dec/2026:19:57:58 +0000] "HEAD /v2/carto-onprem-artifacts/router/router-http/manifests/2025.11.11 HTTP/1.1" 200 736 "" "docker/20.10"
198.19.1.2 - - [04/Dec/2026:19:57:58 +0000] "GET /v2/carto-onprem-artifacts/router/router-http/manifests/sha256:f0b4 HTTP/1.1" 200 736 "" "docker/20.10"
198.19.1.2 - - [04/Dec/2026:19:57:58 +0000] "GET /v2/carto-onprem-artifacts/nope/manifests/1 HTTP/1.1" 404 96 "" "docker/20.10"
198.19.1.2 - - [04/Dec/2026:19:57:59 +0000] "GET /v2/carto-onprem-artifacts/valkey/manifests/2026.7.16 HTTP/1.1" 200 736 "" "docker/26.1"
"#;
        assert_eq!(
            pulls_in(log),
            [
                "carto-onprem-artifacts/router/router-http:2025.11.11",
                "carto-onprem-artifacts/valkey:2026.7.16"
            ]
        );
    }
}
