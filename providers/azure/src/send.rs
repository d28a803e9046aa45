//! Sending: the two pipeline policies every client carries ([`ArmStatus`] turns an ARM error
//! answer into an [`ArmFailure`] with its code, request id and `Retry-After`; [`ApiVersion`]
//! pins the api-version of the clients generated for another one), [`send`] (one call, retried
//! by the core policy on throttling and transient faults, waiting at least `Retry-After` after
//! a 429), and [`wait_operation`], which follows a long-running operation's
//! `Azure-AsyncOperation` or `Location` URL until it ends. The SDK's own LRO wait is never used
//! (it re-PUTs). Nothing here knows a resource type.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use azure_core::auth::TokenCredential;
use azure_core::error::ErrorKind as AzKind;
use azure_core::headers::{self, HeaderName, Headers};
use azure_core::{ClientOptions, Context, Method, Pipeline, Policy, PolicyResult, Request, Url};
use carto_core::retry::{Poll, wait_until};
use carto_core::{ProviderError, Result};
use serde_json::Value;

use crate::config::Clients;
use crate::errors;

/// api-version of the network contracts (azure_mgmt_network 0.21 sends 2024-03-01).
pub const NETWORK_API: &str = "2024-05-01";
/// api-version of the resources contract (azure_mgmt_resources 0.21 sends 2021-04-01).
pub const RESOURCES_API: &str = "2024-03-01";
/// Longest `Retry-After` honoured on a single 429 (a misbehaving server cannot stall us).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

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

fn header(h: &Headers, name: &'static str) -> Option<String> {
    h.get_optional_string(&HeaderName::from_static(name))
}

fn retry_after(h: &Headers) -> Option<Duration> {
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

    fn into_error(self) -> azure_core::Error {
        let status = azure_core::StatusCode::try_from(self.status)
            .unwrap_or(azure_core::StatusCode::InternalServerError);
        let kind = AzKind::http_response(status, self.code.clone());
        let message = self.message.clone();
        azure_core::Error::full(kind, self, message)
    }
}

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
pub async fn send<T, F, Fut>(c: &Clients, call: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = azure_core::Result<T>>,
{
    c.policy
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

/// Where a long-running operation can be followed, read from the answer that started it.
#[derive(Debug, Clone, Default)]
pub struct Operation {
    /// `Azure-AsyncOperation`.
    pub async_operation: Option<String>,
    /// `Location`.
    pub location: Option<String>,
}

impl Operation {
    /// From the raw response of the starting call.
    pub fn of(rsp: &azure_core::Response) -> Operation {
        Operation {
            async_operation: header(rsp.headers(), "azure-asyncoperation"),
            location: header(rsp.headers(), "location"),
        }
    }
}

/// Follows `op` until it ends: `Succeeded` is done, `Failed`/`Canceled` an error naming `what`.
/// An operation with no URL finished with its first answer.
pub async fn wait_operation(
    c: &Clients,
    call: &str,
    what: &str,
    op: &Operation,
    timeout: Duration,
) -> Result<()> {
    let interval = c.policy.base_delay.max(Duration::from_millis(10));
    if let Some(url) = &op.async_operation {
        return wait_until(
            &format!("{what} to finish"),
            call,
            timeout,
            interval,
            || async {
                let a = send(c, call, || c.rest.get(url)).await?;
                match a.body["status"].as_str().unwrap_or("InProgress") {
                    "Succeeded" => Ok(Poll::Ready(())),
                    s @ ("Failed" | "Canceled") => Err(failed(call, what, s, &a.body)),
                    s => {
                        pause(a.retry_after, interval).await;
                        Ok(Poll::Pending(format!("operation status {s}")))
                    }
                }
            },
        )
        .await;
    }
    if let Some(url) = &op.location {
        let next = std::sync::Mutex::new(url.clone());
        return wait_until(
            &format!("{what} to finish"),
            call,
            timeout,
            interval,
            || {
                let url = next.lock().map(|u| u.clone()).unwrap_or_default();
                let next = &next;
                async move {
                    let a = send(c, call, || c.rest.get(&url)).await?;
                    if a.status == 202 {
                        if let (Some(l), Ok(mut n)) = (a.location, next.lock()) {
                            *n = l;
                        }
                        pause(a.retry_after, interval).await;
                        return Ok(Poll::Pending("HTTP 202 Accepted".into()));
                    }
                    Ok(Poll::Ready(()))
                }
            },
        )
        .await;
    }
    Ok(())
}

/// Sleeps what `Retry-After` asks beyond the poll interval.
async fn pause(retry_after: Option<Duration>, interval: Duration) {
    if let Some(extra) = retry_after.and_then(|r| r.min(MAX_RETRY_AFTER).checked_sub(interval)) {
        tokio::time::sleep(extra).await;
    }
}

fn failed(call: &str, what: &str, status: &str, body: &Value) -> ProviderError {
    let code = body["error"]["code"].as_str().unwrap_or(status);
    let message = body["error"]["message"].as_str().unwrap_or("no message");
    let kind = errors::kind_for(Some(code), None);
    ProviderError::new(kind, call, format!("{what} ended {status}: {message}")).with_code(code)
}
