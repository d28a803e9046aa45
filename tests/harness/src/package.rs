//! A CARTO installation package of our own making for tests: customer.env with embedded
//! Postgres/Redis and a recognisable secret, and a service-account-shaped key.json whose key
//! is fake. Tests assert the secrets never show up where they must not ([`assert_no_secret`]).

use std::io;
use std::path::{Path, PathBuf};

/// The admin password written into customer.env: tests grep outputs and files for it.
pub const SECRET_PASSWORD: &str = "pg-admin-Secr3t-48151623";
/// A marker inside key.json's private key: tests grep for it too.
pub const SECRET_KEY_MARKER: &str = "FAKE-PRIVATE-KEY-MATERIAL-42";

/// Writes `customer.env` and `key.json` into `dir` (created) and returns `dir`. `extra` lines
/// (`KEY=VALUE`) are appended to customer.env; `package_version` is its package version.
pub fn write(dir: &Path, package_version: &str, extra: &[&str]) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut env = format!(
        "# customer.env for carto-provision tests (not a real CARTO package)\n\
         SELFHOSTED_TENANT_ID=tenant-test-1\n\
         CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION={package_version}\n\
         # embedded database and cache\n\
         LOCAL_POSTGRES_SCALE=1\n\
         LOCAL_REDIS_SCALE=1\n\
         POSTGRES_ADMIN_PASSWORD={SECRET_PASSWORD}\n"
    );
    for line in extra {
        env.push_str(line);
        env.push('\n');
    }
    std::fs::write(dir.join("customer.env"), env)?;
    let key = serde_json::json!({
        "type": "service_account",
        "project_id": "carto-test-project",
        "private_key_id": "0123456789abcdef",
        "private_key": format!("-----BEGIN PRIVATE KEY-----\n{SECRET_KEY_MARKER}\n-----END PRIVATE KEY-----\n"),
        "client_email": "selfhosted@carto-test-project.iam.gserviceaccount.com",
    });
    std::fs::write(
        dir.join("key.json"),
        serde_json::to_vec_pretty(&key).map_err(io::Error::other)?,
    )?;
    Ok(dir.to_path_buf())
}

/// Panics if `text` (named `what`) holds a secret of the package. The message shows `text`
/// with the secrets masked, so a failing test does not print them either.
pub fn assert_no_secret(what: &str, text: &str) {
    let secrets = [SECRET_PASSWORD, SECRET_KEY_MARKER];
    if secrets.iter().any(|s| text.contains(s)) {
        let masked = secrets
            .iter()
            .fold(text.to_string(), |t, s| t.replace(s, "<SECRET>"));
        panic!("{what} contains a secret:\n{masked}");
    }
}
