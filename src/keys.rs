//! The environment's two ed25519 key pairs: the operator's SSH login key and the VM's host key.
//!
//! Both are generated locally at the environment's first run and kept beside the state file
//! (private halves mode 0600), so a resumed run renders the same user-data and pins the same
//! host key. Only public halves and the host key's fingerprint ever reach the state file.

use std::io;
use std::path::Path;

use russh::keys::{Algorithm, HashAlg, PrivateKey, PublicKey, ssh_key::LineEnding};

use crate::state::write_secret_file;

/// Why a key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    /// The key file exists but is not an OpenSSH ed25519 private key.
    #[error(
        "{path} is not an OpenSSH ed25519 private key ({reason}); move it away to make a new one"
    )]
    Invalid { path: String, reason: String },
    /// Key generation failed.
    #[error("generating an ed25519 key failed: {0}")]
    Generate(String),
}

/// The environment's keys.
pub struct EnvKeys {
    /// Login key for SSH into the VM.
    pub ssh: PrivateKey,
    /// The VM's host key, put in its user-data and pinned by the SSH client.
    pub host: PrivateKey,
}

impl EnvKeys {
    /// Loads both keys from `ssh_path` and `host_path`, generating and writing any that are
    /// missing. `comment` labels the keys (the environment name).
    pub fn ensure(ssh_path: &Path, host_path: &Path, comment: &str) -> Result<EnvKeys, KeyError> {
        Ok(EnvKeys {
            ssh: ensure_key(ssh_path, comment)?,
            host: ensure_key(host_path, comment)?,
        })
    }

    /// The login public key in OpenSSH one-line form.
    pub fn ssh_public(&self) -> String {
        openssh_public(self.ssh.public_key())
    }

    /// The host public key in OpenSSH one-line form.
    pub fn host_public(&self) -> String {
        openssh_public(self.host.public_key())
    }

    /// The host private key in OpenSSH PEM form (for the VM's user-data only).
    pub fn host_private_pem(&self) -> String {
        self.host
            .to_openssh(LineEnding::LF)
            .map(|z| z.to_string())
            .unwrap_or_default()
    }

    /// `SHA256:…` fingerprint of the host key, as `ssh-keygen -l` prints it.
    pub fn host_fingerprint(&self) -> String {
        fingerprint(self.host.public_key())
    }
}

/// `SHA256:…` fingerprint of a public key.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

fn openssh_public(key: &PublicKey) -> String {
    key.to_openssh().unwrap_or_default()
}

fn ensure_key(path: &Path, comment: &str) -> Result<PrivateKey, KeyError> {
    if let Some(key) = read_key(path)? {
        return Ok(key);
    }
    let key = generate(comment)?;
    let shown = path.display().to_string();
    let pem = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    write_secret_file(path, pem.as_bytes()).map_err(|source| KeyError::Io {
        path: shown,
        source,
    })?;
    let public = format!("{}\n", openssh_public(key.public_key()));
    let pub_path = public_path(path);
    std::fs::write(&pub_path, public).map_err(|source| KeyError::Io {
        path: pub_path.display().to_string(),
        source,
    })?;
    Ok(key)
}

/// `PATH.pub` beside a private key file.
pub fn public_path(path: &Path) -> std::path::PathBuf {
    path.with_extension(match path.extension() {
        Some(ext) => format!("{}.pub", ext.to_string_lossy()),
        None => "pub".to_string(),
    })
}

fn generate(comment: &str) -> Result<PrivateKey, KeyError> {
    let mut key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    key.set_comment(comment);
    Ok(key)
}

/// The ed25519 private key in `path`, or `None` when there is no such file.
fn read_key(path: &Path) -> Result<Option<PrivateKey>, KeyError> {
    let shown = path.display().to_string();
    let pem = match std::fs::read_to_string(path) {
        Ok(pem) => pem,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(KeyError::Io {
                path: shown,
                source,
            });
        }
    };
    let key = PrivateKey::from_openssh(&pem).map_err(|e| KeyError::Invalid {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    if key.algorithm() != Algorithm::Ed25519 {
        return Err(KeyError::Invalid {
            path: shown,
            reason: format!("it is {}", key.algorithm()),
        });
    }
    Ok(Some(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generates_once_then_reloads_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (ssh, host) = (dir.path().join("env.ssh"), dir.path().join("env.hostkey"));
        let first = EnvKeys::ensure(&ssh, &host, "env").unwrap();
        let again = EnvKeys::ensure(&ssh, &host, "env").unwrap();
        assert_eq!(first.ssh_public(), again.ssh_public());
        assert_eq!(first.host_fingerprint(), again.host_fingerprint());
        assert_ne!(first.ssh_public(), first.host_public());
        assert!(first.ssh_public().starts_with("ssh-ed25519 "));
        assert!(first.host_fingerprint().starts_with("SHA256:"));
        for p in [&ssh, &host] {
            assert_eq!(
                std::fs::metadata(p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let public = std::fs::read_to_string(dir.path().join("env.ssh.pub")).unwrap();
        assert_eq!(public.trim_end(), first.ssh_public());
    }

    #[test]
    fn refuses_a_file_that_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let ssh = dir.path().join("env.ssh");
        std::fs::write(&ssh, "not a key").unwrap();
        let err = EnvKeys::ensure(&ssh, &dir.path().join("h"), "env")
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("is not an OpenSSH ed25519 private key"),
            "{err}"
        );
    }
}
