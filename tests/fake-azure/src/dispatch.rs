//! The request pipeline, in order: token endpoint, bearer check, operation polls, SKU list,
//! route lookup, injected throttling, api-version and parameters, body against the contract,
//! the resource handler, and last a check of the fake's own answer against the contract's
//! response schema (a mismatch is a 500, so a bug in the fake cannot pass unnoticed).

use std::collections::HashMap;

use serde_json::Value;

use crate::auth;
use crate::catalog;
use crate::config::FakeConfig;
use crate::contracts::Contracts;
use crate::errors::ArmError;
use crate::ids::ResourceId;
use crate::lro;
use crate::reply::Reply;
use crate::resources::{self, Call};
use crate::routes::Routes;
use crate::routes::only_declared;
use crate::skus;
use crate::state::{FakeState, LoggedRequest};
use crate::validate::{self, Mode};

/// Everything a request needs; shared by all connections.
#[derive(Debug)]
pub struct App {
    /// The contract documents.
    pub contracts: Contracts,
    /// Served operations.
    pub routes: Routes,
    /// Memory.
    pub state: FakeState,
    /// Start-up configuration.
    pub config: FakeConfig,
    /// `http://127.0.0.1:port`.
    pub base: String,
}

/// A request reduced to what the pipeline reads.
#[derive(Debug, Default)]
pub struct Incoming {
    /// HTTP method, upper case.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// `Authorization` header.
    pub authorization: Option<String>,
    /// `If-Match` header.
    pub if_match: Option<String>,
    /// `If-None-Match` header.
    pub if_none_match: Option<String>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// Raw body.
    pub body: Vec<u8>,
}

impl App {
    /// Answers one request and logs it.
    pub fn dispatch(&self, req: &Incoming) -> Reply {
        let mut op_id = None;
        let mut body = None;
        let reply = if auth::is_token_path(&req.path) && req.method == "POST" {
            auth::token(&self.state, &req.body)
        } else {
            self.arm(req, &mut op_id, &mut body)
                .unwrap_or_else(|e| Reply::error(&e))
        };
        let reply = match reply.status {
            401 => reply.with(
                "WWW-Authenticate",
                "Bearer authorization_uri=\"fake\", error=\"invalid_token\"",
            ),
            429 => reply.with(
                "Retry-After",
                self.config.throttle_retry_after_secs.to_string(),
            ),
            _ => reply,
        };
        let request_id = self.state.lock().next_id();
        let reply = reply
            .with("x-ms-request-id", request_id.clone())
            .with("x-ms-correlation-request-id", request_id);
        self.state.lock().log.push(LoggedRequest {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            op_id,
            body,
            status: reply.status,
        });
        reply
    }

    fn arm(
        &self,
        req: &Incoming,
        op_id: &mut Option<String>,
        logged: &mut Option<Value>,
    ) -> Result<Reply, ArmError> {
        auth::check_bearer(&self.state, req.authorization.as_deref())?;
        let mut query: HashMap<String, String> = form_urlencoded::parse(req.query.as_bytes())
            .into_owned()
            .collect();
        if req.method == "GET"
            && let Some((is_status, id)) = lro::parse_poll(&req.path)
        {
            only_declared(&query, "AsyncOperation_Get", |_| false)?;
            let url = format!("{}{}?{}", self.base, req.path, req.query);
            let mut store = self.state.lock();
            return Ok(lro::poll(
                &mut store,
                is_status,
                &id,
                &url,
                self.config.lro_retry_after_secs,
            ));
        }
        if req.method == "GET"
            && let Some(item) = catalog::parse(&req.path)
        {
            *op_id = Some(
                format!("{item:?}")
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            );
            only_declared(&query, op_id.as_deref().unwrap_or_default(), |k| {
                catalog::query_params(&item).contains(&k)
            })?;
            return catalog::answer(
                &item,
                query.get("api-version").map(String::as_str),
                &self.config.subscriptions,
                &self.config.locations,
            );
        }
        if req.method == "GET" && skus::is_skus_path(&req.path) {
            *op_id = Some("ResourceSkus_List".into());
            only_declared(&query, "ResourceSkus_List", |k| {
                matches!(k, "$filter" | "includeExtendedLocations")
            })?;
            self.throttled("ResourceSkus_List")?;
            return Ok(skus::list(
                query.get("api-version").map(String::as_str),
                query.get("$filter").map(String::as_str),
                &self.config.default_location,
            ));
        }
        let matched = self.routes.find(&req.method, &req.path)?;
        let route = matched.route;
        *op_id = Some(route.op_id.clone());
        self.throttled(&route.op_id)?;
        // A list's `nextLink` carries `$skiptoken`, which ARM takes on every pageable list
        // although no contract declares it.
        let after = if resources::LISTS.contains(&route.op_id.as_str()) {
            query.remove("$skiptoken")
        } else {
            None
        };
        route.check_params(&self.contracts, &matched.params, &query)?;
        let body = self.body(req, route, logged)?;
        let rid = ResourceId::parse(&req.path).ok_or_else(|| {
            ArmError::new(
                400,
                "InvalidResourceId",
                format!("'{}' is not a resource id.", req.path),
            )
        })?;
        let call = Call {
            route,
            rid,
            body,
            if_match: req.if_match.clone(),
            if_none_match: req.if_none_match.clone(),
            base: &self.base,
            retry_after: self.config.lro_retry_after_secs,
            filter: query.get("$filter").cloned(),
            expand: query.get("$expand").cloned(),
            after,
            link: format!(
                "{}{}?{}",
                self.base,
                req.path,
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&query)
                    .finish()
            ),
        };
        let reply = resources::handle(&mut self.state.lock(), call)?;
        self.self_check(route, &reply)?;
        Ok(reply)
    }

    fn throttled(&self, op_id: &str) -> Result<(), ArmError> {
        if self.state.lock().take_throttle(op_id) {
            let secs = self.config.throttle_retry_after_secs;
            return Err(ArmError::new(
                429,
                "TooManyRequests",
                format!(
                    "The request is being throttled as the limit has been reached for operation \
                     '{op_id}'. Please retry after {secs} seconds."
                ),
            ));
        }
        Ok(())
    }

    fn body(
        &self,
        req: &Incoming,
        route: &crate::routes::Route,
        logged: &mut Option<Value>,
    ) -> Result<Option<Value>, ArmError> {
        let Some((schema, required)) = route.body_schema(&self.contracts) else {
            return Ok(None);
        };
        if req.body.iter().all(u8::is_ascii_whitespace) {
            if required {
                return Err(ArmError::invalid_content(
                    "The request content was invalid and could not be deserialized: \
                     'The request body is required.'",
                ));
            }
            return Ok(None);
        }
        let media = req.content_type.as_deref().unwrap_or_default();
        if !media.to_ascii_lowercase().starts_with("application/json") {
            return Err(ArmError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "The content media type '{media}' is not supported. Only 'application/json' is supported."
                ),
            ));
        }
        let value: Value = serde_json::from_slice(&req.body).map_err(|e| {
            ArmError::invalid_content(format!(
                "The request content was invalid and could not be deserialized: '{e}'."
            ))
        })?;
        *logged = Some(value.clone());
        validate::check(&self.contracts, schema, &value, Mode::Request)
            .map_err(|v| ArmError::invalid_content(v.to_string()))?;
        Ok(Some(value))
    }

    fn self_check(&self, route: &crate::routes::Route, reply: &Reply) -> Result<(), ArmError> {
        let (Some(body), Some(schema)) = (
            reply.body.as_ref(),
            route.response_schema(&self.contracts, reply.status),
        ) else {
            return Ok(());
        };
        validate::check(&self.contracts, schema, body, Mode::Response).map_err(|v| {
            ArmError::new(
                500,
                "InternalServerError",
                format!(
                    "The fake's answer to {} breaks the contract: {v}",
                    route.op_id
                ),
            )
        })
    }
}
