//! The package's `customer.env`: parsed line by line so it renders back byte for byte.
//!
//! Owns the line rules install.sh relies on (LF endings, no whitespace-only lines, `KEY=VALUE`,
//! `#` comments, empty lines), reading keys, and editing them in place. It refuses to set keys
//! that CARTO's `env.tpl` defines, since env.tpl is appended after customer.env and wins.
//! Values are secrets: errors name keys and line numbers, never a value.

use std::fmt;
use std::path::{Path, PathBuf};

use super::PackageError;

/// customer.env as written, one entry per line; `render` joins them back unchanged.
#[derive(Clone)]
pub struct CustomerEnv {
    path: PathBuf,
    /// `text.split('\n')`: a file ending in a newline has a last, empty element.
    lines: Vec<String>,
}

/// Keys env.tpl sets after customer.env (exact names); `*_DOCKER_IMAGE` is checked apart.
const ENV_TPL_KEYS: &[&str] = &[
    "LOG_LEVEL",
    "DOCKER_REGISTRY_BASE_PATH",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CARTO_SELFHOSTED_VERSION",
];

/// Whether env.tpl owns `key`, so a value set in customer.env would be overridden.
pub fn owned_by_env_tpl(key: &str) -> bool {
    ENV_TPL_KEYS.contains(&key) || key.ends_with("_DOCKER_IMAGE")
}

fn is_key(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The key of an entry line, `None` for comments and empty lines.
fn key_of(line: &str) -> Option<&str> {
    if line.trim_start().starts_with('#') {
        return None;
    }
    line.split_once('=').map(|(k, _)| k)
}

impl CustomerEnv {
    /// Parses `text` read from `path` (the path is used in errors and by [`Self::path`]).
    pub fn parse(path: &Path, text: &str) -> Result<CustomerEnv, PackageError> {
        let path = path.to_path_buf();
        for (i, line) in text.split('\n').enumerate() {
            let n = i + 1;
            if line.contains('\r') {
                return Err(PackageError::Crlf { path, line: n });
            }
            if line.is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if line.trim().is_empty() {
                return Err(PackageError::BlankLine { path, line: n });
            }
            if !key_of(line).is_some_and(is_key) {
                return Err(PackageError::BadLine { path, line: n });
            }
        }
        let lines = text.split('\n').map(str::to_string).collect();
        Ok(CustomerEnv { path, lines })
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The raw value of `key` (quotes kept) from its last line, as docker-compose reads it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.lines
            .iter()
            .rev()
            .find(|l| key_of(l) == Some(key))
            .map(|l| &l[key.len() + 1..])
    }

    /// The value of `key` without surrounding quotes.
    pub fn get_unquoted(&self, key: &str) -> Option<&str> {
        self.get(key).map(unquote)
    }

    /// Sets `key` on every line that defines it, or appends `KEY=VALUE` at the end.
    /// Refuses keys env.tpl owns, names that are not keys, and values with line breaks.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), PackageError> {
        if owned_by_env_tpl(key) {
            return Err(PackageError::OwnedByEnvTpl {
                key: key.to_string(),
            });
        }
        if !is_key(key) || value.contains(['\n', '\r']) {
            return Err(PackageError::BadSetting {
                key: key.to_string(),
            });
        }
        let entry = format!("{key}={value}");
        let mut found = false;
        for line in self.lines.iter_mut().filter(|l| key_of(l) == Some(key)) {
            line.clone_from(&entry);
            found = true;
        }
        if !found {
            match self.lines.last() {
                Some(last) if last.is_empty() => self.lines.insert(self.lines.len() - 1, entry),
                _ => self.lines.extend([entry, String::new()]),
            }
        }
        Ok(())
    }

    /// Every `KEY=value` entry (value unquoted), in file order; comments skipped.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lines
            .iter()
            .filter_map(|l| key_of(l).map(|k| (k, unquote(&l[k.len() + 1..]))))
    }

    /// The file's text, byte for byte as read plus any edits.
    pub fn render(&self) -> String {
        self.lines.join("\n")
    }
}

/// Shows the path and the keys; values are secrets and never shown.
impl fmt::Debug for CustomerEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.lines.iter().filter_map(|l| key_of(l)).collect();
        f.debug_struct("CustomerEnv")
            .field("path", &self.path)
            .field("keys", &keys)
            .field("values", &"[REDACTED]")
            .finish()
    }
}

/// Strips one pair of matching surrounding quotes.
fn unquote(raw: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = raw.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# CARTO Self-Hosted customer package\n\
        SELFHOSTED_TENANT_ID=onp-abc123\n\
        \n\
        CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION=\"2025.9.1\"\n\
        POSTGRES_PASSWORD=SEKRET=with=equals\n\
        #LOCAL_REDIS_SCALE=0\n\
        LOCAL_POSTGRES_SCALE=1\n\
        LOCAL_REDIS_SCALE=1\n";

    fn parse(text: &str) -> Result<CustomerEnv, PackageError> {
        CustomerEnv::parse(Path::new("/pkg/customer.env"), text)
    }

    #[test]
    fn round_trips_byte_for_byte() {
        for text in [
            SAMPLE,
            "",
            "A=1",
            "A=1\n\n\n",
            "# only a comment",
            "  # indented\nA='q'\n",
        ] {
            assert_eq!(parse(text).unwrap().render(), text);
        }
    }

    #[test]
    fn reads_values() {
        let env = parse(SAMPLE).unwrap();
        let version = "CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION";
        assert_eq!(env.get(version), Some("\"2025.9.1\""));
        assert_eq!(env.get_unquoted(version), Some("2025.9.1"));
        assert_eq!(env.get("POSTGRES_PASSWORD"), Some("SEKRET=with=equals"));
        assert_eq!(
            env.get("LOCAL_REDIS_SCALE"),
            Some("1"),
            "commented line ignored"
        );
        assert_eq!(env.get("LOCAL"), None);
        assert_eq!(
            parse("A=1\nA=2\n").unwrap().get("A"),
            Some("2"),
            "last wins"
        );
        assert_eq!(parse("A=''\n").unwrap().get_unquoted("A"), Some(""));
        let shown = format!("{env:?}");
        assert!(
            shown.contains("POSTGRES_PASSWORD") && !shown.contains("SEKRET"),
            "{shown}"
        );
    }

    #[test]
    fn set_replaces_in_place_and_appends() {
        let mut env = parse(SAMPLE).unwrap();
        env.set("LOCAL_POSTGRES_SCALE", "0").unwrap();
        env.set("SELFHOSTED_DOMAIN", "carto.example.com").unwrap();
        let want = SAMPLE.replace("LOCAL_POSTGRES_SCALE=1", "LOCAL_POSTGRES_SCALE=0")
            + "SELFHOSTED_DOMAIN=carto.example.com\n";
        assert_eq!(env.render(), want);
        env.set("SELFHOSTED_DOMAIN", "other.example.com").unwrap();
        assert_eq!(env.render().matches("SELFHOSTED_DOMAIN=").count(), 1);
        let mut bare = parse("A=1").unwrap();
        bare.set("B", "2").unwrap();
        assert_eq!(bare.render(), "A=1\nB=2\n");
        let mut dup = parse("A=1\n# c\nA=2\n").unwrap();
        dup.set("A", "3").unwrap();
        assert_eq!(dup.render(), "A=3\n# c\nA=3\n");
    }

    #[test]
    fn set_refuses_env_tpl_keys_and_bad_input() {
        let mut env = parse(SAMPLE).unwrap();
        for key in [
            "LOG_LEVEL",
            "DOCKER_REGISTRY_BASE_PATH",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "CARTO_SELFHOSTED_VERSION",
            "WORKSPACE_API_DOCKER_IMAGE",
        ] {
            let err = env.set(key, "x").unwrap_err();
            assert!(matches!(err, PackageError::OwnedByEnvTpl { .. }), "{key}");
            assert!(err.to_string().contains(key));
        }
        assert!(matches!(
            env.set("A B", "x"),
            Err(PackageError::BadSetting { .. })
        ));
        assert!(matches!(
            env.set("A", "x\nB=y"),
            Err(PackageError::BadSetting { .. })
        ));
        assert_eq!(env.render(), SAMPLE, "refused edits change nothing");
    }

    #[test]
    fn rejects_bad_lines_with_their_number() {
        let line_of = |text: &str| match parse(text).unwrap_err() {
            e @ (PackageError::Crlf { line, .. }
            | PackageError::BlankLine { line, .. }
            | PackageError::BadLine { line, .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("/pkg/customer.env") && !msg.contains("SEKRET"),
                    "{msg}"
                );
                (line, msg)
            }
            other => panic!("unexpected {other:?}"),
        };
        let (line, msg) = line_of("A=1\r\nB=SEKRET\r\n");
        assert_eq!(line, 1);
        assert!(msg.contains("sed -i 's/\\r$//' customer.env"), "{msg}");
        assert_eq!(line_of("A=1\nB=SEKRET\r\n").0, 2);
        let (line, msg) = line_of("A=1\n\n  \t\nB=2\n");
        assert_eq!(line, 3);
        assert!(msg.contains("whitespace"), "{msg}");
        assert_eq!(line_of("A=1\nSEKRET\n").0, 2);
        assert_eq!(line_of("A=1\nexport B=SEKRET\n").0, 2);
        assert_eq!(line_of("=SEKRET\n").0, 1);
    }
}
