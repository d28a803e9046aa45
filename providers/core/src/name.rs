//! Environment names and every resource name derived from them.
//!
//! Names are deterministic: one environment name gives the same resource names on every run,
//! so `ensure_*` can find what an earlier, interrupted run created. Nothing here is random.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest environment name accepted: it must fit inside every cloud's resource-name limits
/// once prefixed with `carto-` and suffixed with a resource word (GCP allows 63 characters).
pub const MAX_LEN: usize = 40;

/// A validated environment name: lowercase ASCII letters, digits and `-`, starting with a
/// letter, not ending with `-`, at most [`MAX_LEN`] characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnvName(String);

impl EnvName {
    /// Checks `name` and wraps it; the error is one sentence saying what is wrong.
    pub fn parse(name: &str) -> Result<EnvName, String> {
        let ok_chars = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if name.is_empty() || name.len() > MAX_LEN {
            return Err(format!(
                "environment name {name:?} must be 1 to {MAX_LEN} characters long"
            ));
        }
        if !ok_chars || !name.as_bytes()[0].is_ascii_lowercase() || name.ends_with('-') {
            return Err(format!(
                "environment name {name:?} must use only lowercase letters, digits and '-', start with a letter and not end with '-'"
            ));
        }
        Ok(EnvName(name.to_string()))
    }

    /// Derives the default environment name from a domain: `my.domain.com` -> `my-domain-com`.
    /// Long domains are cut at [`MAX_LEN`] on a character boundary and trailing `-` trimmed.
    pub fn from_domain(domain: &str) -> Result<EnvName, String> {
        let mut name: String = domain
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            name.insert_str(0, "env-");
        }
        name.truncate(MAX_LEN);
        let name = name.trim_end_matches('-');
        EnvName::parse(name)
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The deterministic name of one of this environment's resources, e.g. `carto-my-env-sg`.
    pub fn resource(&self, what: &str) -> String {
        format!("carto-{}-{what}", self.0)
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl TryFrom<String> for EnvName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        EnvName::parse(&s)
    }
}

impl From<EnvName> for String {
    fn from(n: EnvName) -> String {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_from_domain() {
        assert_eq!(
            EnvName::from_domain("my.domain.com").unwrap().as_str(),
            "my-domain-com"
        );
        assert_eq!(
            EnvName::from_domain("9lives.example").unwrap().as_str(),
            "env-9lives-example"
        );
        let long = EnvName::from_domain(&"a.".repeat(60)).unwrap();
        assert!(long.as_str().len() <= MAX_LEN && !long.as_str().ends_with('-'));
    }

    #[test]
    fn rejects_bad_names() {
        for bad in ["", "Upper", "1abc", "abc-", "a_b", &"a".repeat(41)] {
            assert!(EnvName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            EnvName::parse("smoke-aws-1").unwrap().resource("sg"),
            "carto-smoke-aws-1-sg"
        );
    }
}
