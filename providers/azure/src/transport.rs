//! Transport: how one request reaches Resource Manager and how its answer comes back. The two
//! pipeline policies every client carries ([`ArmStatus`] turns an ARM error answer into an
//! [`ArmFailure`] with its code, request id and `Retry-After`; [`ApiVersion`] pins the
//! api-version of the clients generated for another one), [`Rest`] for the plain requests the
//! SDK has no client for, and [`send`]: one call, retried by the core policy on throttling and
//! transient faults, waiting at least `Retry-After` after a 429. Errors are sorted by
//! [`crate::errors`]; following a long-running operation is [`crate::operation`]'s. Nothing
//! here knows a resource type or the provider's clients.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use azure_core::auth::TokenCredential;
use azure_core::error::ErrorKind as AzKind;
use azure_core::headers;
use azure_core::{ClientOptions, Context, Method, Pipeline, Policy, PolicyResult, Request, Url};
use carto_core::Result;
use carto_core::retry::RetryPolicy;
use serde_json::Value;

use crate::errors::{self, ArmFailure, header, retry_after};

/// api-version of the network contracts (azure_mgmt_network 0.21 sends 2024-03-01).
pub const NETWORK_API: &str = "2024-05-01";
/// api-version of the resources contract (azure_mgmt_resources 0.21 sends 2021-04-01).
pub const RESOURCES_API: &str = "2024-03-01";
/// Longest `Retry-After` honoured on a single 429 (a misbehaving server cannot stall us).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Turns every non-2xx answer into an [`ArmFailure`] error, keeping what the SDK drops.
#[derive(Debug)]
pub struct ArmStatus;

#[async_trait::async_trait]
impl Policy for ArmStatus {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let response = next[0].send(ctx, request, &next[1..]).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = u16::from(response.status());
        let (_, h, body) = response.deconstruct();
        let bytes = body.collect().await.unwrap_or_default();
        Err(ArmFailure::read(status, &h, &bytes).into_error())
    }
}

/// Sets the `api-version` query parameter to a fixed value.
#[derive(Debug)]
pub struct ApiVersion(pub &'static str);

#[async_trait::async_trait]
impl Policy for ApiVersion {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let url = request.url_mut();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "api-version" {
                    self.0.to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        next[0].send(ctx, request, &next[1..]).await
    }
}

/// Plain GETs through the same pipeline and credential (operation URLs ARM hands back).
#[derive(Clone)]
pub struct Rest {
    endpoint: Url,
    credential: Arc<dyn TokenCredential>,
    scopes: Vec<String>,
    pipeline: Pipeline,
}

/// An answer to a plain GET.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After`.
    pub retry_after: Option<Duration>,
    /// `Location`.
    pub location: Option<String>,
    /// `Azure-AsyncOperation`.
    pub async_operation: Option<String>,
    /// Body as JSON (`Null` when empty).
    pub body: Value,
}

impl Rest {
    /// A pipeline on `endpoint` authenticating with `credential` for `scopes`.
    pub fn new(
        endpoint: Url,
        credential: Arc<dyn TokenCredential>,
        scopes: Vec<String>,
        options: ClientOptions,
    ) -> Rest {
        let pipeline = Pipeline::new(
            Some("carto-azure"),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            Vec::new(),
            Vec::new(),
        );
        Rest {
            endpoint,
            credential,
            scopes,
            pipeline,
        }
    }

    /// The Resource Manager endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// GET `url` with a bearer token.
    pub async fn get(&self, url: &str) -> azure_core::Result<Answer> {
        self.request(Method::Get, url, None).await
    }

    /// PUT `body` to `path` (below the endpoint) at `api_version`.
    pub async fn put(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> azure_core::Result<Answer> {
        let url = format!(
            "{}{path}?api-version={api_version}",
            self.endpoint.as_str().trim_end_matches('/')
        );
        self.request(Method::Put, &url, Some(body)).await
    }

    async fn request(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> azure_core::Result<Answer> {
        let url = Url::parse(url)
            .map_err(|e| azure_core::Error::full(AzKind::DataConversion, e, "bad URL"))?;
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let token = self.credential.get_token(&scopes).await?;
        let mut req = Request::new(url, method);
        req.insert_header(
            headers::AUTHORIZATION,
            format!("Bearer {}", token.token.secret()),
        );
        if let Some(body) = body {
            req.insert_header(headers::CONTENT_TYPE, "application/json");
            req.set_body(body.to_string());
        }
        let rsp = self.pipeline.send(&Context::new(), &mut req).await?;
        let status = u16::from(rsp.status());
        let (_, h, body) = rsp.deconstruct();
        let bytes = body.collect().await?;
        Ok(Answer {
            status,
            retry_after: retry_after(&h),
            location: header(&h, "location"),
            async_operation: header(&h, "azure-asyncoperation"),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }
}

/// Runs one SDK call (`f` builds and sends it) under the retry policy; a 429 first waits its
/// `Retry-After`.
pub async fn send<T, F, Fut>(policy: &RetryPolicy, call: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = azure_core::Result<T>>,
{
    policy
        .run(|| {
            let fut = f();
            async move {
                match fut.await {
                    Ok(v) => Ok(v),
                    Err(e) => {
                        let wait = e
                            .downcast_ref::<ArmFailure>()
                            .filter(|f| f.status == 429)
                            .and_then(|f| f.retry_after);
                        let err = errors::sort(call, &e);
                        if let Some(wait) = wait {
                            tracing::debug!(call, ?wait, "throttled; waiting Retry-After");
                            tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
                        }
                        Err(err)
                    }
                }
            }
        })
        .await
}
