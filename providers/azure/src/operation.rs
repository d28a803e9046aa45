//! Long-running operations: where one can be followed ([`Operation`], read from the answer
//! that started it) and [`wait_operation`], which follows its `Azure-AsyncOperation` or
//! `Location` URL with the core wait until it ends. The SDK's own LRO wait is never used (it
//! re-PUTs). Sending each poll is [`crate::transport`]'s; nothing here knows a resource type.

use std::time::Duration;

use carto_core::retry::{Poll, wait_until};
use carto_core::{ProviderError, Result};
use serde_json::Value;

use crate::config::Clients;
use crate::errors::{self, header};
use crate::transport::{MAX_RETRY_AFTER, send};

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
                let a = send(&c.policy, call, || c.rest.get(url)).await?;
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
                    let a = send(&c.policy, call, || c.rest.get(&url)).await?;
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
