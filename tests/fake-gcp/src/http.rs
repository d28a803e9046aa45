//! The request pipeline: map the path to its discovery method, apply the configured latency and
//! injected faults, check query parameters and body against the contract, run the handler,
//! check the response against the method's response schema, log, and answer JSON.

use crate::auth;
use crate::contract::{Api, Contracts, Matched, Method, percent_decode};
use crate::errors::ApiError;
use crate::route::{self, Call};
use crate::schema::{SchemaError, Validator};
use crate::state::{FakeState, LoggedRequest};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Map, Value};
use std::convert::Infallible;
use std::sync::Arc;

/// What every connection shares.
pub(crate) struct Shared {
    pub contracts: Arc<Contracts>,
    pub state: FakeState,
    pub base: String,
}

/// Serve one request; never fails at the HTTP level.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let http_method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let header = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let query = parse_query(req.uri().query().unwrap_or(""));
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    if http_method == "POST" && path == TOKEN_PATH {
        return Ok(token_answer(&shared, path, query, &body));
    }
    let signed_in = auth::check(
        &shared.state.lock(),
        auth::presented(header.as_deref(), &query),
    );
    let authorized = signed_in.is_ok();
    let routed = shared.contracts.route(&http_method, &path);
    let method_id = routed.as_ref().ok().map(|m| m.method.id.clone());
    let delay = shared.state.lock().latency(method_id.as_deref());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let result = signed_in
        .and(routed.map_err(|known| unrouted(known, &path)))
        .and_then(|m| process(&shared, m, &query, &body));
    let (status, value) = match result {
        Ok(value) => (200, value),
        Err(err) => (err.code, err.body()),
    };
    shared.state.lock().log.push(LoggedRequest {
        http_method,
        path,
        query,
        method_id,
        status,
        body: serde_json::from_slice(&body).ok(),
        authorized,
    });
    Ok(json_response(status, &value))
}

/// Where the fake's OAuth 2.0 token endpoint listens (the `token_uri` of test credentials).
pub const TOKEN_PATH: &str = "/token";
/// The OAuth 2.0 token endpoint: any refresh-token or JWT grant gets a fresh access token,
/// which API calls must then present (see `auth`). The request body (it holds the test
/// credentials' secrets) is not logged.
fn token_answer(
    shared: &Shared,
    path: String,
    query: Vec<(String, String)>,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let grant = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["grant_type"].as_str().map(String::from))
        .or_else(|| {
            parse_query(std::str::from_utf8(body).unwrap_or_default())
                .into_iter()
                .find(|(k, _)| k == "grant_type")
                .map(|(_, v)| v)
        });
    let mut state = shared.state.lock();
    let (status, value) = match grant {
        Some(_) => (
            200,
            serde_json::json!({"access_token": auth::issue(&mut state), "token_type": "Bearer", "expires_in": 3600}),
        ),
        None => (
            400,
            serde_json::json!({"error": "invalid_request", "error_description": "grant_type missing"}),
        ),
    };
    state.log.push(LoggedRequest {
        http_method: "POST".to_string(),
        path,
        query,
        method_id: Some("oauth2.token".to_string()),
        status,
        body: None,
        authorized: false,
    });
    drop(state);
    json_response(status, &value)
}

fn json_response(status: u16, value: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}

fn unrouted(path_known: bool, path: &str) -> ApiError {
    if path_known {
        ApiError::new(405, "httpMethod", format!("Method not allowed for {path}"))
    } else {
        ApiError::new(
            404,
            "notFound",
            format!("The requested URL {path} was not found on this server."),
        )
    }
}

fn process(
    shared: &Shared,
    matched: Matched<'_>,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    let method = matched.method;
    if let Some((code, reason)) = shared.state.lock().take_fault(&method.id) {
        return Err(ApiError::injected(code, reason));
    }
    check_path(method, &matched.path_params)?;
    check_query(&shared.contracts, method, query)?;
    let body = parse_body(&shared.contracts, method, body)?;
    let call = Call {
        method_id: method.id.clone(),
        path_params: matched.path_params,
        query: query.to_vec(),
        body,
        base: shared.base.clone(),
    };
    let value = route::dispatch(&mut shared.state.lock(), &call)?;
    if let Some(schema) = &method.response {
        let validator = Validator::new(shared.contracts.schemas(method.api), None);
        validator
            .check_ref(schema, &value, "response")
            .map_err(|e| {
                let why = format!(
                    "the fake's response to {} breaks the contract: {e}",
                    method.id
                );
                ApiError::new(500, "backendError", why)
            })?;
    }
    Ok(value)
}

/// Check every path variable against its declared `pattern`, `enum` and type.
pub(crate) fn check_path(
    method: &Method,
    path_params: &std::collections::HashMap<String, String>,
) -> Result<(), ApiError> {
    let no_schemas = Map::new();
    let validator = Validator::new(&no_schemas, None);
    for (name, value) in path_params {
        let Some(spec) = method.params.get(name) else {
            continue; // routing binds only declared variables
        };
        validator
            .check(spec, &Value::String(value.clone()), name)
            .map_err(|e| ApiError::invalid(e.to_string()))?;
    }
    Ok(())
}

/// Check every query parameter against the method's and the document's declared parameters.
pub(crate) fn check_query(
    contracts: &Contracts,
    method: &Method,
    query: &[(String, String)],
) -> Result<(), ApiError> {
    let globals = contracts.global_params(method.api);
    let no_schemas = Map::new();
    let validator = Validator::new(&no_schemas, None);
    for (i, (key, value)) in query.iter().enumerate() {
        // Google's client libraries send `$alt=json;enum-encoding=int`.
        if key == "$alt" && value.starts_with("json") {
            continue;
        }
        // ... and the API version they were generated from (`$apiVersion=2026-09-01`),
        // a system parameter like `$alt`.
        if key == "$apiVersion" && is_api_version(value) {
            continue;
        }
        let declared = method.params.get(key).filter(|p| p["location"] == "query");
        let Some(spec) = declared.or_else(|| globals.get(key)) else {
            return Err(ApiError::invalid(format!(
                "Invalid JSON payload received. Unknown name \"{key}\": Cannot bind query parameter. Field '{key}' could not be found in request message."
            )));
        };
        let repeated = spec["repeated"] == Value::Bool(true);
        if !repeated && query[..i].iter().any(|(k, _)| k == key) {
            return Err(ApiError::invalid(format!(
                "Invalid JSON payload received. Duplicate value for query parameter \"{key}\"."
            )));
        }
        let as_json = match (spec["type"].as_str(), value.as_str()) {
            (Some("boolean"), "true") => Value::Bool(true),
            (Some("boolean"), "false") => Value::Bool(false),
            _ => Value::String(value.clone()),
        };
        validator
            .check(spec, &as_json, key)
            .map_err(|e| ApiError::invalid(e.to_string()))?;
    }
    for (name, spec) in &method.params {
        let required = spec["required"] == Value::Bool(true) && spec["location"] == "query";
        if required && !query.iter().any(|(k, _)| k == name) {
            let err = SchemaError::MissingRequired { at: name.clone() };
            return Err(ApiError::invalid(err.to_string()));
        }
    }
    Ok(())
}

/// `YYYY-MM-DD`, the form of `$apiVersion`.
fn is_api_version(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.iter().map(|p| p.len()).eq([4, 2, 2])
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Parse and validate the body of a method that takes one; a body with content sent to a
/// method that takes none is refused.
pub(crate) fn parse_body(
    contracts: &Contracts,
    method: &Method,
    body: &[u8],
) -> Result<Option<Value>, ApiError> {
    let empty = body.iter().all(u8::is_ascii_whitespace);
    let Some(schema) = &method.request else {
        // Google's client libraries send an empty message (`{}`) with every POST and PUT.
        let empty_message = serde_json::from_slice::<Value>(body)
            .is_ok_and(|v| v.as_object().is_some_and(Map::is_empty));
        if empty || empty_message {
            return Ok(None);
        }
        return Err(ApiError::invalid(format!(
            "Invalid JSON payload received. {} takes no request body.",
            method.id
        )));
    };
    let root = match method.api {
        Api::Compute => "resource".to_string(),
        Api::Dns => lower_first(schema),
    };
    if empty {
        let err = SchemaError::MissingRequired { at: root };
        return Err(ApiError::invalid(err.to_string()));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("Invalid JSON payload received. {e}")))?;
    let validator = Validator::new(contracts.schemas(method.api), Some(&method.id));
    validator
        .check_ref(schema, &value, &root)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok(Some(value))
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Split and decode a query string (`+` is a space).
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode(&s.replace('+', " "));
            (decode(k), decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_plus_and_escapes() {
        let q = parse_query("name=a%2Eb.&type=A&flag&x=1+2");
        let pairs: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [("name", "a.b."), ("type", "A"), ("flag", ""), ("x", "1 2")]
        );
    }

    #[test]
    fn dns_bodies_are_named_after_their_schema() {
        assert_eq!(lower_first("Change"), "change");
    }
}
