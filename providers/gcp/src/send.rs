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
