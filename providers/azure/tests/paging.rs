//! Listing what the tool made follows Resource Manager's pages: with the fake answering two
//! items a page, every environment of many is found in listings that grow with pages
//! (resources with their tags, although ARM drops them from lists by tag; one listing per
//! resource type, read side by side), and the A records of their public IPs' domains come
//! from one listing of the zone's A record sets, not one lookup per address; one
//! environment's record is read by name. A record whose metadata names another environment
//! is not one of ours.

use carto_core::{Provider, ResourceKind, TaggedResource};
use carto_fake_azure::FakeServer;
use serde_json::json;

use crate::common::{SUB, fake, provider};

fn put(fake: &FakeServer, path: &str, api: &str, body: serde_json::Value) {
    let (status, answer) = fake.call("PUT", &format!("{path}?api-version={api}"), Some(&body));
    assert!(status < 300, "PUT {path}: {status} {answer}");
}

/// Environment `env`'s resource group, its public IP naming `env.test`, and the A record at
/// that name with `record_env` in its metadata, tagged as the provider tags them.
fn seed(fake: &FakeServer, env: &str, record_env: &str) {
    let tags = json!({"managed-by": "carto-provision", "carto-env": env});
    let group = format!("/subscriptions/{SUB}/resourceGroups/carto-{env}-rg");
    put(
        fake,
        &group,
        "2024-03-01",
        json!({"location": "eastus", "tags": tags}),
    );
    let mut ip_tags = tags.clone();
    ip_tags["carto-domain"] = json!(format!("{env}.test"));
    put(
        fake,
        &format!("{group}/providers/Microsoft.Network/publicIPAddresses/carto-{env}-ip"),
        "2024-05-01",
        json!({"location": "eastus", "tags": ip_tags, "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"}}),
    );
    put(
        fake,
        &format!(
            "/subscriptions/{SUB}/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/test/A/{env}"
        ),
        "2018-05-01",
        json!({"properties": {"TTL": 60, "ARecords": [{"ipv4Address": "127.0.0.2"}],
            "metadata": {"managed-by": "carto-provision", "carto-env": record_env}}}),
    );
}

/// What each seeded environment is found with, sorted by name.
const ENV_KINDS: [ResourceKind; 3] = [
    ResourceKind::Address,
    ResourceKind::DnsRecord,
    ResourceKind::Group,
];

/// The kinds found for environment `env`, sorted by name.
fn kinds(found: &[TaggedResource], env: &str) -> Vec<ResourceKind> {
    let mut kinds: Vec<ResourceKind> = found
        .iter()
        .filter(|t| t.env == env)
        .map(|t| t.resource.kind)
        .collect();
    kinds.sort_by_key(|k| format!("{k:?}"));
    kinds
}

#[tokio::test]
async fn listing_by_tag_follows_every_page_and_reads_the_records_in_one_listing() {
    let fake = fake().await;
    let names: Vec<String> = (0..9).map(|n| format!("many{n}")).collect();
    for name in &names {
        seed(&fake, name, name);
    }
    seed(&fake, "stolen", "someone-else");
    let provider = provider(&fake).await;
    let state = fake.state();
    state.set_page_size(2);
    let found = provider.list_tagged(None).await.expect("list");
    for name in &names {
        assert_eq!(kinds(&found, name), ENV_KINDS, "{name}: {found:?}");
    }
    let stolen: Vec<_> = found.iter().filter(|t| t.env == "stolen").collect();
    assert!(
        stolen
            .iter()
            .all(|t| t.resource.kind != ResourceKind::DnsRecord),
        "a record made for another environment is not ours: {stolen:?}"
    );
    // Ten groups and ten addresses at two a page: five pages each, and one page for each of
    // the four other types the addresses were listed beside; the records five pages of the
    // zone's A sets, and no lookup per address.
    assert_eq!(state.count("ResourceGroups_List"), 5);
    assert_eq!(state.count("Resources_List"), 9);
    assert_eq!(state.count("RecordSets_ListByType"), 5);
    assert_eq!(state.count("RecordSets_Get"), 0);
    assert_eq!(state.count("Zones_List"), 1);
    // One environment among them: its group and resources by their names (one page each),
    // its record by name.
    let one = carto_core::EnvName::parse("many3").unwrap();
    let found = provider.list_tagged(Some(&one)).await.expect("list");
    assert_eq!(kinds(&found, "many3"), ENV_KINDS, "{found:?}");
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(state.count("ResourceGroups_List"), 6);
    assert_eq!(state.count("Resources_List"), 10);
    assert_eq!(state.count("RecordSets_ListByType"), 5);
    assert_eq!(state.count("RecordSets_Get"), 1);
}
