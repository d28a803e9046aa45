//! The shape every Resource Manager resource shares, written once: find by name (404 is
//! absence), ensure (find, else PUT by name and follow the operation, then read back),
//! read a JSON body, collect a paged list, and the environment's tags. Which resource and
//! which SDK call is the caller's business; this file never names a resource type.

use std::future::Future;
use std::time::Duration;

use carto_core::TAG_MANAGED_BY_VALUE;
use carto_core::retry::{Poll, wait_until};
use carto_core::{
    EnvName, ErrorKind, InfraSpec, OrAbsent, ProviderError, Result, TAG_ENV, TAG_MANAGED_BY,
    TAG_NONCE,
};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::config::Clients;
use crate::operation::{Operation, wait_operation};
use crate::transport::send;

/// How long one create or delete operation may take.
pub const OP_TIMEOUT: Duration = Duration::from_secs(900);

/// `|| async { Ok(BUILDER.send().await?.into_raw_response()) }`: an SDK call as a raw response.
#[macro_export]
macro_rules! raw {
    ($builder:expr) => {
        || async { Ok::<_, azure_core::Error>($builder.send().await?.into_raw_response()) }
    };
}

/// The tags of the environment's DNS record set (its `metadata`).
pub fn tags(env: &EnvName, nonce: &str) -> Value {
    json!({ TAG_MANAGED_BY: TAG_MANAGED_BY_VALUE, TAG_ENV: env.as_str(), TAG_NONCE: nonce })
}

/// Tag on the public IP naming the domain its A record is for, so a destroy without a state
/// file finds the record.
pub const TAG_DOMAIN: &str = "carto-domain";

/// The tags every resource of `spec`'s environment carries (managed-by, environment, creation
/// time), plus `extra`.
pub fn resource_tags(spec: &InfraSpec, extra: &[(&str, &str)]) -> Value {
    let mut tags: serde_json::Map<String, Value> = spec
        .labels()
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::from(v)))
        .collect();
    for (k, v) in extra {
        tags.insert(k.to_string(), Value::from(*v));
    }
    Value::Object(tags)
}

/// A response body as JSON (`Null` when empty).
pub async fn body(call: &str, rsp: azure_core::Response) -> Result<Value> {
    let bytes = rsp
        .into_body()
        .collect()
        .await
        .map_err(|e| crate::errors::sort(call, &e))?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::new(ErrorKind::Other, call, format!("unreadable answer: {e}")))
}

/// Converts JSON into an SDK model (the SDK then serializes it into the request).
pub fn model<T: serde::de::DeserializeOwned>(call: &str, v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        ProviderError::new(
            ErrorKind::Other,
            call,
            format!("could not build the request: {e}"),
        )
    })
}

/// GET through `get`; `None` when Resource Manager says not found.
pub async fn find<F, Fut>(c: &Clients, call: &str, get: F) -> Result<Option<Value>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = azure_core::Result<azure_core::Response>>,
{
    match send(&c.policy, call, get).await.or_absent()? {
        Some(rsp) => Ok(Some(body(call, rsp).await?)),
        None => Ok(None),
    }
}

/// `properties.provisioningState` (resource groups and DNS zones included).
pub fn state(v: &Value) -> &str {
    v["properties"]["provisioningState"]
        .as_str()
        .unwrap_or("Succeeded")
}

/// Finds the resource `what` by `get`; when absent PUTs it with `put` and follows the
/// operation; waits while it is still provisioning. Returns its final representation.
pub async fn ensure<G, GF, P, PF>(
    c: &Clients,
    (get_call, put_call): (&str, &str),
    what: &str,
    get: G,
    put: P,
) -> Result<Value>
where
    G: Fn() -> GF,
    GF: Future<Output = azure_core::Result<azure_core::Response>>,
    P: FnMut() -> PF,
    PF: Future<Output = azure_core::Result<azure_core::Response>>,
{
    if find(c, get_call, &get).await?.is_none() {
        tracing::info!(resource = what, "creating");
        let rsp = send(&c.policy, put_call, put).await?;
        let op = Operation::of(&rsp);
        wait_operation(c, put_call, &format!("creating {what}"), &op, OP_TIMEOUT).await?;
    }
    wait_provisioned(c, get_call, what, get, OP_TIMEOUT).await
}

/// Polls `get` until the resource's provisioning state is `Succeeded`.
pub async fn wait_provisioned<G, GF>(
    c: &Clients,
    call: &str,
    what: &str,
    get: G,
    timeout: Duration,
) -> Result<Value>
where
    G: Fn() -> GF,
    GF: Future<Output = azure_core::Result<azure_core::Response>>,
{
    let interval = c.policy.base_delay.max(Duration::from_millis(10));
    let get = &get;
    wait_until(&format!("{what} to be provisioned"), call, timeout, interval, || async move {
        let Some(v) = find(c, call, get).await? else {
            return Ok(Poll::Pending("not found".into()));
        };
        match state(&v) {
            "Succeeded" => Ok(Poll::Ready(v)),
            s @ ("Failed" | "Canceled") => Err(ProviderError::new(
                ErrorKind::Conflict,
                call,
                format!("{what} exists in provisioning state {s}; hint: destroy this environment and deploy again"),
            )),
            s => Ok(Poll::Pending(format!("provisioningState {s}"))),
        }
    })
    .await
}

/// Every item of every page of a paged list, as JSON.
pub async fn pages<T, S>(c: &Clients, call: &str, mut list: impl FnMut() -> S) -> Result<Vec<Value>>
where
    T: serde::Serialize,
    S: futures::Stream<Item = azure_core::Result<T>> + Unpin,
{
    send(&c.policy, call, || {
        let mut stream = list();
        async move {
            let mut items = Vec::new();
            while let Some(page) = stream.next().await {
                let page = serde_json::to_value(page?).map_err(|e| {
                    azure_core::Error::full(azure_core::error::ErrorKind::DataConversion, e, "page")
                })?;
                items.extend(page["value"].as_array().cloned().unwrap_or_default());
            }
            Ok(items)
        }
    })
    .await
}

/// The `(resource group, name)` of an ARM id's resource.
pub fn group_of(id: &str) -> Option<String> {
    let segs: Vec<&str> = id.split('/').collect();
    segs.iter()
        .position(|s| s.eq_ignore_ascii_case("resourceGroups"))
        .and_then(|i| segs.get(i + 1))
        .map(|s| s.to_string())
}
