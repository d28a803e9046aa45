//! Sorting AWS SDK errors into the core [`ErrorKind`]s, by the service's error CODE (never by
//! message text), keeping the call name (`ec2:RunInstances`), the code and the request id.
//! Transport failures (timeouts, connection errors) and 5xx answers are transient.

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;
use carto_core::{CodeTable, ErrorKind, ProviderError};

/// Codes that mean "slow down".
const THROTTLED: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
    "SlowDown",
];

/// Codes of faults that may pass on their own.
const TRANSIENT: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "InternalServiceError",
    "ServiceUnavailable",
    "Unavailable",
    "RequestTimeout",
    "RequestTimeoutException",
    "RequestExpired",
];

/// Codes of missing or insufficient credentials or permissions.
const PERMISSION: &[&str] = &[
    "AuthFailure",
    "UnauthorizedOperation",
    "AccessDenied",
    "AccessDeniedException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "OptInRequired",
    "Blocked",
];

/// Codes of quotas and capacity limits (besides any code ending in `LimitExceeded`).
const QUOTA: &[&str] = &[
    "InsufficientInstanceCapacity",
    "InsufficientAddressCapacity",
    "TooManyHostedZones",
    "LimitsExceeded",
];

/// Codes of requests that conflict with the current state of a resource.
const CONFLICT: &[&str] = &[
    "DependencyViolation",
    "IncorrectState",
    "IncorrectInstanceState",
    "InvalidChangeBatch",
    "HostedZoneNotEmpty",
    "ConflictingDomainExists",
    "Resource.AlreadyAssociated",
    "InvalidIPAddress.InUse",
];

/// Codes of "no such resource" that do not end in `.NotFound`.
const NOT_FOUND: &[&str] = &[
    "NoSuchHostedZone",
    "NoSuchChange",
    "ParameterNotFound",
    "InvalidParameterValue.NotFound",
];

/// How AWS's error codes sort, besides the suffix families in [`kind_for`].
const CODES: CodeTable = CodeTable {
    throttled: THROTTLED,
    transient: TRANSIENT,
    permission: PERMISSION,
    not_found: NOT_FOUND,
    quota: QUOTA,
    conflict: CONFLICT,
    ignore_case: false,
};

/// The kind for a service error code (a listed code, or a family by suffix: `*.NotFound`,
/// `*LimitExceeded`, `*.Duplicate`), falling back on the HTTP status; a code nothing knows is
/// not taken for a permission, absence or conflict by its status alone.
pub fn kind_for(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    if let Some(code) = code {
        if let Some(kind) = CODES.kind(code) {
            return kind;
        }
        if code.ends_with(".NotFound") || code.ends_with("NotFoundException") {
            return ErrorKind::NotFound;
        }
        if code.ends_with("LimitExceeded") {
            return ErrorKind::Quota;
        }
        if code.ends_with(".Duplicate") {
            return ErrorKind::Conflict;
        }
    }
    match ErrorKind::of_status(status) {
        ErrorKind::Permission | ErrorKind::NotFound | ErrorKind::Conflict if code.is_some() => {
            ErrorKind::Other
        }
        kind => kind,
    }
}

/// Sorts one SDK error from `call` (`ec2:RunInstances`) into a [`ProviderError`].
pub fn sort<E>(call: &str, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let meta = service.err().meta();
            let code = meta.code();
            let status = service.raw().status().as_u16();
            let message = meta
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| format!("the service answered HTTP {status}"));
            let request_id = meta
                .request_id()
                .or_else(|| err.request_id())
                .map(str::to_string);
            let mut e = ProviderError::new(kind_for(code, Some(status)), call, message)
                .with_request_id(request_id);
            if let Some(code) = code {
                e = e.with_code(code);
            }
            e
        }
        SdkError::ResponseError(response) => {
            let status = response.raw().status().as_u16();
            ProviderError::new(
                kind_for(None, Some(status)),
                call,
                format!("unreadable answer (HTTP {status})"),
            )
            .with_request_id(err.request_id().map(str::to_string))
        }
        SdkError::TimeoutError(_) => {
            ProviderError::new(ErrorKind::Transient, call, "the request timed out")
        }
        SdkError::DispatchFailure(failure) => {
            let kind = if failure.is_user() {
                ErrorKind::Other
            } else {
                ErrorKind::Transient
            };
            // The connector's own Display is one word ("io error"): print the whole chain.
            let what = format!("could not reach the AWS API: {}", causes(&err));
            ProviderError::new(kind, call, what)
        }
        _ => ProviderError::new(
            ErrorKind::Other,
            call,
            format!(
                "could not build the request: {}",
                aws_sdk_ec2::error::DisplayErrorContext(&err)
            ),
        ),
    }
}

/// The error's causes on one line, each once, without the SDK's own top line ("dispatch
/// failure"): "io error: tcp connect error: Connection refused".
fn causes(err: &dyn std::error::Error) -> String {
    err.source().map(carto_core::causes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::error::ErrorMetadata;
    use aws_sdk_ec2::operation::run_instances::RunInstancesError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    fn service_error(code: &str, status: u16) -> SdkError<RunInstancesError, HttpResponse> {
        let meta = ErrorMetadata::builder()
            .code(code)
            .message("told by the service")
            .custom("aws_request_id", "req-123")
            .build();
        let raw = Response::new(
            StatusCode::try_from(status).expect("valid status"),
            SdkBody::empty(),
        );
        SdkError::service_error(RunInstancesError::generic(meta), raw)
    }

    fn kind_of(code: &str, status: u16) -> ErrorKind {
        sort("ec2:RunInstances", service_error(code, status)).kind
    }

    #[test]
    fn sorts_by_code_not_message() {
        assert_eq!(kind_of("RequestLimitExceeded", 503), ErrorKind::Throttled);
        assert_eq!(kind_of("Throttling", 400), ErrorKind::Throttled);
        assert_eq!(kind_of("ThrottlingException", 400), ErrorKind::Throttled);
        assert_eq!(
            kind_of("InvalidInstanceID.NotFound", 400),
            ErrorKind::NotFound
        );
        assert_eq!(kind_of("InvalidGroup.NotFound", 400), ErrorKind::NotFound);
        assert_eq!(kind_of("NoSuchHostedZone", 404), ErrorKind::NotFound);
        assert_eq!(kind_of("UnauthorizedOperation", 403), ErrorKind::Permission);
        assert_eq!(kind_of("AuthFailure", 401), ErrorKind::Permission);
        assert_eq!(kind_of("AddressLimitExceeded", 400), ErrorKind::Quota);
        assert_eq!(kind_of("VcpuLimitExceeded", 400), ErrorKind::Quota);
        assert_eq!(kind_of("DependencyViolation", 400), ErrorKind::Conflict);
        assert_eq!(kind_of("InvalidGroup.Duplicate", 400), ErrorKind::Conflict);
        assert_eq!(kind_of("InternalError", 500), ErrorKind::Transient);
        assert_eq!(kind_of("SomethingNew", 503), ErrorKind::Transient);
        assert_eq!(kind_of("InvalidParameterValue", 400), ErrorKind::Other);
    }

    #[test]
    fn keeps_call_code_and_request_id() {
        let e = sort(
            "ec2:RunInstances",
            service_error("UnauthorizedOperation", 403),
        );
        assert_eq!(e.call, "ec2:RunInstances");
        assert_eq!(e.code.as_deref(), Some("UnauthorizedOperation"));
        assert_eq!(e.request_id.as_deref(), Some("req-123"));
        assert_eq!(e.message, "told by the service");
        let shown = e.to_string();
        assert!(
            shown.contains("ec2:RunInstances") && shown.contains("req-123"),
            "{shown}"
        );
    }

    #[test]
    fn transport_failures_are_transient() {
        let timeout: SdkError<RunInstancesError, HttpResponse> =
            SdkError::timeout_error("took too long");
        assert_eq!(sort("ec2:X", timeout).kind, ErrorKind::Transient);
        let raw = Response::new(StatusCode::try_from(502).expect("status"), SdkBody::empty());
        let garbled: SdkError<RunInstancesError, HttpResponse> =
            SdkError::response_error("not xml", raw);
        assert_eq!(sort("ec2:X", garbled).kind, ErrorKind::Transient);
    }
}
