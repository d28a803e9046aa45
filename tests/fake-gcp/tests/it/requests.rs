//! What the fake refuses and how it behaves under retries: contract validation (unknown fields,
//! wrong types, bad enums, missing required values, unknown query parameters), duplicate
//! creates and `requestId` idempotency, injected throttling, latency, and the request log.

use crate::common::Says::{Any, Has, Is, Starts};
use crate::common::{Case, Fake, REGION, ZONE, check, get, message, post, reason, send, with};
use carto_fake_gcp::Config;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const REQUEST_ID: &str = "6c1f3a52-9b1e-4c7a-8f25-0d9e4b7a1c33";

fn firewall(name: &str) -> Value {
    json!({"name": name, "network": "global/networks/default",
        "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}], "sourceRanges": ["0.0.0.0/0"]})
}

/// The firewall rules the test made (not the `default` network's own).
fn ours(fake: &Fake) -> Vec<Value> {
    let rules = fake.server.state().resources("firewalls");
    let made = rules.into_iter().filter(|r| r["name"] == "fw");
    made.collect()
}

fn firewalls() -> String {
    Fake::compute("global/firewalls")
}

#[tokio::test]
async fn bodies_off_the_contract_are_refused_and_create_nothing() {
    let fake = Fake::default().await;
    let (fws, fw) = (firewalls(), firewall("fw"));
    let addresses = Fake::compute(&format!("regions/{REGION}/addresses"));
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("an unknown field", post(&fws, with(&fw, "/x", 1)), 400, "invalid", Is("Invalid JSON \
            payload received. Unknown name \"x\" at 'resource': Cannot find field.")),
        ("an unknown nested field", post(&fws, with(&fw, "/allowed/0/portz", json!(["22"]))), 400,
            "invalid", Is("Invalid JSON payload received. Unknown name \"portz\" at \
                'resource.allowed[0]': Cannot find field.")),
        ("a value off the enum", post(&fws, with(&fw, "/direction", "SIDEWAYS")), 400, "invalid",
            Is("Invalid value at 'resource.direction' (TYPE_ENUM), \"SIDEWAYS\"")),
        ("a string for an int32", post(&fws, with(&fw, "/priority", "high")), 400, "invalid",
            Is("Invalid value at 'resource.priority' (TYPE_INT32), \"high\"")),
        ("a string where a list belongs", post(&fws, with(&fw, "/sourceRanges", "0.0.0.0/0")), 400,
            "invalid", Has(&["'resource.sourceRanges'"])),
        ("a number for a label",
            post(&addresses, json!({"name": "ip", "labels": {"carto-env": 1}})), 400, "invalid",
            Is("Invalid value at 'resource.labels.carto-env' (TYPE_STRING), 1")),
        // `name` is annotated required for compute.addresses.insert in the discovery document.
        ("no required name", post(&addresses, json!({"labels": {}})), 400, "invalid",
            Is("Required field 'resource.name' not specified")),
        ("a name off its pattern", post(&fws, json!({"name": "Bad_Name", "allowed": []})), 400,
            "invalid", Starts("Invalid value for field 'resource.name': 'Bad_Name'")),
        ("no body where one is required", send("POST", &fws, None), 400, "invalid",
            Is("Required field 'resource' not specified")),
    ];
    check(&fake, cases).await;
    assert!(fake.server.state().resources("firewalls").is_empty());
    assert!(fake.server.state().resources("addresses").is_empty());
}

#[tokio::test]
async fn queries_paths_and_methods_off_the_contract_are_refused() {
    let fake = Fake::default().await;
    let zone = Fake::compute(&format!("zones/{ZONE}"));
    let stop = Fake::compute(&format!("zones/{ZONE}/instances/vm/stop"));
    let query = |query: &str| get(format!("{zone}?{query}"));
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("the standard parameters", query("alt=json&prettyPrint=false&$alt=json;enum-encoding=int"),
            200, "", Any),
        ("an unknown query parameter", query("bogus=1"), 400, "invalid",
            Has(&["Unknown name \"bogus\": Cannot bind query parameter"])),
        ("alt off its enum", query("alt=xml"), 400, "invalid", Any),
        ("prettyPrint not a boolean", query("prettyPrint=maybe"), 400, "invalid", Any),
        ("a requestId not a UUID",
            post(format!("{}?requestId=not-a-uuid", firewalls()), firewall("fw")), 400, "invalid",
            Has(&["'requestId': 'not-a-uuid'"])),
        ("the client libraries' $apiVersion, a date",
            query("$apiVersion=2026-09-01&$alt=json;enum-encoding=int"), 200, "", Any),
        ("an $apiVersion not a date", query("$apiVersion=latest"), 400, "invalid", Any),
        ("an unknown path", get("/compute/v1/projects/p/nowhere"), 404, "notFound", Any),
        ("instances.stop: in the contract, not in the fake", send("POST", &stop, None), 501,
            "notImplemented", Has(&["compute.instances.stop"])),
        ("a verb the path does not take", send("PUT", &zone, None), 405, "httpMethod", Any),
    ];
    check(&fake, cases).await;
}

#[tokio::test]
async fn duplicate_names_conflict_unless_the_request_id_repeats() {
    let fake = Fake::default().await;
    let with_id = |id: &str| format!("{}?requestId={id}", firewalls());
    let (status, first) = fake.post(&with_id(REQUEST_ID), &firewall("fw")).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = fake.post(&with_id(REQUEST_ID), &firewall("fw")).await;
    assert_eq!(
        (status, again["name"].clone()),
        (200, first["name"].clone()),
        "same operation back"
    );
    let (status, err) = fake.post(&firewalls(), &firewall("fw")).await;
    assert_eq!((status, reason(&err)), (409, "alreadyExists"));
    assert_eq!(err["error"]["status"], "ALREADY_EXISTS");
    assert!(
        message(&err).ends_with("/global/firewalls/fw' already exists"),
        "{err}"
    );
    let other = "0f0e4c1a-1111-4222-8333-944455556666";
    assert_eq!(fake.post(&with_id(other), &firewall("fw")).await.0, 409);
    assert_eq!(ours(&fake).len(), 1);

    // Finished, deleted, then the same requestId again: the old operation, no new rule.
    let (_, done) = fake.wait_done(&first).await;
    let (_, op) = fake.delete(&Fake::compute("global/firewalls/fw")).await;
    fake.wait_done(&op).await;
    let (status, replayed) = fake.post(&with_id(REQUEST_ID), &firewall("fw")).await;
    assert_eq!(
        (status, replayed["name"].clone()),
        (200, done["name"].clone())
    );
    assert_eq!(replayed["status"], "DONE");
    assert!(ours(&fake).is_empty());
}

#[tokio::test]
async fn injected_faults_hit_the_next_n_calls_only() {
    let fake = Fake::default().await;
    let state = fake.server.state();
    state.inject_fault("compute.firewalls.insert", 429, 2);
    state.inject_fault("compute.zones.get", 503, 1);
    for _ in 0..2 {
        let (status, err) = fake.post(&firewalls(), &firewall("fw")).await;
        assert_eq!((status, reason(&err)), (429, "rateLimitExceeded"));
        assert_eq!(err["error"]["status"], "RESOURCE_EXHAUSTED");
    }
    assert!(
        state.resources("firewalls").is_empty(),
        "a throttled call changes nothing"
    );
    assert_eq!(fake.post(&firewalls(), &firewall("fw")).await.0, 200);
    let zone = Fake::compute(&format!("zones/{ZONE}"));
    let (status, err) = fake.get(&zone).await;
    assert_eq!((status, reason(&err)), (503, "rateLimitExceeded"));
    assert_eq!(fake.get(&zone).await.0, 200);
    assert_eq!(state.calls("compute.firewalls.insert"), 3);
    let statuses: Vec<u16> = state.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200, 503, 200]);
}

#[tokio::test]
async fn latency_applies_per_method_or_to_all() {
    let fake = Fake::start(Config {
        latency: Duration::from_millis(120),
        ..Config::default()
    })
    .await;
    let zone = Fake::compute(&format!("zones/{ZONE}"));
    let started = Instant::now();
    fake.get(&zone).await;
    assert!(started.elapsed() >= Duration::from_millis(120));
    let state = fake.server.state();
    state.set_latency(None, Duration::ZERO);
    state.set_latency(Some("compute.zones.get"), Duration::from_millis(250));
    let started = Instant::now();
    fake.get(&Fake::compute(&format!(
        "zones/{ZONE}/machineTypes/e2-small"
    )))
    .await;
    assert!(started.elapsed() < Duration::from_millis(250));
    let started = Instant::now();
    fake.get(&zone).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn the_log_records_methods_queries_and_bodies() {
    let fake = Fake::default().await;
    fake.post(
        &format!("{}?requestId={REQUEST_ID}", firewalls()),
        &firewall("fw"),
    )
    .await;
    let log = fake.server.state().requests();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].method_id.as_deref(),
        Some("compute.firewalls.insert")
    );
    assert_eq!(
        log[0].query,
        [("requestId".to_string(), REQUEST_ID.to_string())]
    );
    assert_eq!(
        log[0].body.as_ref().map(|b| b["name"].clone()),
        Some(json!("fw"))
    );
}

#[tokio::test]
async fn it_binds_loopback_only_and_stops_when_dropped() {
    let refused = carto_fake_gcp::FakeServer::start(Config {
        bind_ip: std::net::Ipv4Addr::new(10, 0, 0, 1),
        ..Config::default()
    })
    .await;
    assert!(matches!(
        refused,
        Err(carto_fake_gcp::FakeError::NotLoopback(_))
    ));
    let fake = Fake::start(Config {
        bind_ip: std::net::Ipv4Addr::new(127, 0, 0, 3),
        ..Config::default()
    })
    .await;
    assert!(fake.server.url().starts_with("http://127.0.0.3:"));
    let zone = format!(
        "{}{}",
        fake.server.url(),
        Fake::compute(&format!("zones/{ZONE}"))
    );
    assert_eq!(
        fake.get(&Fake::compute(&format!("zones/{ZONE}"))).await.0,
        200
    );
    drop(fake);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fresh = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    assert!(
        fresh.get(&zone).send().await.is_err(),
        "nothing listens after drop"
    );
}

#[tokio::test]
async fn projects_exist_only_when_seeded() {
    let fake = Fake::default().await;
    let project = format!("/compute/v1/projects/{}", crate::common::PROJECT);
    let (status, body) = fake.get(&project).await;
    assert_eq!((status, reason(&body)), (404, "notFound"), "{body}");
    fake.server.state().add_project(crate::common::PROJECT);
    let (status, body) = fake.get(&project).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], crate::common::PROJECT);
    let (status, _) = fake.get("/compute/v1/projects/other-proj").await;
    assert_eq!(status, 404);
}
