//! `instances.setMetadata` against the fake: conditional on the metadata fingerprint (412
//! conditionNotMet on a stale or missing one, nothing changed), a new fingerprint per accepted
//! write, and the body checked against the `Metadata` schema.

use crate::common::Says::Any;
use crate::common::{Case, Fake, ZONE, check, instance_body, post};
use serde_json::{Value, json};

async fn instance_with_metadata(fake: &Fake) -> (String, Value) {
    let mut body = instance_body("env-1-vm", None, true);
    body["metadata"] = json!({"items": [
        {"key": "ssh-keys", "value": "ubuntu:ssh-ed25519 AAAA test"},
        {"key": "user-data", "value": "#cloud-config\n"},
    ]});
    let (status, op) = fake
        .post(&Fake::compute(&format!("zones/{ZONE}/instances")), &body)
        .await;
    assert_eq!(status, 200, "{op}");
    fake.wait_done(&op).await;
    let vm = Fake::compute(&format!("zones/{ZONE}/instances/env-1-vm"));
    let metadata = fake.get(&vm).await.1["metadata"].clone();
    (vm, metadata)
}

#[tokio::test]
async fn set_metadata_needs_the_current_fingerprint() {
    let fake = Fake::default().await;
    let (vm, before) = instance_with_metadata(&fake).await;
    let first = before["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();
    let set = format!("{vm}/setMetadata");
    let only_keys = json!([{"key": "ssh-keys", "value": "ubuntu:ssh-ed25519 AAAA test"}]);

    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("no fingerprint", post(&set, json!({"items": only_keys})), 412, "conditionNotMet", Any),
        ("a wrong fingerprint", post(&set, json!({"fingerprint": "0000", "items": only_keys})), 412,
            "conditionNotMet", Any),
    ];
    check(&fake, cases).await;
    assert_eq!(
        fake.get(&vm).await.1["metadata"],
        before,
        "a refused write changed it"
    );

    let (status, op) = fake
        .post(&set, &json!({"fingerprint": first, "items": only_keys}))
        .await;
    assert_eq!(status, 200, "{op}");
    assert_eq!(op["operationType"], "setMetadata");
    fake.wait_done(&op).await;
    let after = fake.get(&vm).await.1["metadata"].clone();
    assert_eq!(after["items"], only_keys);
    assert_ne!(after["fingerprint"], before["fingerprint"]);

    // The fingerprint it just replaced is stale now, even for the same items.
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("the replaced fingerprint", post(&set, json!({"fingerprint": first, "items": only_keys})),
            412, "conditionNotMet", Any),
        ("an unknown key", post(&set, json!({"fingerprint": after["fingerprint"], "entries": []})),
            400, "invalid", Any),
    ];
    check(&fake, cases).await;
}
