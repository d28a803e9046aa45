//! The one place an SDK call is sent: its error is sorted by code ([`crate::errors::sort`])
//! and throttling or transient faults are retried with the core [`RetryPolicy`].

use std::future::Future;

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use carto_core::Result;
use carto_core::retry::RetryPolicy;

use crate::errors;

/// Sends the request `make` builds, as often as `policy` allows while the error is
/// retryable. `call` names the API call (`ec2:RunInstances`) in errors.
pub async fn send<T, E, F, Fut>(policy: &RetryPolicy, call: &str, mut make: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    policy
        .run(|| {
            let fut = make();
            async move { fut.await.map_err(|e| errors::sort(call, e)) }
        })
        .await
}
