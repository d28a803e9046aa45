//! Authentication as Google's front end does it: every API call must carry an access token the
//! fake's own OAuth 2.0 token endpoint issued (`Authorization: Bearer …`, or the `access_token`
//! / `oauth_token` query parameters); a missing one is a 401 `required`, an unknown one a 401
//! `authError`, both `UNAUTHENTICATED`. Tokens are per fake and per grant.

use crate::errors::ApiError;
use crate::state::{FakeState, State};

/// What a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presented<'a> {
    /// No credential at all.
    Nothing,
    /// A bearer token (header or query parameter).
    Token(&'a str),
}

/// The credential of a request: the `Authorization` header, else `access_token`/`oauth_token`.
pub(crate) fn presented<'a>(
    header: Option<&'a str>,
    query: &'a [(String, String)],
) -> Presented<'a> {
    if let Some(value) = header {
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or("");
        return Presented::Token(token.trim());
    }
    let from_query = query
        .iter()
        .find(|(k, _)| k == "access_token" || k == "oauth_token");
    match from_query {
        Some((_, v)) => Presented::Token(v.as_str()),
        None => Presented::Nothing,
    }
}

/// Accept a token the token endpoint issued; refuse anything else as Google does.
pub(crate) fn check(state: &State, presented: Presented<'_>) -> Result<(), ApiError> {
    match presented {
        Presented::Token(t) if !t.is_empty() && state.tokens.contains(t) => Ok(()),
        Presented::Nothing => Err(ApiError::new(
            401,
            "required",
            "Request is missing required authentication credential. Expected OAuth 2 access \
             token, login cookie or other valid authentication credential.",
        )),
        Presented::Token(_) => Err(ApiError::new(
            401,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, \
             login cookie or other valid authentication credential.",
        )),
    }
}

/// Mint a new access token and remember it as issued.
pub(crate) fn issue(state: &mut State) -> String {
    let token = format!("ya29.fake-gcp-{}", state.next_id());
    state.tokens.insert(token.clone());
    token
}

impl FakeState {
    /// Issue an access token as the token endpoint would (for tests that call the fake
    /// directly instead of signing in).
    pub fn issue_token(&self) -> String {
        issue(&mut self.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_wins_and_query_tokens_count() {
        let q = vec![("access_token".to_string(), "q".to_string())];
        assert_eq!(presented(Some("Bearer h"), &q), Presented::Token("h"));
        assert_eq!(presented(Some("Basic x"), &q), Presented::Token(""));
        assert_eq!(presented(None, &q), Presented::Token("q"));
        assert_eq!(presented(None, &[]), Presented::Nothing);
    }
}
