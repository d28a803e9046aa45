//! The package's `key.json`: a GCP service-account key that lets the VM reach CARTO's services.
//!
//! Owns the shape check (JSON object, `type` = `service_account`, non-empty `client_email` and
//! `private_key`) and keeps the raw bytes for upload. Nothing here ever prints the file's
//! content: errors describe what is wrong with it, and `Debug` shows `[REDACTED]`.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::PackageError;

/// A checked service-account key; holds the file's bytes unchanged.
#[derive(Clone)]
pub struct KeyJson {
    bytes: Vec<u8>,
    client_email: String,
    project_id: Option<String>,
}

impl KeyJson {
    /// Checks `bytes` read from `path` (the path is only used in errors).
    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<KeyJson, PackageError> {
        let problem = |what: &str| PackageError::KeyJson {
            path: path.to_path_buf(),
            problem: what.to_string(),
        };
        // serde_json's messages can quote the input, so only its position is reported.
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            problem(&format!(
                "is not valid JSON (error at line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(map) = value else {
            return Err(problem("is not a JSON object"));
        };
        let text = |key: &str| {
            map.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        match map.get("type").and_then(Value::as_str) {
            Some("service_account") => {}
            Some(_) => return Err(problem("has a \"type\" other than \"service_account\"")),
            None => return Err(problem("has no \"type\" field")),
        }
        let client_email = text("client_email")
            .ok_or_else(|| problem("has no non-empty \"client_email\" field"))?
            .to_string();
        text("private_key").ok_or_else(|| problem("has no non-empty \"private_key\" field"))?;
        let project_id = text("project_id").map(str::to_string);
        Ok(KeyJson {
            bytes,
            client_email,
            project_id,
        })
    }

    /// The service account's e-mail address (not a secret).
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The key's GCP project, when given.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// The file's bytes, unchanged, for upload (mode 0600).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for KeyJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "-----BEGIN PRIVATE KEY-----\\nSEKRET123\\n-----END PRIVATE KEY-----\\n";

    fn key(ty: &str, email: &str, private_key: &str) -> Vec<u8> {
        format!(
            r#"{{"type":"{ty}","project_id":"carto-tnt","private_key_id":"abc","private_key":"{private_key}","client_email":"{email}"}}"#
        )
        .into_bytes()
    }

    fn err(bytes: &[u8]) -> String {
        let e = KeyJson::parse(Path::new("/pkg/key.json"), bytes.to_vec()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("/pkg/key.json"), "{msg}");
        assert!(
            !msg.contains("SEKRET") && !format!("{e:?}").contains("SEKRET"),
            "{msg}"
        );
        msg
    }

    #[test]
    fn accepts_a_service_account_key() {
        let bytes = key(
            "service_account",
            "sa@carto-tnt.iam.gserviceaccount.com",
            SECRET,
        );
        let k = KeyJson::parse(Path::new("key.json"), bytes.clone()).unwrap();
        assert_eq!(k.client_email(), "sa@carto-tnt.iam.gserviceaccount.com");
        assert_eq!(k.project_id(), Some("carto-tnt"));
        assert_eq!(k.bytes(), &bytes[..]);
        assert_eq!(format!("{k:?}"), "[REDACTED]");
    }

    #[test]
    fn rejects_bad_shapes_without_printing_content() {
        assert!(err(b"SEKRET not json").contains("is not valid JSON"));
        assert!(err(b"{\"private_key\": \"SEKRET").contains("is not valid JSON"));
        assert!(err(b"[\"SEKRET\"]").contains("is not a JSON object"));
        let user = key("authorized_user", "a@b.c", SECRET);
        assert!(err(&user).contains("other than \"service_account\""));
        let no_pk = br#"{"type":"service_account","client_email":"a@b.c","x":"SEKRET"}"#;
        assert!(err(no_pk).contains("\"private_key\""));
        let empty_pk = key("service_account", "a@b.c", "");
        assert!(err(&empty_pk).contains("\"private_key\""));
        let no_email = key("service_account", "", SECRET);
        assert!(err(&no_email).contains("\"client_email\""));
        assert!(err(br#"{"private_key":"SEKRET"}"#).contains("no \"type\""));
    }
}
