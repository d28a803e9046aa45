//! The package's certificate files: the `certs/` folder beside customer.env (the router's TLS
//! certificate and key, a Postgres CA). They are uploaded into the checkout's `certs/` with
//! mode 0600, where the containers see them (`/etc/nginx/ssl/`, `/usr/src/certs/`).
//!
//! Checked before anything is created: plain file names, no key with a passphrase (nginx
//! cannot ask for it), and every certificate customer.env points at is present.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{CustomerEnv, PackageError};

/// One certificate file (its bytes may be a private key: never shown).
#[derive(Clone)]
pub struct CertFile {
    /// File name inside `certs/`.
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for CertFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertFile({}, [REDACTED])", self.name)
    }
}

/// Where each container mounts `certs/`, per customer.env key that names a file in it.
const REFERENCES: &[(&str, &str)] = &[
    ("ROUTER_SSL_CERTIFICATE_PATH", "/etc/nginx/ssl/"),
    ("ROUTER_SSL_CERTIFICATE_KEY_PATH", "/etc/nginx/ssl/"),
    ("WORKSPACE_POSTGRES_SSL_CA", "/usr/src/certs/"),
];

/// Reads every file of `dir` (absent folder: none).
pub fn load(dir: &Path) -> Result<Vec<CertFile>, PackageError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut certs = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| PackageError::Read {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !plain || !path.is_file() {
            return Err(PackageError::BadCert {
                path,
                problem: "is not a plain file named with letters, digits, '.', '_' or '-'",
            });
        }
        let bytes = std::fs::read(&path).map_err(|source| PackageError::Read {
            path: path.clone(),
            source,
        })?;
        if has_passphrase(&bytes) {
            return Err(PackageError::KeyPassphrase { path });
        }
        certs.push(CertFile { name, bytes });
    }
    certs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(certs)
}

fn has_passphrase(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.contains("BEGIN ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED")
}

/// Every certificate customer.env points at must be in `certs/`; a custom router
/// certificate (`ROUTER_SSL_AUTOGENERATE=0`) needs both its paths.
pub fn check_references(
    env: &CustomerEnv,
    certs: &[CertFile],
    certs_dir: Option<&PathBuf>,
) -> Result<(), PackageError> {
    let custom_router = env.get_unquoted("ROUTER_SSL_AUTOGENERATE") == Some("0");
    for (key, mount) in REFERENCES {
        let value = env.get_unquoted(key).filter(|v| !v.is_empty());
        let Some(value) = value else {
            if custom_router && key.starts_with("ROUTER_") {
                return Err(PackageError::MissingCert {
                    key,
                    fix: format!(
                        "set {key}={mount}<file> (ROUTER_SSL_AUTOGENERATE=0 asks for your own certificate)"
                    ),
                });
            }
            continue;
        };
        let name = value.strip_prefix(mount).filter(|n| !n.contains('/'));
        let found = name.is_some_and(|n| certs.iter().any(|c| c.name == n));
        if !found {
            let folder = certs_dir
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "certs/ beside customer.env".into());
            return Err(PackageError::MissingCert {
                key,
                fix: format!(
                    "it must be {mount}<file> with <file> in {folder}: put the file there (pass --package DIR with DIR/certs/)"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(text: &str) -> CustomerEnv {
        CustomerEnv::parse(Path::new("customer.env"), text).unwrap()
    }

    #[test]
    fn loads_plain_files_and_refuses_passphrase_keys() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(&dir.path().join("absent")).unwrap().is_empty());
        std::fs::write(dir.path().join("b.crt"), "CERT").unwrap();
        std::fs::write(
            dir.path().join("a.key"),
            "-----BEGIN PRIVATE KEY-----\nSECRET\n",
        )
        .unwrap();
        let certs = load(dir.path()).unwrap();
        assert_eq!(
            certs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["a.key", "b.crt"]
        );
        assert!(!format!("{certs:?}").contains("SECRET"));
        std::fs::write(
            dir.path().join("c.key"),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("c.key") && err.contains("passphrase") && err.contains("openssl"),
            "{err}"
        );
    }

    #[test]
    fn references_must_point_into_certs() {
        let certs = vec![
            CertFile {
                name: "my.crt".into(),
                bytes: vec![],
            },
            CertFile {
                name: "my.key".into(),
                bytes: vec![],
            },
        ];
        let ok = env(
            "ROUTER_SSL_AUTOGENERATE=0\nROUTER_SSL_CERTIFICATE_PATH=/etc/nginx/ssl/my.crt\nROUTER_SSL_CERTIFICATE_KEY_PATH=/etc/nginx/ssl/my.key\n",
        );
        assert!(check_references(&ok, &certs, None).is_ok());
        assert!(check_references(&env("LOCAL_REDIS_SCALE=1\n"), &[], None).is_ok());
        let missing_key =
            env("ROUTER_SSL_AUTOGENERATE=0\nROUTER_SSL_CERTIFICATE_PATH=/etc/nginx/ssl/my.crt\n");
        let err = check_references(&missing_key, &certs, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ROUTER_SSL_CERTIFICATE_KEY_PATH"), "{err}");
        let absent = env("WORKSPACE_POSTGRES_SSL_CA=/usr/src/certs/ca.pem\n");
        let err = check_references(&absent, &certs, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("WORKSPACE_POSTGRES_SSL_CA") && err.contains("/usr/src/certs/"),
            "{err}"
        );
    }
}
