//! Sorting Azure errors into the core [`ErrorKind`]s, by the ARM error CODE (never by message
//! text) and then by HTTP status, keeping the call name (`compute:VirtualMachines_CreateOrUpdate`),
//! the code and the `x-ms-request-id`. Transport failures are transient; credential failures
//! are permission errors. Also [`ArmFailure`], an error answer as Resource Manager sent it,
//! which the transport's status policy reads and [`sort`] finds again in the SDK's error.

use std::time::Duration;

use azure_core::error::ErrorKind as AzKind;
use azure_core::headers::{HeaderName, Headers};
use carto_core::{CodeTable, ErrorKind, ProviderError, causes};
use serde_json::Value;

/// An error answer from Resource Manager, as the pipeline saw it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ArmFailure {
    /// HTTP status.
    pub status: u16,
    /// ARM error code (`ResourceNotFound`, `TooManyRequests`, …).
    pub code: Option<String>,
    /// ARM error message.
    pub message: String,
    /// `x-ms-request-id`.
    pub request_id: Option<String>,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<Duration>,
}

/// A header's value, if the answer has it.
pub(crate) fn header(h: &Headers, name: &'static str) -> Option<String> {
    h.get_optional_string(&HeaderName::from_static(name))
}

/// `Retry-After`, in whole seconds.
pub(crate) fn retry_after(h: &Headers) -> Option<Duration> {
    header(h, "retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

impl ArmFailure {
    /// Reads an error answer (`{"error": {"code", "message"}}`, or an OAuth error).
    pub fn read(status: u16, h: &Headers, body: &[u8]) -> ArmFailure {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let err = if v["error"].is_object() {
            &v["error"]
        } else {
            &v
        };
        let code = err["code"]
            .as_str()
            .or_else(|| v["error"].as_str())
            .map(str::to_string)
            .or_else(|| header(h, "x-ms-error-code"));
        let message = err["message"]
            .as_str()
            .or_else(|| v["error_description"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("Resource Manager answered HTTP {status}"));
        ArmFailure {
            status,
            code,
            message,
            request_id: header(h, "x-ms-request-id"),
            retry_after: retry_after(h),
        }
    }

    /// This failure as the SDK error that carries it (downcast again by [`sort`]).
    pub(crate) fn into_error(self) -> azure_core::Error {
        let status = azure_core::StatusCode::try_from(self.status)
            .unwrap_or(azure_core::StatusCode::InternalServerError);
        let kind = AzKind::http_response(status, self.code.clone());
        let message = self.message.clone();
        azure_core::Error::full(kind, self, message)
    }
}

/// Codes that mean "slow down".
const THROTTLED: &[&str] = &[
    "TooManyRequests",
    "SubscriptionRequestsThrottled",
    "Throttled",
];

/// Codes of faults that may pass on their own.
const TRANSIENT: &[&str] = &[
    "InternalServerError",
    "ServiceUnavailable",
    "GatewayTimeout",
    "RetryableError",
    "AnotherOperationInProgress",
    "OperationPreempted",
    "InUseSubnetCannotBeDeleted",
];

/// Codes of missing or insufficient credentials or permissions.
const PERMISSION: &[&str] = &[
    "AuthenticationFailed",
    "InvalidAuthenticationToken",
    "InvalidAuthenticationTokenTenant",
    "ExpiredAuthenticationToken",
    "AuthorizationFailed",
    "LinkedAuthorizationFailed",
    "SubscriptionNotRegistered",
    "MissingSubscriptionRegistration",
    "invalid_client",
    "unauthorized_client",
];

/// Codes of "no such thing".
const NOT_FOUND: &[&str] = &[
    "ResourceNotFound",
    "ResourceGroupNotFound",
    "NotFound",
    "SubscriptionNotFound",
    "ParentResourceNotFound",
    "OperationNotFound",
];

/// Codes of quotas and capacity.
const QUOTA: &[&str] = &[
    "QuotaExceeded",
    "OperationNotAllowed",
    "SkuNotAvailable",
    "ZonalAllocationFailed",
    "AllocationFailed",
    "PublicIPCountLimitReached",
];

/// Codes of requests that conflict with the current state.
const CONFLICT: &[&str] = &[
    "Conflict",
    "PropertyChangeNotAllowed",
    "InvalidResourceLocation",
    "PreconditionFailed",
    "InUseNetworkSecurityGroupCannotBeDeleted",
    "PublicIPAddressInUse",
];

/// How ARM's error codes sort (they compare without case).
const CODES: CodeTable = CodeTable {
    throttled: THROTTLED,
    transient: TRANSIENT,
    permission: PERMISSION,
    not_found: NOT_FOUND,
    quota: QUOTA,
    conflict: CONFLICT,
    ignore_case: true,
};

/// The kind for an ARM error code, falling back on the HTTP status.
pub fn kind_for(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    code.and_then(|c| CODES.kind(c))
        .unwrap_or_else(|| ErrorKind::of_status(status))
}

/// Sorts one error of `call` into a [`ProviderError`].
pub fn sort(call: &str, err: &azure_core::Error) -> ProviderError {
    if let Some(f) = err.downcast_ref::<ArmFailure>() {
        let mut e = ProviderError::new(
            kind_for(f.code.as_deref(), Some(f.status)),
            call,
            &f.message,
        )
        .with_request_id(f.request_id.clone());
        if let Some(code) = &f.code {
            e = e.with_code(code);
        }
        return e;
    }
    let (kind, what) = match err.kind() {
        AzKind::Io => (
            ErrorKind::Transient,
            "could not reach Azure Resource Manager",
        ),
        AzKind::Credential => (ErrorKind::Permission, "no Azure credential"),
        AzKind::HttpResponse { status, .. } => (
            kind_for(None, Some(u16::from(*status))),
            "Azure answered an error",
        ),
        AzKind::DataConversion => (ErrorKind::Other, "unreadable answer"),
        _ => (ErrorKind::Other, "the request failed"),
    };
    ProviderError::new(kind, call, format!("{what}: {}", causes(err)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_code_then_status() {
        assert_eq!(
            kind_for(Some("TooManyRequests"), Some(429)),
            ErrorKind::Throttled
        );
        assert_eq!(kind_for(None, Some(429)), ErrorKind::Throttled);
        assert_eq!(
            kind_for(Some("ResourceGroupNotFound"), Some(404)),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind_for(Some("AuthorizationFailed"), Some(403)),
            ErrorKind::Permission
        );
        assert_eq!(kind_for(Some("QuotaExceeded"), Some(409)), ErrorKind::Quota);
        assert_eq!(
            kind_for(Some("PropertyChangeNotAllowed"), Some(409)),
            ErrorKind::Conflict
        );
        assert_eq!(
            kind_for(Some("AnotherOperationInProgress"), Some(409)),
            ErrorKind::Transient
        );
        assert_eq!(kind_for(Some("Whatever"), Some(503)), ErrorKind::Transient);
        assert_eq!(
            kind_for(Some("InvalidRequestContent"), Some(400)),
            ErrorKind::Other
        );
    }

    #[test]
    fn keeps_code_and_request_id() {
        let mut h = azure_core::headers::Headers::new();
        h.insert("x-ms-request-id", "req-1");
        h.insert("retry-after", "7");
        let f = ArmFailure::read(
            429,
            &h,
            br#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
        );
        assert_eq!(f.retry_after, Some(std::time::Duration::from_secs(7)));
        let e = sort("network:X", &azure_core::Error::new(AzKind::Other, f));
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert_eq!(e.code.as_deref(), Some("TooManyRequests"));
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
        assert_eq!(e.message, "slow down");
    }
}
