//! The `--domain` value: a validated, lowercase fully qualified host name.
//!
//! This module owns the rules for what a domain may look like (no scheme, path, port or
//! wildcard; labels of `[a-z0-9-]`; at least two labels) and the one-sentence error that names
//! the input and the fix. It does not resolve names or talk to any DNS service.

use std::fmt;

use thiserror::Error;

/// Longest host name DNS allows, without the trailing dot.
const MAX_LEN: usize = 253;
/// Longest single label DNS allows.
const MAX_LABEL: usize = 63;

/// A valid fully qualified domain name, lowercase, without a trailing dot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Domain(String);

/// Why a `--domain` value was refused. Display is one sentence naming the input and the fix.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DomainError {
    /// Empty or blank input.
    #[error(
        "--domain is empty: give the host name CARTO will answer on, such as carto.example.com"
    )]
    Empty,
    /// A scheme, path, port, query or user part was given.
    #[error(
        "--domain {0:?}: give a bare host name such as carto.example.com, without scheme, path or port"
    )]
    NotBare(String),
    /// A wildcard label.
    #[error(
        "--domain {0:?}: wildcards are not supported; give the one host name CARTO will answer on, such as carto.example.com"
    )]
    Wildcard(String),
    /// An IP address instead of a name.
    #[error(
        "--domain {0:?}: give the host name CARTO will answer on, such as carto.example.com, not an IP address"
    )]
    IpAddress(String),
    /// Only one label.
    #[error(
        "--domain {0:?}: give a fully qualified name with at least two labels, such as carto.example.com"
    )]
    SingleLabel(String),
    /// Longer than 253 characters.
    #[error("--domain {0:?}: is longer than {MAX_LEN} characters; choose a shorter host name")]
    TooLong(String),
    /// A label is empty (e.g. `a..b` or a leading dot).
    #[error("--domain {0:?}: has an empty label (two dots in a row or a leading dot); remove it")]
    EmptyLabel(String),
    /// A label is longer than 63 characters.
    #[error(
        "--domain {input:?}: label {label:?} is longer than {MAX_LABEL} characters; shorten it"
    )]
    LabelTooLong {
        /// The whole input.
        input: String,
        /// The offending label.
        label: String,
    },
    /// A label uses a character outside `[a-z0-9-]`.
    #[error(
        "--domain {input:?}: label {label:?} may use only letters, digits and '-'; remove the other characters"
    )]
    BadChar {
        /// The whole input.
        input: String,
        /// The offending label.
        label: String,
    },
    /// A label starts or ends with `-`.
    #[error("--domain {input:?}: label {label:?} must not start or end with '-'; fix that label")]
    Hyphen {
        /// The whole input.
        input: String,
        /// The offending label.
        label: String,
    },
}

impl Domain {
    /// Checks `input` and returns it lowercased without a trailing dot.
    pub fn parse(input: &str) -> Result<Domain, DomainError> {
        let raw = input.to_string();
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(DomainError::Empty);
        }
        if trimmed.contains(['/', ':', '?', '#', '@']) || trimmed != input {
            return Err(DomainError::NotBare(raw));
        }
        if trimmed.contains('*') {
            return Err(DomainError::Wildcard(raw));
        }
        let name = trimmed
            .strip_suffix('.')
            .unwrap_or(trimmed)
            .to_ascii_lowercase();
        if name.len() > MAX_LEN {
            return Err(DomainError::TooLong(raw));
        }
        let labels: Vec<&str> = name.split('.').collect();
        for label in &labels {
            check_label(&raw, label)?;
        }
        if labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(DomainError::IpAddress(raw));
        }
        if labels.len() < 2 {
            return Err(DomainError::SingleLabel(raw));
        }
        Ok(Domain(name))
    }

    /// The domain as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks one label against the DNS host-name rules.
fn check_label(input: &str, label: &str) -> Result<(), DomainError> {
    let err_label = || (input.to_string(), label.to_string());
    if label.is_empty() {
        return Err(DomainError::EmptyLabel(input.to_string()));
    }
    if label.len() > MAX_LABEL {
        let (input, label) = err_label();
        return Err(DomainError::LabelTooLong { input, label });
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        let (input, label) = err_label();
        return Err(DomainError::BadChar { input, label });
    }
    if label.starts_with('-') || label.ends_with('-') {
        let (input, label) = err_label();
        return Err(DomainError::Hyphen { input, label });
    }
    Ok(())
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_good_names() {
        for (input, want) in [
            ("carto.example.com", "carto.example.com"),
            ("Carto.Example.COM", "carto.example.com"),
            ("carto.example.com.", "carto.example.com"),
            ("a.b", "a.b"),
            ("x-1.my-domain.co.uk", "x-1.my-domain.co.uk"),
            ("123.example.com", "123.example.com"),
        ] {
            let d = Domain::parse(input).unwrap_or_else(|e| panic!("{input:?} refused: {e}"));
            assert_eq!(d.as_str(), want);
            assert_eq!(d.to_string(), want);
        }
        let label63 = format!("{}.example.com", "a".repeat(63));
        assert!(Domain::parse(&label63).is_ok());
        // 4 labels of 63 + 3 dots = 255 > 253; 3 labels of 63 + "a" = 193 fine.
        let near = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "b".repeat(61));
        assert_eq!(near.len(), 253);
        assert!(Domain::parse(&near).is_ok());
    }

    fn kind(e: &DomainError) -> &'static str {
        match e {
            DomainError::Empty => "empty",
            DomainError::NotBare(_) => "not-bare",
            DomainError::Wildcard(_) => "wildcard",
            DomainError::IpAddress(_) => "ip-address",
            DomainError::SingleLabel(_) => "single-label",
            DomainError::TooLong(_) => "too-long",
            DomainError::EmptyLabel(_) => "empty-label",
            DomainError::LabelTooLong { .. } => "label-too-long",
            DomainError::BadChar { .. } => "bad-char",
            DomainError::Hyphen { .. } => "hyphen",
        }
    }

    #[test]
    fn rejects_each_rule() {
        let label64 = format!("{}.example.com", "a".repeat(64));
        let too_long = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "b".repeat(62));
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("https://x.com", "not-bare"),
            ("x.com/path", "not-bare"),
            ("x.com:443", "not-bare"),
            ("user@x.com", "not-bare"),
            (" x.com", "not-bare"),
            ("*.example.com", "wildcard"),
            ("192.0.2.1", "ip-address"),
            ("carto.example.123", "ip-address"),
            ("localhost", "single-label"),
            ("localhost.", "single-label"),
            ("a..b", "empty-label"),
            (".a.b", "empty-label"),
            ("a.b..", "empty-label"),
            (&label64, "label-too-long"),
            (&too_long, "too-long"),
            ("car_to.example.com", "bad-char"),
            ("cartó.example.com", "bad-char"),
            ("-carto.example.com", "hyphen"),
            ("carto-.example.com", "hyphen"),
        ];
        for (input, want) in cases {
            let err = Domain::parse(input).expect_err(input);
            assert_eq!(kind(&err), want, "{input:?} gave {err:?}");
            let msg = err.to_string();
            assert!(msg.starts_with("--domain"), "{msg}");
            assert_eq!(msg.lines().count(), 1, "{msg}");
        }
    }

    #[test]
    fn error_names_input_and_fix() {
        let msg = Domain::parse("https://x.com").unwrap_err().to_string();
        assert_eq!(
            msg,
            "--domain \"https://x.com\": give a bare host name such as carto.example.com, without scheme, path or port"
        );
        let msg = Domain::parse("a_b.example.com").unwrap_err().to_string();
        assert!(
            msg.contains("\"a_b\"") && msg.contains("a_b.example.com"),
            "{msg}"
        );
    }
}
