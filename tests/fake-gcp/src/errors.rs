//! Errors: `ApiError` is what the fake answers a client with, rendered in Google's JSON error
//! shape (`{"error":{"code","message","status","errors":[{"message","domain","reason"}]}}`);
//! `FakeError` is what starting the fake can fail with.

use serde_json::{Value, json};

/// An error response in Google's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// Human-readable message.
    pub message: String,
    /// The legacy `errors[].reason` (e.g. `notFound`, `alreadyExists`, `invalid`).
    pub reason: &'static str,
}

impl ApiError {
    /// 400 `invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid", message)
    }

    /// 400 for a field whose value the fake refuses (Compute's wording).
    pub fn invalid_field(field: &str, value: &str, why: &str) -> Self {
        Self::invalid(format!(
            "Invalid value for field '{field}': '{value}'. {why}"
        ))
    }

    /// 404 `notFound` for a resource path such as `projects/p/zones/z/instances/i`.
    pub fn not_found(resource: &str) -> Self {
        Self::new(
            404,
            "notFound",
            format!("The resource '{resource}' was not found"),
        )
    }

    /// 409 `alreadyExists` for a resource path.
    pub fn already_exists(resource: &str) -> Self {
        Self::new(
            409,
            "alreadyExists",
            format!("The resource '{resource}' already exists"),
        )
    }

    /// 409 `alreadyExists` in Cloud DNS's wording (`'entity.change.additions[0]' named 'x. (A)'`).
    pub fn already_exists_named(entity: &str, named: &str) -> Self {
        Self::new(
            409,
            "alreadyExists",
            format!("The resource '{entity}' named '{named}' already exists"),
        )
    }

    /// An injected answer: throttling, unavailable, or not ready.
    pub fn injected(code: u16, reason: &'static str) -> Self {
        Self::new(code, reason, format!("{reason} (injected by the fake)"))
    }

    /// Any status and reason.
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
        }
    }

    /// The gRPC-style status word Google puts beside the code.
    pub fn status(&self) -> &'static str {
        match self.code {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            409 => "ALREADY_EXISTS",
            412 => "FAILED_PRECONDITION",
            429 => "RESOURCE_EXHAUSTED",
            501 => "UNIMPLEMENTED",
            503 => "UNAVAILABLE",
            _ => "INTERNAL",
        }
    }

    /// The response body.
    pub fn body(&self) -> Value {
        json!({"error": {
            "code": self.code,
            "message": self.message,
            "status": self.status(),
            "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
        }})
    }
}

/// Starting the fake failed.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    /// A contract file is missing or unreadable.
    #[error(transparent)]
    Contract(#[from] crate::contract::ContractError),
    /// Binding the loopback listener failed.
    #[error("binding the loopback listener: {0}")]
    Bind(#[from] std::io::Error),
    /// The configured bind address is not a loopback address.
    #[error("refusing to listen on {0}: the fake binds loopback addresses only")]
    NotLoopback(std::net::IpAddr),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_has_googles_shape() {
        let body = ApiError::not_found("projects/p/global/firewalls/f").body();
        assert_eq!(body["error"]["code"], 404);
        assert_eq!(body["error"]["status"], "NOT_FOUND");
        assert_eq!(body["error"]["errors"][0]["reason"], "notFound");
        assert_eq!(
            body["error"]["message"],
            "The resource 'projects/p/global/firewalls/f' was not found"
        );
    }
}
