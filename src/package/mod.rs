//! The CARTO installation package (customer.env + key.json), checked before anything is created.
//!
//! `Package::load` reads both files, runs every check install.sh would run later (and the ones
//! where its exit code lies), checks the package against the chosen carto-selfhosted tag, and
//! sets `SELFHOSTED_DOMAIN`. The result holds secrets: its `Debug` redacts them, errors name
//! files, lines and keys but never a value, and [`PackageSummary`] is the only part fit to print.

mod certs;
mod customer_env;
mod key_json;
mod versions;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

pub use certs::CertFile;
pub use customer_env::{CustomerEnv, owned_by_env_tpl};
pub use key_json::KeyJson;
pub use versions::{NotAVersion, SUPPORTED_TAGS, Version, min_version, oldest_min_version};

use crate::domain::Domain;

/// customer.env key holding the package's version.
pub const PACKAGE_VERSION_KEY: &str = "CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION";
const POSTGRES_SCALE: &str = "LOCAL_POSTGRES_SCALE";
const REDIS_SCALE: &str = "LOCAL_REDIS_SCALE";
const ADMIN_PASSWORD: &str = "POSTGRES_ADMIN_PASSWORD";
/// install.sh renames this key to [`ADMIN_PASSWORD`] before using it.
const OLD_ADMIN_PASSWORD: &str = "POSTGRES_PASSWORD";

/// Why the installation package was refused. Display is one sentence naming the input and the
/// fix; no variant carries a customer.env value or key.json content.
#[derive(Debug, Error)]
pub enum PackageError {
    /// A package file does not exist.
    #[error("{} not found: pass it with {flag} (or --package DIR holding customer.env and key.json)", path.display())]
    Missing { path: PathBuf, flag: &'static str },
    /// A package file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// customer.env is not UTF-8 text.
    #[error("{} is not UTF-8 text; use the customer.env from your CARTO installation package", path.display())]
    NotText { path: PathBuf },
    /// CRLF line endings.
    #[error("{} line {line} ends with CRLF; convert the file to LF, e.g. sed -i 's/\\r$//' customer.env", path.display())]
    Crlf { path: PathBuf, line: usize },
    /// A whitespace-only line (install.sh exits 1 on it).
    #[error("{} line {line} holds only whitespace, which install.sh rejects; make it empty or delete it", path.display())]
    BlankLine { path: PathBuf, line: usize },
    /// A line that is not `KEY=VALUE`, a comment or empty.
    #[error("{} line {line} is not KEY=VALUE, a # comment or empty; fix or delete that line", path.display())]
    BadLine { path: PathBuf, line: usize },
    /// A required key is absent.
    #[error("{} has no {key}; use the customer.env from your CARTO installation package, or add {key}=…", path.display())]
    MissingKey { path: PathBuf, key: &'static str },
    /// A required key is empty.
    #[error("{key} in {} is empty; set it (install.sh fails on an empty {key})", path.display())]
    EmptyKey { path: PathBuf, key: &'static str },
    /// A scale key is neither 0 nor 1.
    #[error("{key} in {} must be 1 (run it on the VM) or 0 (use your external service); set it to one of those", path.display())]
    BadScale { path: PathBuf, key: &'static str },
    /// The package version is not a version.
    #[error("{key} in {} is not a version of the form YYYY.M.D; use the customer.env from your CARTO installation package", path.display())]
    BadPackageVersion { path: PathBuf, key: &'static str },
    /// `--selfhosted-version` is not a supported tag.
    #[error(
        "--selfhosted-version {tag:?} is not a supported carto-selfhosted tag; choose one of {SUPPORTED_TAGS}"
    )]
    UnknownTag { tag: String },
    /// The package is older than the tag's MIN_VERSION.
    #[error(
        "{PACKAGE_VERSION_KEY} {package} is older than {min}, the oldest package carto-selfhosted {tag} accepts; ask CARTO for a newer installation package or choose an older --selfhosted-version"
    )]
    TooOld {
        package: Version,
        min: Version,
        tag: Version,
    },
    /// The package is older than every supported tag accepts (no `--selfhosted-version`).
    #[error(
        "{PACKAGE_VERSION_KEY} {package} is older than {min}, the oldest package any supported carto-selfhosted release accepts; ask CARTO for a newer installation package"
    )]
    TooOldForAny { package: Version, min: Version },
    /// A key env.tpl would override was to be set in customer.env.
    #[error(
        "{key} is set by carto-selfhosted's env.tpl, which overrides customer.env; leave it out of customer.env"
    )]
    OwnedByEnvTpl { key: String },
    /// A setting with an invalid key or a line break in its value.
    #[error(
        "cannot set {key:?} in customer.env: keys are letters, digits and '_' and values must be one line"
    )]
    BadSetting { key: String },
    /// key.json has the wrong shape.
    #[error("{} {problem}; use the key.json from your CARTO installation package", path.display())]
    KeyJson { path: PathBuf, problem: String },
    /// A file in the package's certs/ folder is not usable.
    #[error("{} {problem}; keep only certificate and key files in the package's certs/ folder", path.display())]
    BadCert {
        path: PathBuf,
        problem: &'static str,
    },
    /// A private key that needs a passphrase.
    #[error("{} is a private key with a passphrase, which nginx cannot ask for; remove it, e.g. openssl rsa -in {} -out plain.key, and use plain.key", path.display(), path.display())]
    KeyPassphrase { path: PathBuf },
    /// customer.env names a certificate that the package does not hold.
    #[error("{key} in customer.env: {fix}")]
    MissingCert { key: &'static str, fix: String },
}

/// Where the package's two files are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageSource {
    /// customer.env.
    pub customer_env: PathBuf,
    /// key.json.
    pub key_json: PathBuf,
    /// The package's `certs/` folder (certificates and keys), when it has one.
    pub certs: Option<PathBuf>,
}

impl PackageSource {
    /// `dir/customer.env`, `dir/key.json` and `dir/certs/`.
    pub fn from_dir(dir: impl AsRef<Path>) -> PackageSource {
        let dir = dir.as_ref();
        PackageSource {
            customer_env: dir.join("customer.env"),
            key_json: dir.join("key.json"),
            certs: Some(dir.join("certs")),
        }
    }
}

/// A checked installation package, with customer.env already edited for this environment.
#[derive(Clone)]
pub struct Package {
    customer_env: CustomerEnv,
    /// `customer_env` rendered once after the edits.
    env_text: String,
    key_json: KeyJson,
    package_version: Version,
    selfhosted_version: Option<Version>,
    certs: Vec<CertFile>,
}

/// What may be shown about a package: no secret in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageSummary {
    /// `CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION`.
    pub package_version: String,
    /// The carto-selfhosted tag it will be installed with; `None`: the newest release,
    /// resolved on the VM.
    pub selfhosted_version: Option<String>,
    /// `SELFHOSTED_TENANT_ID`, when present.
    pub tenant_id: Option<String>,
    /// The service account of key.json.
    pub client_email: String,
    /// Postgres runs on the VM (`LOCAL_POSTGRES_SCALE=1`).
    pub embedded_postgres: bool,
    /// Redis runs on the VM (`LOCAL_REDIS_SCALE=1`).
    pub embedded_redis: bool,
}

impl Package {
    /// Reads and checks the package for `domain` and the carto-selfhosted tag
    /// `selfhosted_version` (`None`: the newest release, not known before the VM asks the
    /// repository, so the package is held to the oldest minimum of any supported tag and that
    /// release's install.sh checks its own `MIN_VERSION`), and sets `SELFHOSTED_DOMAIN`.
    pub fn load(
        source: &PackageSource,
        domain: &Domain,
        selfhosted_version: Option<&str>,
    ) -> Result<Package, PackageError> {
        let tag = selfhosted_version
            .map(|text| {
                Version::parse(text)
                    .ok()
                    .and_then(|t| min_version(&t).map(|m| (t, m)))
                    .ok_or_else(|| PackageError::UnknownTag {
                        tag: text.to_string(),
                    })
            })
            .transpose()?;
        let env_bytes = read(&source.customer_env, "--customer-env")?;
        let key_bytes = read(&source.key_json, "--key-json")?;
        let text = String::from_utf8(env_bytes).map_err(|_| PackageError::NotText {
            path: source.customer_env.clone(),
        })?;
        let mut customer_env = CustomerEnv::parse(&source.customer_env, &text)?;
        let package_version = check_customer_env(&customer_env)?;
        match &tag {
            Some((tag, min)) if package_version < *min => {
                return Err(PackageError::TooOld {
                    package: package_version,
                    min: min.clone(),
                    tag: tag.clone(),
                });
            }
            None if package_version < oldest_min_version() => {
                return Err(PackageError::TooOldForAny {
                    package: package_version,
                    min: oldest_min_version(),
                });
            }
            _ => {}
        }
        let key_json = KeyJson::parse(&source.key_json, key_bytes)?;
        let certs = match &source.certs {
            Some(dir) => certs::load(dir)?,
            None => Vec::new(),
        };
        certs::check_references(&customer_env, &certs, source.certs.as_ref())?;
        customer_env.set("SELFHOSTED_DOMAIN", domain.as_str())?;
        Ok(Package {
            env_text: customer_env.render(),
            customer_env,
            key_json,
            package_version,
            selfhosted_version: tag.map(|(t, _)| t),
            certs,
        })
    }

    /// The edited customer.env to upload (mode 0600). Secret.
    pub fn customer_env_text(&self) -> &str {
        &self.env_text
    }

    /// key.json's bytes to upload (mode 0600). Secret.
    pub fn key_json_bytes(&self) -> &[u8] {
        self.key_json.bytes()
    }

    /// The files of the package's `certs/` folder, to upload into the checkout's `certs/`.
    pub fn certs(&self) -> &[CertFile] {
        &self.certs
    }

    /// The package's version.
    pub fn package_version(&self) -> &Version {
        &self.package_version
    }

    /// The carto-selfhosted tag it was checked against (`None`: the newest release).
    pub fn selfhosted_version(&self) -> Option<&Version> {
        self.selfhosted_version.as_ref()
    }

    /// Postgres is external (`LOCAL_POSTGRES_SCALE=0`).
    pub fn uses_external_postgres(&self) -> bool {
        self.customer_env.get_unquoted(POSTGRES_SCALE) == Some("0")
    }

    /// Redis is external (`LOCAL_REDIS_SCALE=0`).
    pub fn uses_external_redis(&self) -> bool {
        self.customer_env.get_unquoted(REDIS_SCALE) == Some("0")
    }

    /// The router serves CARTO's default self-signed certificate (`ROUTER_SSL_AUTOGENERATE`
    /// not set to 0), so HTTPS verification cannot check the certificate chain.
    pub fn self_signed_tls(&self) -> bool {
        self.customer_env.get_unquoted("ROUTER_SSL_AUTOGENERATE") != Some("0")
    }

    /// The printable facts about the package.
    pub fn summary(&self) -> PackageSummary {
        PackageSummary {
            package_version: self.package_version.to_string(),
            selfhosted_version: self.selfhosted_version.as_ref().map(Version::to_string),
            tenant_id: self
                .customer_env
                .get_unquoted("SELFHOSTED_TENANT_ID")
                .map(str::to_string),
            client_email: self.key_json.client_email().to_string(),
            embedded_postgres: !self.uses_external_postgres(),
            embedded_redis: !self.uses_external_redis(),
        }
    }
}

impl fmt::Debug for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Package")
            .field("package_version", &self.package_version.to_string())
            .field(
                "selfhosted_version",
                &self.selfhosted_version.as_ref().map(Version::to_string),
            )
            .field("customer_env", &"[REDACTED]")
            .field("key_json", &"[REDACTED]")
            .field("certs", &self.certs)
            .finish()
    }
}

fn read(path: &Path, flag: &'static str) -> Result<Vec<u8>, PackageError> {
    std::fs::read(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => PackageError::Missing {
            path: path.to_path_buf(),
            flag,
        },
        _ => PackageError::Read {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// The required keys, the scales and the package version; returns the version.
fn check_customer_env(env: &CustomerEnv) -> Result<Version, PackageError> {
    let path = || env.path().to_path_buf();
    let required = |key: &'static str| match env.get_unquoted(key) {
        None => Err(PackageError::MissingKey { path: path(), key }),
        Some("") => Err(PackageError::EmptyKey { path: path(), key }),
        Some(v) => Ok(v),
    };
    let version = required(PACKAGE_VERSION_KEY)?;
    for key in [POSTGRES_SCALE, REDIS_SCALE] {
        if !matches!(required(key)?, "0" | "1") {
            return Err(PackageError::BadScale { path: path(), key });
        }
    }
    // External services need their host; install.sh would not notice, the containers would.
    if env.get_unquoted(POSTGRES_SCALE) == Some("0") {
        required("WORKSPACE_POSTGRES_HOST")?;
    }
    if env.get_unquoted(REDIS_SCALE) == Some("0") {
        required("REDIS_HOST")?;
    }
    match env.get_unquoted(ADMIN_PASSWORD) {
        Some(_) => required(ADMIN_PASSWORD)?,
        None if env.get(OLD_ADMIN_PASSWORD).is_some() => required(OLD_ADMIN_PASSWORD)?,
        None => required(ADMIN_PASSWORD)?,
    };
    Version::parse(version).map_err(|_| PackageError::BadPackageVersion {
        path: path(),
        key: PACKAGE_VERSION_KEY,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_ENV: &str = "# customer package\n\
        SELFHOSTED_TENANT_ID=onp-tenant1\n\
        CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION=2026.4.1\n\
        SELFHOSTED_DOMAIN=old.example.com\n\
        \n\
        LOCAL_POSTGRES_SCALE=1\n\
        LOCAL_REDIS_SCALE=1\n\
        POSTGRES_ADMIN_PASSWORD=SEKRET-pw\n\
        CARTO_AUTH0_CLIENT_ID=SEKRET-client\n";

    const GOOD_KEY: &str = r#"{"type":"service_account","project_id":"carto-tnt","private_key":"SEKRET-pk","client_email":"sa@carto-tnt.iam.gserviceaccount.com"}"#;

    fn domain() -> Domain {
        Domain::parse("carto.example.com").unwrap()
    }

    fn write_pkg(dir: &Path, env: &str, key: &str) -> PackageSource {
        std::fs::write(dir.join("customer.env"), env).unwrap();
        std::fs::write(dir.join("key.json"), key).unwrap();
        PackageSource::from_dir(dir)
    }

    fn load(env: &str, key: &str, tag: &str) -> Result<Package, PackageError> {
        let tmp = tempfile::tempdir().unwrap();
        Package::load(&write_pkg(tmp.path(), env, key), &domain(), Some(tag))
    }

    #[test]
    fn certs_folder_is_loaded_and_a_custom_router_certificate_verifies() {
        let tmp = tempfile::tempdir().unwrap();
        let env = format!(
            "{GOOD_ENV}ROUTER_SSL_AUTOGENERATE=0\nROUTER_SSL_CERTIFICATE_PATH=/etc/nginx/ssl/my.crt\nROUTER_SSL_CERTIFICATE_KEY_PATH=/etc/nginx/ssl/my.key\n"
        );
        let source = write_pkg(tmp.path(), &env, GOOD_KEY);
        std::fs::create_dir(tmp.path().join("certs")).unwrap();
        let err = Package::load(&source, &domain(), Some("2025.11.11")).unwrap_err();
        assert!(
            err.to_string().contains("ROUTER_SSL_CERTIFICATE_PATH"),
            "{err}"
        );
        std::fs::write(tmp.path().join("certs/my.crt"), "CERT").unwrap();
        std::fs::write(tmp.path().join("certs/my.key"), "SEKRET-key").unwrap();
        let package = Package::load(&source, &domain(), Some("2025.11.11")).unwrap();
        let names: Vec<&str> = package.certs().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["my.crt", "my.key"]);
        assert!(!package.self_signed_tls());
        assert!(!format!("{package:?}").contains("SEKRET"));
    }

    /// Loads expecting an error; checks it is one line and carries no secret.
    fn refused(env: &str, key: &str, tag: &str) -> PackageError {
        let err = load(env, key, tag).unwrap_err();
        let (msg, dbg) = (err.to_string(), format!("{err:?}"));
        assert!(!msg.contains("SEKRET") && !dbg.contains("SEKRET"), "{dbg}");
        assert_eq!(msg.lines().count(), 1, "{msg}");
        err
    }

    #[test]
    fn loads_a_good_package_and_sets_the_domain() {
        let pkg = load(GOOD_ENV, GOOD_KEY, "2026.7.16").unwrap();
        let want = GOOD_ENV.replace("old.example.com", "carto.example.com");
        assert_eq!(pkg.customer_env_text(), want);
        assert_eq!(pkg.key_json_bytes(), GOOD_KEY.as_bytes());
        assert_eq!(pkg.package_version().to_string(), "2026.4.1");
        assert_eq!(
            pkg.selfhosted_version().map(Version::to_string).as_deref(),
            Some("2026.7.16")
        );
        assert!(!pkg.uses_external_postgres() && !pkg.uses_external_redis());
        let summary = pkg.summary();
        assert_eq!(summary.tenant_id.as_deref(), Some("onp-tenant1"));
        assert_eq!(summary.client_email, "sa@carto-tnt.iam.gserviceaccount.com");
        assert!(summary.embedded_postgres && summary.embedded_redis);
        let shown = format!("{pkg:?} {}", serde_json::to_string(&summary).unwrap());
        assert!(!shown.contains("SEKRET"), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }

    #[test]
    fn external_postgres_and_old_password_key() {
        let env = GOOD_ENV
            .replace("LOCAL_POSTGRES_SCALE=1", "LOCAL_POSTGRES_SCALE=\"0\"")
            .replace("POSTGRES_ADMIN_PASSWORD", "POSTGRES_PASSWORD");
        let err = refused(&env, GOOD_KEY, "2026.4.24");
        let host = "WORKSPACE_POSTGRES_HOST";
        assert!(
            matches!(err, PackageError::MissingKey { key, .. } if key == host),
            "{err:?}"
        );
        let env = format!("{env}WORKSPACE_POSTGRES_HOST=db.internal\n");
        let pkg = load(&env, GOOD_KEY, "2026.4.24").unwrap();
        assert!(pkg.uses_external_postgres());
        assert!(!pkg.summary().embedded_postgres && pkg.summary().embedded_redis);
    }

    #[test]
    fn external_redis_needs_its_host() {
        let env = GOOD_ENV.replace("LOCAL_REDIS_SCALE=1", "LOCAL_REDIS_SCALE=0");
        let err = refused(&env, GOOD_KEY, "2026.7.16");
        assert!(
            matches!(
                err,
                PackageError::MissingKey {
                    key: "REDIS_HOST",
                    ..
                }
            ),
            "{err:?}"
        );
        let pkg = load(
            &format!("{env}REDIS_HOST=cache.internal\n"),
            GOOD_KEY,
            "2026.7.16",
        );
        assert!(pkg.unwrap().uses_external_redis());
    }

    #[test]
    fn missing_files_name_path_and_flag() {
        let tmp = tempfile::tempdir().unwrap();
        let src = PackageSource::from_dir(tmp.path());
        let err = Package::load(&src, &domain(), Some("2026.7.16"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("customer.env not found: pass it with --customer-env"),
            "{err}"
        );
        assert!(err.contains(&tmp.path().display().to_string()) && err.contains("--package"));
        std::fs::write(&src.customer_env, GOOD_ENV).unwrap();
        let err = Package::load(&src, &domain(), Some("2026.7.16"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("key.json not found: pass it with --key-json"),
            "{err}"
        );
    }

    #[test]
    fn each_required_key_is_checked() {
        for (line, key) in [
            (
                "CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION=2026.4.1\n",
                PACKAGE_VERSION_KEY,
            ),
            ("LOCAL_POSTGRES_SCALE=1\n", POSTGRES_SCALE),
            ("LOCAL_REDIS_SCALE=1\n", REDIS_SCALE),
            ("POSTGRES_ADMIN_PASSWORD=SEKRET-pw\n", ADMIN_PASSWORD),
        ] {
            let err = refused(&GOOD_ENV.replace(line, ""), GOOD_KEY, "2026.7.16");
            assert!(
                matches!(err, PackageError::MissingKey { key: k, .. } if k == key),
                "{err:?}"
            );
            assert!(err.to_string().contains(key) && err.to_string().contains("customer.env"));
        }
        let empty_pw = GOOD_ENV.replace("=SEKRET-pw", "=\"\"");
        let err = refused(&empty_pw, GOOD_KEY, "2026.7.16");
        assert!(
            matches!(
                err,
                PackageError::EmptyKey {
                    key: ADMIN_PASSWORD,
                    ..
                }
            ),
            "{err:?}"
        );
        let scale = GOOD_ENV.replace("LOCAL_REDIS_SCALE=1", "LOCAL_REDIS_SCALE=2");
        let err = refused(&scale, GOOD_KEY, "2026.7.16");
        assert!(
            matches!(
                err,
                PackageError::BadScale {
                    key: REDIS_SCALE,
                    ..
                }
            ),
            "{err:?}"
        );
        let version = GOOD_ENV.replace("=2026.4.1", "=SEKRET");
        let err = refused(&version, GOOD_KEY, "2026.7.16");
        assert!(
            matches!(err, PackageError::BadPackageVersion { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn package_older_than_min_version_is_refused() {
        let old = GOOD_ENV.replace("=2026.4.1", "=2025.9.1");
        let err = refused(&old, GOOD_KEY, "2026.4.24");
        assert_eq!(
            err.to_string(),
            "CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION 2025.9.1 is older than 2026.4.1, the oldest package carto-selfhosted 2026.4.24 accepts; ask CARTO for a newer installation package or choose an older --selfhosted-version"
        );
        assert!(load(&old, GOOD_KEY, "2025.11.11-patch1").is_ok());
        assert!(load(&old, GOOD_KEY, "2026.3.10").is_ok());
    }

    #[test]
    fn without_a_tag_the_package_is_held_to_the_oldest_minimum() {
        let tmp = tempfile::tempdir().unwrap();
        let old = GOOD_ENV.replace("=2026.4.1", "=2025.9.1");
        let pkg = Package::load(&write_pkg(tmp.path(), &old, GOOD_KEY), &domain(), None).unwrap();
        assert_eq!(pkg.selfhosted_version(), None);
        assert_eq!(pkg.summary().selfhosted_version, None);
        let older = GOOD_ENV.replace("=2026.4.1", "=2025.8.1");
        let err =
            Package::load(&write_pkg(tmp.path(), &older, GOOD_KEY), &domain(), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION 2025.8.1 is older than 2025.9.1, the oldest package any supported carto-selfhosted release accepts; ask CARTO for a newer installation package"
        );
    }

    #[test]
    fn unknown_tags_are_refused_before_reading_files() {
        for tag in ["2025.9.10", "2026.4.1", "latest", "v2026.7.16", ""] {
            let tmp = tempfile::tempdir().unwrap();
            let src = PackageSource::from_dir(tmp.path()); // no files: the tag is checked first
            let err = Package::load(&src, &domain(), Some(tag)).unwrap_err();
            assert!(
                matches!(err, PackageError::UnknownTag { .. }),
                "{tag}: {err:?}"
            );
            let msg = err.to_string();
            assert!(msg.contains("--selfhosted-version") && msg.contains(SUPPORTED_TAGS));
        }
    }

    #[test]
    fn file_format_errors_reach_the_caller() {
        let crlf = GOOD_ENV.replace('\n', "\r\n");
        assert!(matches!(
            refused(&crlf, GOOD_KEY, "2026.7.16"),
            PackageError::Crlf { line: 1, .. }
        ));
        let blank = GOOD_ENV.replace("\n\n", "\n \n");
        let err = refused(&blank, GOOD_KEY, "2026.7.16");
        assert!(
            matches!(err, PackageError::BlankLine { line: 5, .. }),
            "{err:?}"
        );
        let user_key = GOOD_KEY.replace("service_account", "authorized_user");
        let err = refused(GOOD_ENV, &user_key, "2026.7.16");
        assert!(matches!(err, PackageError::KeyJson { .. }), "{err:?}");
        assert!(err.to_string().contains("key.json"));
        let err = refused(GOOD_ENV, "SEKRET{", "2026.7.16");
        assert!(err.to_string().contains("is not valid JSON"), "{err}");
    }
}
