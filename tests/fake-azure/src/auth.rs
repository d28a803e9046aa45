//! Credentials: the loopback token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client
//! credentials form) that hands out fake bearer tokens, and the bearer check every ARM call
//! passes (401 `AuthenticationFailed` without a token the fake issued). Client secrets are
//! read only to check they are present; they are never stored or logged.

use serde_json::json;

use crate::errors::ArmError;
use crate::reply::Reply;
use crate::state::FakeState;

/// Whether `path` is the token endpoint (`/{tenant}/oauth2/v2.0/token`).
pub fn is_token_path(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    matches!(segs.as_slice(), [_, "oauth2", "v2.0", "token"])
}

/// Answers a token request.
pub fn token(state: &FakeState, form: &[u8]) -> Reply {
    let fields: Vec<(String, String)> = form_urlencoded::parse(form).into_owned().collect();
    let field = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let bad = |code: &str, desc: String| {
        Reply::json(400, json!({"error": code, "error_description": desc}))
    };
    if field("scope").is_none() {
        return bad(
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'scope'.".into(),
        );
    }
    let grant = field("grant_type").unwrap_or_default();
    let has_secret = field("client_secret").is_some() || field("client_assertion").is_some();
    if grant != "client_credentials" || field("client_id").is_none() || !has_secret {
        return bad(
            "invalid_client",
            "AADSTS7000215: client_credentials grant with client_id and a client secret or assertion is required.".into(),
        );
    }
    Reply::json(
        200,
        json!({
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": state.issue_token(),
        }),
    )
}

/// Checks the `Authorization` header of an ARM call.
pub fn check_bearer(state: &FakeState, header: Option<&str>) -> Result<(), ArmError> {
    let Some(h) = header else {
        return Err(ArmError::new(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let token = h.strip_prefix("Bearer ").unwrap_or_default();
    if state.lock().tokens.contains(token) {
        Ok(())
    } else {
        Err(ArmError::new(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoint_needs_client_credentials() {
        let state = FakeState::new(0, std::net::Ipv4Addr::LOCALHOST);
        let ok = token(
            &state,
            b"grant_type=client_credentials&client_id=a&client_secret=s&scope=x%2F.default",
        );
        assert_eq!(ok.status, 200);
        let t = ok
            .body
            .as_ref()
            .and_then(|b| b["access_token"].as_str())
            .unwrap_or_default();
        assert_eq!(check_bearer(&state, Some(&format!("Bearer {t}"))), Ok(()));
        assert_eq!(check_bearer(&state, None).map_err(|e| e.status), Err(401));
        assert_eq!(
            check_bearer(&state, Some("Bearer nope")).map_err(|e| e.status),
            Err(401)
        );
        let no_secret = token(&state, b"grant_type=client_credentials&client_id=a&scope=x");
        assert_eq!(no_secret.status, 400);
        assert!(is_token_path("/tenant-1/oauth2/v2.0/token"));
        assert!(!is_token_path("/subscriptions/s/oauth2/v2.0/token/x"));
    }
}
