//! Sorting Azure errors into the core [`ErrorKind`]s, by the ARM error CODE (never by message
//! text) and then by HTTP status, keeping the call name (`compute:VirtualMachines_CreateOrUpdate`),
//! the code and the `x-ms-request-id`. Transport failures are transient; credential failures
//! are permission errors.

use azure_core::error::ErrorKind as AzKind;
use carto_core::{CodeTable, ErrorKind, ProviderError, causes};

use crate::send::ArmFailure;

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
