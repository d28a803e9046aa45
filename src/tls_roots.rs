//! Where the process's TLS clients read the system's root certificates from. Each HTTP client
//! the cloud SDKs build (fifteen for Google Cloud alone, one per API) loads the roots anew, and
//! by default it reads both the system bundle file and every file of the certificate folder
//! (`/etc/ssl/certs`: one file per root, the same roots the bundle holds on Debian and Ubuntu).
//! That reading is most of the start-up time of `plan gcp`. When the user has not chosen the
//! roots themselves (`SSL_CERT_FILE` / `SSL_CERT_DIR`), the process names the system bundle in
//! `SSL_CERT_FILE` so every client reads that one file; a user who keeps roots outside the
//! bundle sets either variable and nothing here changes.

use std::ffi::OsString;
use std::path::PathBuf;

/// The bundle to name in `SSL_CERT_FILE`, or `None` when the user chose (either variable set)
/// or the system has no bundle.
pub fn bundle_to_name(
    cert_file: Option<OsString>,
    cert_dir: Option<OsString>,
    system_bundle: Option<PathBuf>,
) -> Option<PathBuf> {
    if cert_file.is_some() || cert_dir.is_some() {
        return None;
    }
    system_bundle.filter(|p| p.is_file())
}

/// Sets `SSL_CERT_FILE` to the system bundle (see the module doc). Call it first thing in
/// `main`, before any thread exists.
pub fn prefer_bundle() {
    let chosen = bundle_to_name(
        std::env::var_os("SSL_CERT_FILE"),
        std::env::var_os("SSL_CERT_DIR"),
        openssl_probe::probe().cert_file,
    );
    if let Some(bundle) = chosen {
        // SAFETY: called from `main` before the runtime or any other thread starts, so no
        // other thread reads or writes the environment at the same time.
        unsafe { std::env::set_var("SSL_CERT_FILE", bundle) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_choice_wins_and_a_missing_bundle_is_not_named() {
        let tmp = tempfile::tempdir().unwrap();
        let bundle = tmp.path().join("ca-certificates.crt");
        std::fs::write(&bundle, "").unwrap();
        let some = |s: &str| Some(OsString::from(s));
        assert_eq!(
            bundle_to_name(None, None, Some(bundle.clone())),
            Some(bundle.clone())
        );
        assert_eq!(
            bundle_to_name(some("/mine.pem"), None, Some(bundle.clone())),
            None
        );
        assert_eq!(bundle_to_name(None, some("/my/certs"), Some(bundle)), None);
        assert_eq!(
            bundle_to_name(None, None, Some(tmp.path().join("missing.crt"))),
            None
        );
        assert_eq!(bundle_to_name(None, None, None), None);
    }
}
