//! Sorting Google Cloud errors into the core [`ErrorKind`]s, by the API's error reason
//! (`errors[].reason`, e.g. `rateLimitExceeded`, `notFound`) and status, never by message
//! text; also the error a finished operation carries (`error.errors[].code`). Transport
//! failures (timeouts, connection errors) and 5xx answers are transient.

use carto_core::{CodeTable, ErrorKind, ProviderError, causes};
use google_cloud_gax::error::Error;
use google_cloud_gax::error::rpc::{Code, StatusDetails};

/// Reasons (and operation error codes) that mean "slow down".
const THROTTLED: &[&str] = &[
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "RATE_LIMIT_EXCEEDED",
];

/// Reasons of faults that may pass on their own; `resourceNotReady` is an insert into a
/// network another operation is still changing (the firewall rules and the subnetwork are
/// made at once).
const TRANSIENT: &[&str] = &[
    "backendError",
    "internalError",
    "INTERNAL_ERROR",
    "resourceNotReady",
    "RESOURCE_NOT_READY",
];

/// Reasons of missing or insufficient credentials or permissions.
const PERMISSION: &[&str] = &[
    "forbidden",
    "insufficientPermissions",
    "accessNotConfigured",
    "authError",
    "PERMISSION_DENIED",
];

/// Reasons of quotas and capacity limits.
const QUOTA: &[&str] = &[
    "quotaExceeded",
    "QUOTA_EXCEEDED",
    "ZONE_RESOURCE_POOL_EXHAUSTED",
    "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS",
];

/// Reasons of requests that conflict with the current state of a resource.
const CONFLICT: &[&str] = &[
    "alreadyExists",
    "conflict",
    "resourceInUseByAnotherResource",
    "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE",
    "RESOURCE_ALREADY_EXISTS",
    "conditionNotMet",
];

/// Reasons of "no such resource".
const NOT_FOUND: &[&str] = &["notFound", "RESOURCE_NOT_FOUND"];

/// How Google's error reasons sort.
const CODES: CodeTable = CodeTable {
    throttled: THROTTLED,
    transient: TRANSIENT,
    permission: PERMISSION,
    not_found: NOT_FOUND,
    quota: QUOTA,
    conflict: CONFLICT,
    ignore_case: false,
};

/// The kind for an error reason, falling back on the HTTP status when the reason is unknown
/// or absent.
pub fn kind_for(reason: Option<&str>, status: Option<u16>) -> ErrorKind {
    reason
        .and_then(|r| CODES.kind(r))
        .unwrap_or_else(|| ErrorKind::of_status(status))
}

/// The HTTP status a gRPC-style code stands for, when the HTTP status itself is unknown.
fn http_of(code: Code) -> Option<u16> {
    Some(match code {
        Code::NotFound => 404,
        Code::AlreadyExists => 409,
        Code::PermissionDenied => 403,
        Code::Unauthenticated => 401,
        Code::ResourceExhausted => 429,
        Code::Unavailable => 503,
        Code::Internal => 500,
        Code::InvalidArgument => 400,
        _ => return None,
    })
}

/// Sorts one SDK error from `call` (`compute.instances.insert`) into a [`ProviderError`].
pub fn sort(call: &str, err: Error) -> ProviderError {
    if let Some(status) = err.status() {
        let reason = status.details.iter().find_map(|d| match d {
            StatusDetails::ErrorInfo(info) if !info.reason.is_empty() => Some(info.reason.clone()),
            _ => None,
        });
        let http = err.http_status_code().or_else(|| http_of(status.code));
        let message = if status.message.is_empty() {
            format!("the API answered {:?}", status.code)
        } else {
            status.message.clone()
        };
        let e = ProviderError::new(kind_for(reason.as_deref(), http), call, message);
        return match reason.or_else(|| http.map(|h| format!("HTTP {h}"))) {
            Some(code) => e.with_code(code),
            None => e,
        };
    }
    if let Some(http) = err.http_status_code() {
        return ProviderError::new(
            kind_for(None, Some(http)),
            call,
            format!("unreadable answer (HTTP {http})"),
        );
    }
    if err.is_authentication() {
        return ProviderError::new(
            ErrorKind::Permission,
            call,
            format!(
                "no usable Google Cloud credentials: {}; hint: run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS",
                causes(&err)
            ),
        );
    }
    if err.is_timeout() || err.is_io() || err.is_connect() || err.is_transport() {
        return ProviderError::new(
            ErrorKind::Transient,
            call,
            format!("could not reach the Google Cloud API: {}", causes(&err)),
        );
    }
    ProviderError::new(ErrorKind::Other, call, causes(&err))
}

/// The error a finished operation carries (`error.errors[]`, `httpErrorStatusCode`), verbatim.
pub fn operation_failed(
    call: &str,
    name: &str,
    code: Option<&str>,
    message: &str,
    http: Option<u16>,
) -> ProviderError {
    let e = ProviderError::new(
        kind_for(code, http),
        call,
        format!("operation {name} failed: {message}"),
    );
    match code {
        Some(code) => e.with_code(code),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_reason_then_status() {
        assert_eq!(
            kind_for(Some("rateLimitExceeded"), Some(403)),
            ErrorKind::Throttled
        );
        assert_eq!(
            kind_for(Some("rateLimitExceeded"), Some(503)),
            ErrorKind::Throttled
        );
        assert_eq!(kind_for(None, Some(429)), ErrorKind::Throttled);
        assert_eq!(kind_for(None, Some(503)), ErrorKind::Transient);
        assert_eq!(kind_for(Some("notFound"), Some(404)), ErrorKind::NotFound);
        assert_eq!(
            kind_for(Some("alreadyExists"), Some(409)),
            ErrorKind::Conflict
        );
        assert_eq!(
            kind_for(Some("QUOTA_EXCEEDED"), Some(403)),
            ErrorKind::Quota
        );
        assert_eq!(
            kind_for(Some("forbidden"), Some(403)),
            ErrorKind::Permission
        );
        assert_eq!(kind_for(Some("invalid"), Some(400)), ErrorKind::Other);
    }

    #[test]
    fn operation_errors_keep_code_and_message() {
        let e = operation_failed(
            "compute.instances.insert",
            "operation-1",
            Some("QUOTA_EXCEEDED"),
            "Quota 'CPUS' exceeded.",
            Some(403),
        );
        assert_eq!(e.kind, ErrorKind::Quota);
        assert_eq!(e.code.as_deref(), Some("QUOTA_EXCEEDED"));
        assert!(e.to_string().contains("Quota 'CPUS' exceeded."), "{e}");
    }
}
