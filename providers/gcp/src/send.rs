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

/// One page of a list call: its items (those of every scope, for an aggregated list) and the
/// token of the next page.
pub trait Page {
    /// What the list holds.
    type Item;
    /// The next page's token, if there is one.
    fn next_token(&self) -> Option<String>;
    /// The page's items, in order.
    fn into_items(self) -> Vec<Self::Item>;
}

/// Implements [`Page`] for list answers: `plain` ones hold their items in a field, `scoped`
/// (aggregated) ones a map of scopes each holding them.
macro_rules! page {
    (plain $page:ty => $item:ty, $field:ident) => {
        impl Page for $page {
            type Item = $item;
            fn next_token(&self) -> Option<String> {
                self.next_page_token.clone()
            }
            fn into_items(self) -> Vec<$item> {
                self.$field
            }
        }
    };
    (scoped $page:ty => $item:ty, $field:ident) => {
        impl Page for $page {
            type Item = $item;
            fn next_token(&self) -> Option<String> {
                self.next_page_token.clone()
            }
            fn into_items(self) -> Vec<$item> {
                self.items.into_values().flat_map(|s| s.$field).collect()
            }
        }
    };
}

use google_cloud_compute_v1::model as gce;
page!(plain gce::FirewallList => gce::Firewall, items);
page!(plain gce::NetworkList => gce::Network, items);
page!(plain gce::SubnetworkList => gce::Subnetwork, items);
page!(scoped gce::SubnetworkAggregatedList => gce::Subnetwork, subnetworks);
page!(scoped gce::AddressAggregatedList => gce::Address, addresses);
page!(scoped gce::InstanceAggregatedList => gce::Instance, instances);
page!(plain google_cloud_dns_v1::model::ResourceRecordSetsListResponse => google_cloud_dns_v1::model::ResourceRecordSet, rrsets);
page!(plain google_cloud_dns_v1::model::ManagedZonesListResponse => google_cloud_dns_v1::model::ManagedZone, managed_zones);

/// Every item of a paged list, each page sent as [`send`] sends it until the last: `make(token)`
/// builds the request for one page.
pub async fn list_all<P, F, Fut>(
    policy: &RetryPolicy,
    call: &str,
    mut make: F,
) -> Result<Vec<P::Item>>
where
    P: Page,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = std::result::Result<P, google_cloud_gax::error::Error>>,
{
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = send(policy, call, || make(token.clone())).await?;
        token = page.next_token().filter(|t| !t.is_empty());
        out.extend(page.into_items());
        if token.is_none() {
            return Ok(out);
        }
    }
}
