//! Gaps a review found in the fake's checks, one test each: undeclared query parameters,
//! values whose schema is an unresolved `$ref`, contracts with patterns the regex engine
//! cannot compile or served operations whose parameters do not resolve.

use std::path::{Path, PathBuf};

use carto_fake_azure::{FakeConfig, FakeServer, StartError};
use serde_json::{Value, json};

use crate::client::*;

#[tokio::test]
async fn an_undeclared_query_parameter_is_refused() {
    let arm = Arm::start().await;
    let url = format!(
        "{}{}?api-version={RES}&force=true",
        arm.fake.url(),
        rg("q1")
    );
    let a = arm.send("PUT", &url, Some(group_body()), &[]).await;
    assert_eq!(
        (a.status, a.code()),
        (400, "InvalidQueryParameter"),
        "{:?}",
        a.body
    );
    assert!(
        a.message().contains("'force'") && a.message().contains("ResourceGroups_CreateOrUpdate"),
        "{}",
        a.message()
    );
    assert_eq!(
        a.body.as_object().map(|o| o.len()),
        Some(1),
        "ARM's shape: only `error`"
    );
    assert!(
        arm.fake.state().resource(&rg("q1")).is_none(),
        "nothing created"
    );
    // Declared ones still pass: `$filter` / `$top` on the group list.
    let list = format!("/subscriptions/{SUB}/resourcegroups");
    let url = format!("{}{list}?api-version={RES}&$top=5", arm.fake.url());
    assert_eq!(arm.send("GET", &url, None, &[]).await.status, 200);
}

#[tokio::test]
async fn catalogue_sku_and_operation_calls_refuse_undeclared_query_parameters() {
    let arm = Arm::start().await;
    arm.put_done(&rg("q2"), RES, group_body()).await;
    let vnet = net("q2", "virtualNetworks", "v");
    let started = arm.call("PUT", &vnet, NET, Some(vnet_body())).await;
    let status_url = started
        .header("azure-asyncoperation")
        .expect("a long-running PUT");
    let base = arm.fake.url();
    let skus = format!(
        "{base}/subscriptions/{SUB}/providers/Microsoft.Compute/skus?api-version=2021-07-01"
    );
    let cases = [
        format!("{base}/subscriptions/{SUB}?api-version=2021-01-01&verbose=1"),
        format!("{base}/subscriptions/{SUB}/locations?api-version=2021-01-01&verbose=1"),
        format!("{skus}&verbose=1"),
        format!("{status_url}&verbose=1"),
    ];
    for url in &cases {
        let a = arm.send("GET", url, None, &[]).await;
        assert_eq!(
            (a.status, a.code()),
            (400, "InvalidQueryParameter"),
            "{url}: {:?}",
            a.body
        );
        assert!(a.message().contains("'verbose'"), "{}", a.message());
    }
    let declared = [
        format!(
            "{base}/subscriptions/{SUB}/locations?api-version=2021-01-01&includeExtendedLocations=false"
        ),
        format!("{skus}&$filter=location%20eq%20%27{LOC}%27"),
        status_url,
    ];
    for url in &declared {
        assert_eq!(arm.send("GET", url, None, &[]).await.status, 200, "{url}");
    }
}

#[tokio::test]
async fn a_value_whose_schema_does_not_resolve_is_refused() {
    let arm = Arm::start().await;
    arm.put_done(&rg("u1"), RES, group_body()).await;
    // `natGateway` is `./natGateway.json#/definitions/NatGateway`, a file the contracts lack.
    let mut body = pip_body();
    body["properties"]["natGateway"] = json!({"id": "/subscriptions/x/natGateways/n"});
    let pip = net("u1", "publicIPAddresses", "ip");
    let a = arm.call("PUT", &pip, NET, Some(body)).await;
    a.assert_invalid_content();
    assert!(
        a.message().contains("properties.natGateway") && a.message().contains("natGateway.json"),
        "{}",
        a.message()
    );
    assert!(arm.fake.state().resource(&pip).is_none());
}

/// A copy of the shipped contracts under a fresh temp dir, with `edit` applied to one file.
fn edited_contracts(tag: &str, file: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let src = FakeConfig::default_contracts_dir();
    let dst = std::env::temp_dir().join(format!("fake-azure-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    copy_dir(&src.join("specification"), &dst.join("specification"));
    let path = dst.join(file);
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    edit(&mut doc);
    std::fs::write(&path, doc.to_string()).expect("write");
    dst
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readdir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

const RESOURCES: &str =
    "specification/resources/resource-manager/Microsoft.Resources/stable/2024-03-01/resources.json";

async fn start_on(dir: &Path) -> Result<FakeServer, StartError> {
    FakeServer::start(FakeConfig {
        contracts_dir: dir.to_path_buf(),
        ..FakeConfig::default()
    })
    .await
}

#[tokio::test]
async fn a_contract_pattern_that_cannot_compile_stops_the_fake() {
    let dir = edited_contracts("pattern", RESOURCES, |doc| {
        let put = &mut doc["paths"]["/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}"]
            ["put"];
        put["parameters"][0]["pattern"] = json!("^(?!default$)[-\\w\\._\\(\\)]+$");
    });
    let started = start_on(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    match started {
        Err(StartError::Patterns(bad)) => {
            assert_eq!(bad.len(), 1, "{bad:?}");
            assert!(
                bad[0].contains("resources.json") && bad[0].contains("(?!default$)"),
                "{bad:?}"
            );
        }
        other => panic!("expected a pattern error, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_served_parameter_that_does_not_resolve_stops_the_fake() {
    let dir = edited_contracts("unresolved", RESOURCES, |doc| {
        if let Some(params) = doc["parameters"].as_object_mut() {
            params.remove("SubscriptionIdParameter");
        }
    });
    let started = start_on(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    match started {
        Err(StartError::Unresolved(ops)) => {
            assert!(
                ops.iter()
                    .any(|o| o.contains("ResourceGroups_CreateOrUpdate")
                        && o.contains("SubscriptionIdParameter")),
                "{ops:?}"
            );
        }
        other => panic!(
            "expected an unresolved-parameter error, got {:?}",
            other.map(|_| ())
        ),
    }
}
