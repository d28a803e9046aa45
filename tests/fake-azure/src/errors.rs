//! ARM error answers: one `ArmError` (HTTP status, ARM error code, message) rendered in ARM's
//! wire shape `{"error":{"code":…,"message":…}}`. Only the shape and the codes live here; which
//! error a request earns is decided by the router, validator and handlers.

use serde_json::{Value, json};

/// An error the fake answers with, in ARM's `CloudError` shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ArmError {
    /// HTTP status code.
    pub status: u16,
    /// ARM error code (`ResourceNotFound`, `InvalidRequestContent`, …).
    pub code: String,
    /// Human message in ARM's style.
    pub message: String,
}

impl ArmError {
    /// Any error.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// 400 `InvalidRequestContent` for a body that breaks the contract.
    pub fn invalid_content(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestContent", message)
    }

    /// 404 for a missing resource group.
    pub fn group_not_found(group: &str) -> Self {
        Self::new(
            404,
            "ResourceGroupNotFound",
            format!("Resource group '{group}' could not be found."),
        )
    }

    /// 404 for a missing resource of the given ARM type.
    pub fn resource_not_found(rtype: &str, name: &str, group: &str) -> Self {
        Self::new(
            404,
            "ResourceNotFound",
            format!(
                "The Resource '{rtype}/{name}' under resource group '{group}' was not found. \
                 For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    /// The JSON body ARM sends with the error.
    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_arm_shape() {
        let e = ArmError::group_not_found("rg1");
        assert_eq!(e.status, 404);
        assert_eq!(e.body()["error"]["code"], "ResourceGroupNotFound");
        assert!(
            e.body()["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("'rg1'"))
        );
    }
}
