//! Listing by label follows Compute's pages: with the fake answering two items a page, every
//! environment of many is found, in one listing per kind that grows with pages (the DNS
//! records too: one listing per zone, not one lookup per address); one environment's listing
//! is filtered by its label on the server.

use carto_core::Provider;
use serde_json::json;

use crate::common::{self, PROJECT, ZONE};

const REGION: &str = "us-central1";

/// Puts environment `env`'s VM, address, A record, firewall rule and network into the fake,
/// labelled (or described) as the provider makes them.
fn seed(env: &common::Env, name: &str, n: u64) {
    let state = env.fake.state();
    let labels = json!({"managed-by": "carto-provision", "carto-env": name});
    let description = format!("carto-env={name} managed-by=carto-provision");
    let base = format!("{}/compute/v1/projects/{PROJECT}", env.fake.url());
    let res = |suffix: &str| format!("carto-{name}-{suffix}");
    state.put_resource(
        "instances",
        &format!("projects/{PROJECT}/zones/{ZONE}/instances/{}", res("vm")),
        json!({"name": res("vm"), "id": (n * 10).to_string(), "labels": labels,
            "zone": format!("{base}/zones/{ZONE}"), "status": "RUNNING"}),
    );
    let domain = format!("{name}.example.com");
    state.put_record_set(
        PROJECT,
        "example-zone",
        &format!("{domain}."),
        "A",
        &["192.0.2.1"],
    );
    state.put_resource(
        "addresses",
        &format!(
            "projects/{PROJECT}/regions/{REGION}/addresses/{}",
            res("ip")
        ),
        json!({"name": res("ip"), "id": (n * 10 + 1).to_string(), "labels": labels,
            "region": format!("{base}/regions/{REGION}"), "address": "192.0.2.1",
            "description": format!("{description} carto-domain={domain}")}),
    );
    state.put_resource(
        "firewalls",
        &format!("projects/{PROJECT}/global/firewalls/{}", res("fw")),
        json!({"name": res("fw"), "id": (n * 10 + 2).to_string(), "description": description,
            "network": format!("{base}/global/networks/{}", res("net"))}),
    );
    state.put_resource(
        "networks",
        &format!("projects/{PROJECT}/global/networks/{}", res("net")),
        json!({"name": res("net"), "id": (n * 10 + 3).to_string(), "description": description}),
    );
}

#[tokio::test]
async fn listing_by_label_follows_every_page_once_per_kind() {
    let env = common::start().await;
    let names: Vec<String> = (0..5).map(|n| format!("many{n}")).collect();
    for (n, name) in names.iter().enumerate() {
        seed(&env, name, n as u64 + 1);
    }
    let state = env.fake.state();
    state.set_page_size(2);
    let found = env.provider.list_tagged(None).await.expect("list");
    for name in &names {
        let mine: Vec<_> = found.iter().filter(|t| t.env == *name).collect();
        assert_eq!(mine.len(), 5, "{name}: {mine:?}");
    }
    assert_eq!(found.len(), 25, "{found:?}");
    // The records pointing at the addresses: one listing of the zone, not one per address.
    assert_eq!(state.calls("dns.resourceRecordSets.list"), 1);
    // Five of each kind at two a page: three pages, and no more listings than that.
    for call in [
        "compute.instances.aggregatedList",
        "compute.addresses.aggregatedList",
    ] {
        assert_eq!(state.calls(call), 3, "{call}");
    }
    // One environment among them: its label filters on the server, one page each.
    let one = carto_core::EnvName::parse("many3").unwrap();
    let found = env.provider.list_tagged(Some(&one)).await.expect("list");
    assert_eq!(found.len(), 5, "{found:?}");
    assert_eq!(state.calls("compute.instances.aggregatedList"), 4);
}
