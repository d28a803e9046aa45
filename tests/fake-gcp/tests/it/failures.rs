//! Operations that end in failure: DONE carrying `error` and `httpErrorStatusCode` (which
//! google-cloud-rust's poller returns as Ok), and what that leaves behind.

use crate::common::Says::Any;
use crate::common::{Case, Fake, REGION, ZONE, check, get};
use carto_fake_gcp::Config;
use serde_json::json;

#[tokio::test]
async fn a_failed_insert_finishes_done_with_an_error_and_creates_nothing() {
    let fake = Fake::start(Config {
        address_ip: "127.0.0.7".into(),
        ..Config::default()
    })
    .await;
    let state = fake.server.state();
    let addresses = Fake::compute(&format!("regions/{REGION}/addresses"));
    let (_, op) = fake.post(&addresses, &json!({"name": "ip"})).await;
    fake.wait_done(&op).await;
    state.fail_next_operation(
        "compute.instances.insert",
        403,
        "QUOTA_EXCEEDED",
        "Quota 'CPUS' exceeded.",
    );
    let body = json!({
        "name": "vm", "machineType": format!("zones/{ZONE}/machineTypes/e2-standard-8"),
        "disks": [{"boot": true, "autoDelete": true, "initializeParams": {
            "sourceImage": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts"}}],
        "networkInterfaces": [{"accessConfigs": [{"natIP": "127.0.0.7"}]}],
    });
    let (status, op) = fake
        .post(&Fake::compute(&format!("zones/{ZONE}/instances")), &body)
        .await;
    assert_eq!(status, 200, "the insert itself is accepted: {op}");
    assert!(op["error"].is_null());
    let (_, done) = fake.wait_done(&op).await;
    assert_eq!(done["httpErrorStatusCode"], 403);
    assert_eq!(done["error"]["errors"][0]["code"], "QUOTA_EXCEEDED");
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("no VM", get(Fake::compute(&format!("zones/{ZONE}/instances/vm"))), 404, "notFound", Any),
        ("no disk", get(Fake::compute(&format!("zones/{ZONE}/disks/vm"))), 404, "notFound", Any),
    ];
    check(&fake, cases).await;
    assert_eq!(
        fake.get(&format!("{addresses}/ip")).await.1["status"],
        "RESERVED"
    );

    // Only the next operation fails: the retry succeeds.
    let (_, op) = fake
        .post(&Fake::compute(&format!("zones/{ZONE}/instances")), &body)
        .await;
    let (_, done) = fake.wait_done(&op).await;
    assert!(
        done["error"].is_null() && done["httpErrorStatusCode"].is_null(),
        "{done}"
    );
    assert_eq!(
        fake.get(&Fake::compute(&format!("zones/{ZONE}/instances/vm")))
            .await
            .1["status"],
        "RUNNING"
    );
}

#[tokio::test]
async fn a_failed_delete_leaves_the_resource() {
    let fake = Fake::start(Config {
        polls_to_done: 1,
        ..Config::default()
    })
    .await;
    let rule = json!({"name": "fw", "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}]});
    let (_, op) = fake.post(&Fake::compute("global/firewalls"), &rule).await;
    fake.wait_done(&op).await;
    fake.server.state().fail_next_operation(
        "compute.firewalls.delete",
        400,
        "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE",
        "in use",
    );
    let path = Fake::compute("global/firewalls/fw");
    let (_, op) = fake.delete(&path).await;
    let (_, done) = fake.wait_done(&op).await;
    assert_eq!(
        done["error"]["errors"][0]["code"],
        "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"
    );
    assert_eq!(fake.get(&path).await.0, 200);
}
