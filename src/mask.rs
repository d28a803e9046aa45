//! Masking secrets in text we show or save: service log tails, `compose-logs.txt`, error
//! messages. [`Secrets::from_package`] collects the uploaded package's secret values (every
//! non-empty customer.env value whose key contains PASSWORD, SECRET, KEY or TOKEN, and key.json's
//! `private_key` with each of its lines); [`Secrets::mask`] replaces each occurrence by `***`.

use std::path::Path;

use crate::package::CustomerEnv;

/// What a masked secret becomes.
pub const MASK: &str = "***";

/// Key fragments (case-insensitive) that make a customer.env value secret.
const SECRET_KEY_PARTS: &[&str] = &["PASSWORD", "SECRET", "KEY", "TOKEN"];

/// Values shorter than this are not masked line by line inside the private key (a PEM's
/// `-----END…` framing and short base64 tails are not secret on their own).
const MIN_KEY_LINE: usize = 16;

/// The secret values to mask, longest first so a secret containing another is masked whole.
#[derive(Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

/// Never shows the values.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} values)", self.values.len())
    }
}

impl Secrets {
    /// From customer.env's text and key.json's bytes as uploaded. Unparseable input yields
    /// what could be read (an unreadable key.json adds nothing; the package module checked it).
    pub fn from_package(customer_env: &str, key_json: &[u8]) -> Secrets {
        let mut values = Vec::new();
        if let Ok(env) = CustomerEnv::parse(Path::new("customer.env"), customer_env) {
            for (key, value) in env.entries() {
                let upper = key.to_ascii_uppercase();
                if !value.is_empty() && SECRET_KEY_PARTS.iter().any(|p| upper.contains(p)) {
                    values.push(value.to_string());
                }
            }
        }
        let private_key = serde_json::from_slice::<serde_json::Value>(key_json)
            .ok()
            .and_then(|v| v.get("private_key")?.as_str().map(str::to_string));
        if let Some(pk) = private_key.filter(|pk| !pk.is_empty()) {
            values.extend(
                pk.lines()
                    .map(str::trim)
                    .filter(|l| l.len() >= MIN_KEY_LINE && !l.starts_with("-----"))
                    .map(str::to_string),
            );
            // As JSON-escaped in a log that prints the file, and as is.
            values.push(pk.replace('\n', "\\n"));
            values.push(pk);
        }
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Secrets { values }
    }

    /// `text` with every secret value replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = "CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION=2024.1\n\
        WORKSPACE_POSTGRES_PASSWORD=\"pg-Pa55word\"\n\
        SELFHOSTED_ADMIN_PASSWORD=admin-Secret-1\n\
        ENCRYPTION_SECRET_KEY='enc-key-value'\n\
        MAPS_API_V3_JWT_token=tok-abc-123\n\
        EMPTY_PASSWORD=\n\
        # COMMENTED_PASSWORD=not-a-value\n\
        SELFHOSTED_DOMAIN=carto.example.com\n";

    fn key_json() -> Vec<u8> {
        serde_json::json!({
            "type": "service_account",
            "client_email": "sa@p.iam.gserviceaccount.com",
            "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n"
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn secret_looking_values_and_the_private_key_are_masked() {
        let s = Secrets::from_package(ENV, &key_json());
        let log = "db pw pg-Pa55word; admin admin-Secret-1 enc-key-value tok-abc-123\n\
            line MIIEvQIBADANBgkqhkiG9w0BAQEFAASC and BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n\
            domain carto.example.com version 2024.1";
        let masked = s.mask(log);
        for secret in [
            "pg-Pa55word",
            "admin-Secret-1",
            "enc-key-value",
            "tok-abc-123",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
            "BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
        ] {
            assert!(!masked.contains(secret), "{secret} left in {masked}");
        }
        // Not secret: kept, so the log stays useful.
        assert!(masked.contains("carto.example.com") && masked.contains("2024.1"));
        assert_eq!(masked.matches(MASK).count(), 6, "{masked}");
    }

    #[test]
    fn the_whole_private_key_and_its_json_form_are_masked() {
        let s = Secrets::from_package("", &key_json());
        let pk = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n";
        assert_eq!(s.mask(&format!("k={pk}")), "k=***");
        let escaped = pk.replace('\n', "\\n");
        assert_eq!(s.mask(&escaped), "***");
    }

    #[test]
    fn empty_values_and_comments_mask_nothing_and_debug_shows_no_value() {
        let s = Secrets::from_package(ENV, b"not json");
        assert_eq!(s.mask("not-a-value stays"), "not-a-value stays");
        assert_eq!(s.values.len(), 4);
        assert!(!format!("{s:?}").contains("admin-Secret-1"));
    }
}
