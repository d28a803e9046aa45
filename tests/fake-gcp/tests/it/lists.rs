//! Compute `*.list` against the fake over HTTP: per-scope listings, Compute's empty-list shape,
//! and label filters as a sweep of leaked environments would use them.

use crate::common::{Fake, REGION, ZONE, address_body, instance_body, reason};
use carto_fake_gcp::Config;
use serde_json::json;

#[tokio::test]
async fn lists_filter_by_label_for_sweeps() {
    let fake = Fake::start(Config {
        polls_to_done: 0,
        address_ip: "127.0.0.7".into(),
        ..Config::default()
    })
    .await;
    let addresses = Fake::compute(&format!("regions/{REGION}/addresses"));
    let (_, empty) = fake.get(&addresses).await;
    assert_eq!(empty["kind"], "compute#addressList");
    assert!(
        empty.get("items").is_none(),
        "Compute omits items from an empty list"
    );
    fake.post(&addresses, &address_body("mine")).await;
    let other = json!({"name": "theirs", "labels": {"carto-env": "env-2"}});
    fake.post(&addresses, &other).await;
    let (status, all) = fake.get(&addresses).await;
    assert_eq!(
        (status, all["items"].as_array().map(Vec::len)),
        (200, Some(2))
    );
    let filtered = format!("{addresses}?filter=labels.carto-env%20%3D%20%22env-1%22");
    let (_, mine) = fake.get(&filtered).await;
    let names: Vec<&str> = mine["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["mine"]);
    let (status, err) = fake
        .get(&format!("{addresses}?filter=labels.carto-env"))
        .await;
    assert_eq!((status, reason(&err)), (400, "invalid"));
    let (_, elsewhere) = fake
        .get(&Fake::compute("regions/europe-west1/addresses"))
        .await;
    assert!(elsewhere.get("items").is_none(), "lists are per region");
    fake.post(
        &Fake::compute(&format!("zones/{ZONE}/instances")),
        &instance_body("vm", None, true),
    )
    .await;
    let (_, vms) = fake
        .get(&Fake::compute(&format!(
            "zones/{ZONE}/instances?filter=labels.carto-env%3Denv-1"
        )))
        .await;
    assert_eq!(vms["items"][0]["name"], "vm");
    let (_, disks) = fake
        .get(&Fake::compute(&format!("zones/{ZONE}/disks")))
        .await;
    assert_eq!(disks["items"][0]["name"], "vm");
    let (_, rules) = fake.get(&Fake::compute("global/firewalls")).await;
    assert_eq!(rules["kind"], "compute#firewallList");
}

#[tokio::test]
async fn aggregated_lists_group_by_zone_and_region_and_filter_by_label() {
    let fake = Fake::start(Config {
        polls_to_done: 0,
        address_ip: "127.0.0.7".into(),
        ..Config::default()
    })
    .await;
    let addresses = Fake::compute(&format!("regions/{REGION}/addresses"));
    fake.post(&addresses, &address_body("mine")).await;
    let other = json!({"name": "theirs", "labels": {"carto-env": "env-2"}});
    fake.post(&addresses, &other).await;
    let (status, _) = fake
        .post(
            &Fake::compute(&format!("zones/{ZONE}/instances")),
            &instance_body("vm-1", None, true),
        )
        .await;
    assert_eq!(status, 200);

    let (status, all) = fake
        .get(&Fake::compute(
            "aggregated/addresses?filter=labels.carto-env%20%3D%20%22env-1%22",
        ))
        .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["kind"], "compute#addressAggregatedList");
    let scoped = &all["items"][format!("regions/{REGION}")]["addresses"];
    let names: Vec<&str> = scoped
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["mine"]);

    let (status, instances) = fake.get(&Fake::compute("aggregated/instances")).await;
    assert_eq!(status, 200, "{instances}");
    assert_eq!(
        instances["items"][format!("zones/{ZONE}")]["instances"][0]["name"],
        "vm-1"
    );
    let (status, err) = fake
        .get(&Fake::compute(
            "aggregated/instances?filter=labels.carto-env",
        ))
        .await;
    assert_eq!((status, reason(&err)), (400, "invalid"));
}
