//! The one place an SDK call is sent: its error is sorted ([`crate::errors::sort`]) and
//! throttling or transient faults are retried with the core [`RetryPolicy`].

use std::future::Future;

use carto_core::Result;
use carto_core::retry::RetryPolicy;

use crate::errors;

/// Sends the request `make` builds, as often as `policy` allows while the error is
/// retryable. `call` names the API method (`compute.instances.insert`) in errors.
pub async fn send<T, F, Fut>(policy: &RetryPolicy, call: &str, mut make: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, google_cloud_gax::error::Error>>,
{
    policy
        .run(|| {
            let fut = make();
            async move { fut.await.map_err(|e| errors::sort(call, e)) }
        })
        .await
}

/// Sends a paged list until its last page, each page as [`send`] sends it: `make(token)` builds
/// the request for one page, `next` reads a page's next-page token. Returns the pages in order.
pub async fn pages<T, F, Fut>(
    policy: &RetryPolicy,
    call: &str,
    mut make: F,
    next: impl Fn(&T) -> Option<String>,
) -> Result<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = std::result::Result<T, google_cloud_gax::error::Error>>,
{
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = send(policy, call, || make(token.clone())).await?;
        token = next(&page).filter(|t| !t.is_empty());
        out.push(page);
        if token.is_none() {
            return Ok(out);
        }
    }
}
