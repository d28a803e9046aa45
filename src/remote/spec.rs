//! `RemoteSpec`: what the bootstrap and install step lists are built from.
//!
//! Plain data, already validated by the caller (`crate::spec`), except the upload paths, which
//! `UploadFile::new` checks (relative to the checkout, no `..`). File contents are secrets.

use std::path::PathBuf;

use super::Secret;

/// Where Docker Engine and docker-compose come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerSource {
    /// Docker's own apt repository (docker-ce, compose plugin) plus a `docker-compose` shim.
    Docker,
    /// The distribution's `docker.io` and Compose v2 (`docker-compose-v2` where the
    /// distribution has it, else its `docker-compose`), plus a `docker-compose` shim if needed.
    Distro,
    /// The distribution's `docker.io` and `docker-compose` 1.29 (Compose v1).
    DistroV1,
}

/// A bad upload path.
#[derive(Debug, thiserror::Error)]
#[error(
    "upload path {0:?} must be relative to the carto-selfhosted checkout (like `customer.env` or `certs/x.crt`), without `..`"
)]
pub struct BadUploadPath(pub String);

/// A file of the installation package to put into the checkout.
#[derive(Debug, Clone)]
pub struct UploadFile {
    path: String,
    /// The bytes (never shown).
    pub contents: Secret<Vec<u8>>,
}

impl UploadFile {
    /// `path` is relative to the checkout (`customer.env`, `key.json`, `certs/x.crt`).
    pub fn new(path: &str, contents: Vec<u8>) -> Result<Self, BadUploadPath> {
        let ok = !path.is_empty()
            && !path.starts_with('/')
            && !path.ends_with('/')
            && path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !ok {
            return Err(BadUploadPath(path.to_string()));
        }
        Ok(UploadFile {
            path: path.to_string(),
            contents: Secret::new(contents),
        })
    }

    /// The path relative to the checkout.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Everything the remote steps need.
#[derive(Debug, Clone)]
pub struct RemoteSpec {
    /// The non-root SSH user that runs CARTO.
    pub ssh_user: String,
    /// The domain CARTO answers on.
    pub domain: String,
    /// Where Docker comes from.
    pub docker_source: DockerSource,
    /// Base URL of Docker's apt repository for Ubuntu (only used with `DockerSource::Docker`;
    /// supplied by the caller, this module names no package host).
    pub docker_apt_url: String,
    /// carto-selfhosted repository URL to clone.
    pub selfhosted_repo: String,
    /// The tag to check out; empty while unknown (`plan` before the VM resolved the newest
    /// release; see `install::release`).
    pub selfhosted_version: String,
    /// A local checkout to upload instead of cloning (see `install::source_steps`).
    pub selfhosted_source: Option<PathBuf>,
    /// Files for the checkout (customer.env, key.json, certs/…), uploaded 0600.
    pub files: Vec<UploadFile>,
    /// Absolute path of the checkout on the VM.
    pub checkout_dir: String,
    /// Whether the HTTPS certificate must verify (false for CARTO's default self-signed one).
    pub verify_cert: bool,
}

impl RemoteSpec {
    /// The default checkout directory for `user`: `/home/USER/carto-selfhosted` (`/root/…` for root).
    pub fn default_checkout_dir(user: &str) -> String {
        if user == "root" {
            "/root/carto-selfhosted".to_string()
        } else {
            format!("/home/{user}/carto-selfhosted")
        }
    }

    /// The absolute path on the VM of `rel` inside the checkout.
    pub fn remote_path(&self, rel: &str) -> String {
        format!("{}/{}", self.checkout_dir.trim_end_matches('/'), rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_paths_stay_inside_the_checkout() {
        for good in [
            "customer.env",
            "key.json",
            "certs/x.crt",
            "certs/ca/root.pem",
        ] {
            assert_eq!(
                UploadFile::new(good, vec![]).map(|f| f.path).ok(),
                Some(good.to_string())
            );
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "certs/../../x",
            "certs/",
            "a//b",
            "./x",
        ] {
            assert!(UploadFile::new(bad, vec![]).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn contents_never_show_in_debug() {
        let f = UploadFile::new("key.json", b"PRIVATE KEY".to_vec()).expect("valid");
        assert!(!format!("{f:?}").contains("PRIVATE"));
    }

    #[test]
    fn default_checkout_dirs() {
        assert_eq!(
            RemoteSpec::default_checkout_dir("ubuntu"),
            "/home/ubuntu/carto-selfhosted"
        );
        assert_eq!(
            RemoteSpec::default_checkout_dir("root"),
            "/root/carto-selfhosted"
        );
    }
}
