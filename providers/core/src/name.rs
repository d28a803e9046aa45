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

    /// Derives the default environment name from a domain, so that distinct domains never
    /// share a name: a domain of letters, digits and dots that starts with a letter and fits
    /// [`MAX_LEN`] maps dot for dash (`my.domain.com` -> `my-domain-com`; dots and dashes
    /// cannot both occur, so the map is one-to-one). Any other domain (a dash, a leading
    /// digit, too long) gets its readable prefix, `--`, and 8 hex digits of a hash of the whole
    /// domain (`a-b.x.com` -> `a-b-x-com--…`); a plain name never holds `--` (a domain has no
    /// empty label), so the two forms cannot meet.
    pub fn from_domain(domain: &str) -> Result<EnvName, String> {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let plain = domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.')
            && domain.starts_with(|c: char| c.is_ascii_lowercase())
            && domain.len() <= MAX_LEN;
        let mut name: String = domain
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        if plain {
            return EnvName::parse(&name);
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            name.insert_str(0, "env-");
        }
        let suffix = format!("--{:08x}", fnv1a(domain.as_bytes()) as u32);
        name.truncate(MAX_LEN - suffix.len());
        let name = format!("{}{suffix}", name.trim_end_matches('-'));
        EnvName::parse(&name)
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

impl EnvName {
    /// The name earlier versions derived from a domain (every non-alphanumeric character a
    /// dash, so `a-b.x.com` and `a.b.x.com` met), used only to find such an environment's state
    /// file. `None` when it is what [`EnvName::from_domain`] gives now.
    pub fn legacy_from_domain(domain: &str) -> Option<EnvName> {
        let mut name: String = domain
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            name.insert_str(0, "env-");
        }
        name.truncate(MAX_LEN);
        let legacy = EnvName::parse(name.trim_end_matches('-')).ok()?;
        (EnvName::from_domain(domain).ok() != Some(legacy.clone())).then_some(legacy)
    }
}

/// 64-bit FNV-1a: a hash that never changes between versions or machines, so a domain derives
/// the same name on every run.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
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
        let name = |d: &str| EnvName::from_domain(d).unwrap().as_str().to_string();
        assert_eq!(name("my.domain.com"), "my-domain-com");
        assert_eq!(
            name("My.Domain.com."),
            "my-domain-com",
            "same domain, same name"
        );
        let digit = name("9lives.example");
        assert!(digit.starts_with("env-9lives-example--"), "{digit}");
        let long = name(&"a.".repeat(60));
        assert!(long.len() <= MAX_LEN && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn distinct_domains_get_distinct_names() {
        let name = |d: &str| EnvName::from_domain(d).unwrap().as_str().to_string();
        let pairs = [
            ("a-b.x.com", "a.b.x.com"),
            ("env.9lives.example", "9lives.example"),
            (&"a.".repeat(30), &"a.".repeat(31)),
            ("a-b-x-com.deadbeef", "a.b.x.com.deadbeef"),
        ];
        for (a, b) in pairs {
            assert_ne!(name(a), name(b), "{a} and {b} share a name");
        }
        assert_eq!(name("a.b.x.com"), "a-b-x-com");
        assert!(name("a-b.x.com").starts_with("a-b-x-com--"));
        let legacy = |d: &str| EnvName::legacy_from_domain(d).map(|n| n.as_str().to_string());
        assert_eq!(legacy("a-b.x.com").as_deref(), Some("a-b-x-com"));
        assert_eq!(
            legacy("a.b.x.com"),
            None,
            "unchanged names have no legacy form"
        );
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
