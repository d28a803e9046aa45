//! The one error type that crosses the provider boundary.
//!
//! Each cloud crate sorts its SDK errors into an [`ErrorKind`] by error code (never by
//! message text) in its own `errors.rs`. The pipeline acts on the kind: retry throttling and
//! transient faults, treat not-found as done when deleting, stop on everything else.

use std::fmt;

use crate::input::{Form, Input, InvalidInput};

/// What kind of failure this is, which decides what the caller does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The resource does not exist (delete treats this as success).
    NotFound,
    /// The cloud asked us to slow down; retried with backoff.
    Throttled,
    /// A fault that may pass (5xx, timeout, connection reset, dependency still in use); retried.
    Transient,
    /// Credentials missing, expired or lacking a permission.
    Permission,
    /// A quota or limit was reached.
    Quota,
    /// The user's input cannot work (unknown region, machine type too small, no DNS zone).
    InvalidInput,
    /// The resource exists in a state that conflicts with the request.
    Conflict,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Whether the retry policy should try again.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Transient)
    }
}

/// A provider failure: which call failed, the cloud's error code and request id when there is
/// one, and a message a user can act on. Carries no SDK type.
#[derive(Debug, thiserror::Error)]
pub struct ProviderError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The API call or action, e.g. `ec2:RunInstances`.
    pub call: String,
    /// The cloud's error code, e.g. `InvalidGroup.NotFound`.
    pub code: Option<String>,
    /// The cloud's request id, for support tickets.
    pub request_id: Option<String>,
    /// What happened and, where known, what to do.
    pub message: String,
    /// Which input was refused and why, for [`ErrorKind::InvalidInput`] raised by a check (the
    /// message is then its rendering, see [`ProviderError::name_inputs`]).
    pub input: Option<Box<InvalidInput>>,
}

impl ProviderError {
    /// A new error of `kind` for `call`.
    pub fn new(kind: ErrorKind, call: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            call: call.into(),
            code: None,
            request_id: None,
            message: message.into(),
            input: None,
        }
    }

    /// Input that cannot work, found by `call` (in preflight, before anything is created).
    pub fn invalid(call: impl Into<String>, input: InvalidInput) -> Self {
        let mut e = ProviderError::new(ErrorKind::InvalidInput, call, input.to_string());
        e.input = Some(Box::new(input));
        e
    }

    /// A request the provider cannot serve that names no user input (a state file lacking a
    /// field, a resource kind this cloud does not have): `message` says what is wrong.
    pub fn invalid_input(call: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError::new(ErrorKind::InvalidInput, call, message)
    }

    /// The message of a refused input rendered anew with `name` naming the inputs (the
    /// binary's flags); other errors are returned as they are.
    pub fn name_inputs(mut self, name: &dyn Fn(Input, Form) -> String) -> Self {
        if let Some(input) = &self.input {
            self.message = input.render(name);
        }
        self
    }

    /// A response lacked a field we need.
    pub fn missing_field(call: impl Into<String>, field: &str) -> Self {
        ProviderError::new(
            ErrorKind::Other,
            call,
            format!("the response has no {field}"),
        )
    }

    /// Sets the cloud's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets the cloud's request id.
    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == ErrorKind::InvalidInput {
            return f.write_str(&self.message);
        }
        write!(f, "{}: {}", self.call, self.message)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// Result with a [`ProviderError`].
pub type Result<T, E = ProviderError> = std::result::Result<T, E>;

/// Reads "not found" as absence, which is what lookups and deletions want.
pub trait OrAbsent<T> {
    /// `Ok(Some(v))` on success, `Ok(None)` when the cloud said not found, other errors as they are.
    fn or_absent(self) -> Result<Option<T>>;
}

impl<T> OrAbsent<T> for Result<T> {
    fn or_absent(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// How one cloud's error codes sort into kinds: a list of codes per kind, never message text.
/// What no list holds is sorted by its HTTP status ([`ErrorKind::of_status`]).
pub struct CodeTable {
    /// Slow down and retry.
    pub throttled: &'static [&'static str],
    /// A fault that may pass.
    pub transient: &'static [&'static str],
    /// Credentials or a permission.
    pub permission: &'static [&'static str],
    /// Absent.
    pub not_found: &'static [&'static str],
    /// A quota or limit.
    pub quota: &'static [&'static str],
    /// A state that conflicts with the request.
    pub conflict: &'static [&'static str],
    /// Whether codes compare without regard to case (Resource Manager's do).
    pub ignore_case: bool,
}

impl CodeTable {
    /// The kind of `code`, if one of the lists holds it.
    pub fn kind(&self, code: &str) -> Option<ErrorKind> {
        let same = |c: &&str| {
            if self.ignore_case {
                c.eq_ignore_ascii_case(code)
            } else {
                *c == code
            }
        };
        [
            (self.throttled, ErrorKind::Throttled),
            (self.transient, ErrorKind::Transient),
            (self.permission, ErrorKind::Permission),
            (self.not_found, ErrorKind::NotFound),
            (self.quota, ErrorKind::Quota),
            (self.conflict, ErrorKind::Conflict),
        ]
        .into_iter()
        .find(|(list, _)| list.iter().any(same))
        .map(|(_, kind)| kind)
    }
}

impl ErrorKind {
    /// The kind an HTTP status stands for when no code decided: 429 throttled, 5xx transient,
    /// 401/403 permission, 404 not found, 409 conflict, anything else other.
    pub fn of_status(status: Option<u16>) -> ErrorKind {
        match status {
            Some(429) => ErrorKind::Throttled,
            Some(500..=599) => ErrorKind::Transient,
            Some(401 | 403) => ErrorKind::Permission,
            Some(404) => ErrorKind::NotFound,
            Some(409) => ErrorKind::Conflict,
            _ => ErrorKind::Other,
        }
    }
}

/// `err` and its causes on one line, each said once: `dispatch failure: io error: tcp connect
/// error: Connection refused`.
pub fn causes(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut next = err.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn codes_decide_then_the_status() {
        let table = CodeTable {
            throttled: &["Throttling"],
            transient: &[],
            permission: &["AuthFailure"],
            not_found: &["NotFound"],
            quota: &[],
            conflict: &["InUse"],
            ignore_case: true,
        };
        assert_eq!(table.kind("throttling"), Some(ErrorKind::Throttled));
        assert_eq!(table.kind("InUse"), Some(ErrorKind::Conflict));
        assert_eq!(table.kind("Other"), None);
        assert_eq!(ErrorKind::of_status(Some(503)), ErrorKind::Transient);
        assert_eq!(ErrorKind::of_status(Some(409)), ErrorKind::Conflict);
        assert_eq!(ErrorKind::of_status(None), ErrorKind::Other);
        let io = std::io::Error::other("connection refused");
        assert_eq!(causes(&io), "connection refused");
    }
}
