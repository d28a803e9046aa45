//! `forget_user_data` against the fake: the instance's `user-data` metadata item is gone, its
//! `ssh-keys` item stays, the write carried the fingerprint the fake checks (it refuses a stale
//! one), and a second call finds nothing to remove and writes nothing.

use carto_core::Provider;
use serde_json::Value;

use crate::common::{self, spec};

fn keys(instance: &Value) -> Vec<String> {
    instance["metadata"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["key"].as_str().map(String::from))
        .collect()
}

#[tokio::test]
async fn forget_user_data_drops_the_item_and_keeps_ssh_keys() {
    let env = common::start().await;
    let s = spec("meta", "carto.example.com");
    let p = &env.provider;
    let resolved = p.preflight(&s).await.expect("preflight");
    p.ensure_network(&s, &resolved).await.expect("network");
    p.ensure_subnet(&s, &resolved).await.expect("subnet");
    let firewall = p.ensure_firewall(&s, &resolved).await.expect("firewall");
    let address = p.ensure_address(&s, &resolved).await.expect("address");
    let vm = p
        .ensure_vm(&s, &resolved, &firewall, &address)
        .await
        .expect("vm");
    let before = env.resources("instances").remove(0);
    assert_eq!(keys(&before), ["ssh-keys", "user-data"]);

    p.forget_user_data(&vm).await.expect("forget user-data");
    let after = env.resources("instances").remove(0);
    assert_eq!(keys(&after), ["ssh-keys"], "{}", after["metadata"]);
    assert_eq!(
        after["metadata"]["items"][0]["value"],
        before["metadata"]["items"][0]["value"]
    );
    assert_ne!(
        after["metadata"]["fingerprint"],
        before["metadata"]["fingerprint"]
    );
    assert_eq!(env.calls("compute.instances.setMetadata"), 1);

    p.forget_user_data(&vm).await.expect("forget again");
    assert_eq!(env.calls("compute.instances.setMetadata"), 1, "wrote again");

    p.delete(&vm, std::time::Duration::from_secs(30))
        .await
        .expect("delete");
    let err = p.forget_user_data(&vm).await.expect_err("a deleted VM");
    assert_eq!(err.kind, carto_core::ErrorKind::NotFound, "{err}");
}
