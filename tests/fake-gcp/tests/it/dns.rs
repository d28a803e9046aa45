//! Cloud DNS against the fake over HTTP: seeded managed zones listed and read, a change adding an
//! A record (pending -> done over reads), the record-set listing, deleting it again, and the
//! change checks (duplicates, stale deletions, names outside the zone, unknown fields).

use crate::common::Says::{Any, Has, Is};
use crate::common::{Case, Fake, PROJECT, check, get, message, post, reason, with};
use carto_fake_gcp::Config;
use serde_json::{Value, json};

fn a_record(name: &str, ip: &str) -> Value {
    json!({"name": name, "type": "A", "ttl": 300, "rrdatas": [ip]})
}

async fn seeded(dns_polls: u32) -> (Fake, String) {
    let fake = Fake::start(Config {
        dns_polls_to_done: dns_polls,
        ..Config::default()
    })
    .await;
    let zone = fake
        .server
        .state()
        .add_managed_zone(PROJECT, "example-zone", "example.com.");
    assert_eq!(zone["dnsName"], "example.com.");
    (fake, Fake::dns("managedZones/example-zone"))
}

#[tokio::test]
async fn seeded_zones_are_listed_and_read() {
    let (fake, zone_path) = seeded(1).await;
    fake.server
        .state()
        .add_managed_zone(PROJECT, "other", "other.org.");
    let (status, list) = fake.get(&Fake::dns("managedZones")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["managedZones"].as_array().map(Vec::len), Some(2));
    let (_, list) = fake
        .get(&Fake::dns("managedZones?dnsName=example.com."))
        .await;
    assert_eq!(list["managedZones"][0]["name"], "example-zone");
    assert_eq!(list["managedZones"].as_array().map(Vec::len), Some(1));
    let (_, list) = fake
        .get(&Fake::dns("managedZones?dnsName=nowhere.net."))
        .await;
    assert_eq!(list["managedZones"], json!([]));
    let (_, list) = fake
        .get("/dns/v1/projects/another-project/managedZones")
        .await;
    assert_eq!(
        list["managedZones"],
        json!([]),
        "zones belong to their project"
    );

    let (status, zone) = fake.get(&zone_path).await;
    assert_eq!((status, zone["visibility"].clone()), (200, json!("public")));
    let by_id = Fake::dns(&format!(
        "managedZones/{}",
        zone["id"].as_str().unwrap_or_default()
    ));
    assert_eq!(fake.get(&by_id).await.1["name"], "example-zone");
    let (status, err) = fake.get(&Fake::dns("managedZones/missing")).await;
    assert_eq!((status, reason(&err)), (404, "notFound"));
    assert_eq!(
        message(&err),
        "The 'parameters.managedZone' resource named 'missing' does not exist."
    );
}

#[tokio::test]
async fn a_record_cycle_through_changes() {
    let (fake, zone) = seeded(2).await;
    let record = a_record("app.example.com.", "127.0.0.7");
    let changes = format!("{zone}/changes");
    let (status, change) = fake.post(&changes, &json!({"additions": [record]})).await;
    assert_eq!(status, 200, "{change}");
    assert_eq!(
        (change["status"].clone(), change["kind"].clone()),
        (json!("pending"), json!("dns#change"))
    );
    let change_path = format!(
        "{zone}/changes/{}",
        change["id"].as_str().unwrap_or_default()
    );
    assert_eq!(fake.get(&change_path).await.1["status"], "pending");
    assert_eq!(fake.get(&change_path).await.1["status"], "done");
    assert_eq!(fake.get(&change_path).await.1["status"], "done");

    let query = format!("{zone}/rrsets?name=app.example.com.&type=A");
    let (status, list) = fake.get(&query).await;
    assert_eq!(status, 200);
    assert_eq!(list["rrsets"][0]["rrdatas"], json!(["127.0.0.7"]));
    assert_eq!(list["rrsets"].as_array().map(Vec::len), Some(1));
    let (_, all) = fake.get(&format!("{zone}/rrsets")).await;
    let types: Vec<&str> = all["rrsets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["type"].as_str())
        .collect();
    assert_eq!(types, ["NS", "SOA", "A"], "apex records come with the zone");

    let stale = a_record("app.example.com.", "127.0.0.8");
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("the same record again", post(&changes, json!({"additions": [record]})), 409,
            "alreadyExists", Has(&["'app.example.com. (A)'"])),
        ("deleting a record set as it is not", post(&changes, json!({"deletions": [stale]})), 412,
            "conditionNotMet", Any),
    ];
    check(&fake, cases).await;

    // Replace in one change, then delete; the second deletion finds nothing.
    let replaced = a_record("app.example.com.", "127.0.0.9");
    let swap = json!({"deletions": [record], "additions": [replaced]});
    assert_eq!(fake.post(&changes, &swap).await.0, 200);
    assert_eq!(
        fake.get(&query).await.1["rrsets"][0]["rrdatas"],
        json!(["127.0.0.9"])
    );
    let delete = json!({"deletions": [replaced]});
    assert_eq!(fake.post(&changes, &delete).await.0, 200);
    assert_eq!(fake.get(&query).await.1["rrsets"], json!([]));
    let (status, err) = fake.post(&changes, &delete).await;
    assert_eq!((status, reason(&err)), (404, "notFound"));
    assert_eq!(
        fake.server
            .state()
            .record_sets(PROJECT, "example-zone")
            .len(),
        2
    );
}

#[tokio::test]
async fn changes_are_checked_before_anything_applies() {
    let (fake, zone) = seeded(1).await;
    let changes = format!("{zone}/changes");
    let add = json!({"additions": [a_record("app.example.com.", "127.0.0.7")]});
    let outside = with(&add, "/additions/0/name", "app.example.org.");
    // A valid addition in the same change as a bad one is not applied either.
    let mixed = json!({"additions": [a_record("ok.example.com.", "127.0.0.7"), a_record("x.example.org.", "127.0.0.7")]});
    let change =
        |at: &str, value: Value| post(&changes, with(&add, &format!("/additions/0/{at}"), value));
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("a name outside the zone", post(&changes, outside.clone()), 400, "invalid",
            Has(&["not within the zone"])),
        ("a name not absolute", change("name", json!("app.example.com")), 400, "invalid", Any),
        ("an A record's data not an IP", change("rrdatas", json!(["my-host"])), 400, "invalid",
            Has(&["'my-host'"])),
        ("an unknown field", change("ttl_seconds", json!(5)), 400, "invalid",
            Is("Invalid JSON payload received. Unknown name \"ttl_seconds\" at \
                'change.additions[0]': Cannot find field.")),
        ("a ttl not an integer", change("ttl", json!("soon")), 400, "invalid",
            Has(&["'change.additions[0].ttl' (TYPE_INT32)"])),
        ("an empty change", post(&changes, json!({})), 400, "invalid", Has(&["it is empty"])),
        ("a good addition beside a bad one", post(&changes, mixed), 400, "invalid",
            Has(&["'entity.change.additions[1]'", "not within the zone"])),
        ("no such zone", post(Fake::dns("managedZones/missing/changes"), outside), 404, "notFound",
            Any),
        ("no such change", get(format!("{changes}/42")), 404, "notFound", Any),
    ];
    check(&fake, cases).await;
    let records = fake.server.state().record_sets(PROJECT, "example-zone");
    assert_eq!(records.len(), 2, "only the apex");
}
