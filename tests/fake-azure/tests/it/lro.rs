//! Create-or-update and long-running behaviour: 201 then 200 for the same PUT, provisioning
//! state moving to Succeeded only after the configured polls, DELETE 202 + Location polling
//! then 404, 204 for absent deletes, If-None-Match on duplicates, immutable location.

use carto_fake_azure::FakeConfig;
use serde_json::json;

use crate::client::*;

async fn started(polls: u32) -> Arm {
    let arm = Arm::start_with(FakeConfig {
        lro_polls: polls,
        ..Default::default()
    })
    .await;
    arm.put_done(&rg("l"), RES, group_body()).await;
    arm
}

#[tokio::test]
async fn put_twice_creates_once_then_updates() {
    let arm = started(1).await;
    let path = net("l", "publicIPAddresses", "pip");
    let first = arm.put_done(&path, NET, pip_body()).await;
    assert_eq!(first.status, 201);
    let ip = arm.call("GET", &path, NET, None).await.body["properties"]["ipAddress"].clone();
    let mut body = pip_body();
    body["tags"] = json!({"carto-env": "t1", "extra": "yes"});
    let second = arm.put_done(&path, NET, body).await;
    assert_eq!(second.status, 200, "update answers 200");
    assert_eq!(second.body["id"], first.body["id"]);
    let got = arm.call("GET", &path, NET, None).await.body;
    assert_eq!(got["tags"]["extra"], "yes", "tags replaced by the update");
    assert_eq!(
        got["properties"]["ipAddress"], ip,
        "address kept across updates"
    );
    assert_eq!(
        arm.fake.state().count("PublicIPAddresses_CreateOrUpdate"),
        2
    );
    let pips = arm
        .fake
        .state()
        .resource_ids()
        .into_iter()
        .filter(|i| i.contains("publicIPAddresses"))
        .count();
    assert_eq!(pips, 1);
}

#[tokio::test]
async fn provisioning_state_follows_the_polls() {
    let arm = started(3).await;
    let path = vm("l", "m");
    let nic = arm.network_for_vm("l").await;
    let put = arm.call("PUT", &path, VM, Some(vm_body(&nic))).await;
    assert_eq!(put.status, 201);
    assert_eq!(put.body["properties"]["provisioningState"], "Creating");
    let op = put
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation");
    // Three observations in progress, whether operation polls or GETs of the VM.
    let poll = arm.send("GET", &op, None, &[]).await;
    assert_eq!(poll.body["status"], "InProgress");
    let vm_now = arm.call("GET", &path, VM, None).await;
    assert_eq!(vm_now.body["properties"]["provisioningState"], "Creating");
    let poll = arm.send("GET", &op, None, &[]).await;
    assert_eq!(poll.body["status"], "InProgress");
    let poll = arm.send("GET", &op, None, &[]).await;
    assert_eq!(poll.body["status"], "Succeeded");
    let vm_now = arm.call("GET", &path, VM, None).await;
    assert_eq!(vm_now.body["properties"]["provisioningState"], "Succeeded");
    let url = format!(
        "{}{path}?api-version={VM}&$expand=instanceView",
        arm.fake.url()
    );
    let view = arm.send("GET", &url, None, &[]).await;
    let codes: Vec<&str> = view.body["properties"]["instanceView"]["statuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["code"].as_str())
        .collect();
    assert_eq!(codes, ["ProvisioningState/succeeded", "PowerState/running"]);
    let plain = arm.call("GET", &path, VM, None).await;
    assert!(plain.body["properties"].get("instanceView").is_none());
    let update = arm.call("PUT", &path, VM, Some(vm_body(&nic))).await;
    assert_eq!(
        (
            update.status,
            &update.body["properties"]["provisioningState"]
        ),
        (200, &json!("Updating"))
    );
}

#[tokio::test]
async fn delete_polls_then_404_and_absent_deletes() {
    let arm = started(2).await;
    let path = net("l", "networkSecurityGroups", "n");
    arm.put_done(&path, NET, nsg_body()).await;
    let del = arm.call("DELETE", &path, NET, None).await;
    assert_eq!(del.status, 202);
    let loc = del.header("location").expect("Location");
    assert_eq!(arm.send("GET", &loc, None, &[]).await.status, 202);
    let still = arm.call("GET", &path, NET, None).await;
    assert_eq!(still.body["properties"]["provisioningState"], "Deleting");
    assert_eq!(
        arm.wait(&loc).await,
        0,
        "the GET counted as the second observation"
    );
    let zone = net("l", "dnsZones", "z.com");
    arm.put_done(&zone, DNS, json!({"location": "global"}))
        .await;
    let record = format!("{zone}/A/none");
    arm.check(vec![
        case("deleted NSG", "GET", &path, NET, None).answers(404, "ResourceNotFound"),
        case("network delete of nothing", "DELETE", &path, NET, None).answers(204, None),
        case("record-set delete of nothing", "DELETE", record, DNS, None).answers(204, None),
        case("group delete of nothing", "DELETE", rg("never"), RES, None)
            .answers(404, "ResourceGroupNotFound"),
    ])
    .await;
}

#[tokio::test]
async fn duplicate_record_set_with_if_none_match_and_etags() {
    let arm = started(0).await;
    let zone = net("l", "dnsZones", "z.com");
    arm.put_done(&zone, DNS, json!({"location": "global"}))
        .await;
    let www = format!("{zone}/A/www");
    let put = |what, ip, header, value: &str| {
        case(what, "PUT", &www, DNS, record_body(ip)).header(header, value)
    };
    let create = put("create", "127.0.0.2", "If-None-Match", "*").answers(201, None);
    let first = arm.check(vec![create]).await;
    let etag = first[0].body["etag"].as_str().expect("etag");
    arm.check(vec![
        put("duplicate", "127.0.0.3", "If-None-Match", "*").answers(412, "PreconditionFailed"),
        put("matching etag", "127.0.0.4", "If-Match", etag).answers(200, None),
        put("stale etag", "127.0.0.5", "If-Match", etag).answers(412, None),
    ])
    .await;
    let got = arm.call("GET", &www, DNS, None).await;
    assert_eq!(
        got.body["properties"]["ARecords"][0]["ipv4Address"],
        "127.0.0.4"
    );
}

#[tokio::test]
async fn location_cannot_change_and_in_use_cannot_be_deleted() {
    let arm = started(0).await;
    let pip = net("l", "publicIPAddresses", "p");
    arm.put_done(&pip, NET, pip_body()).await;
    let moved = case("moved IP", "PUT", &pip, NET, pip_body()).set("/location", "eastus");
    arm.check(vec![moved.answers(400, "InvalidResourceLocation")])
        .await;
    let vnet = net("l", "virtualNetworks", "v");
    let nsg = net("l", "networkSecurityGroups", "n");
    arm.put_done(&vnet, NET, vnet_body()).await;
    arm.put_done(&nsg, NET, nsg_body()).await;
    let subnet = format!("{vnet}/subnets/default");
    let nic = net("l", "networkInterfaces", "nic");
    arm.put_done(&nic, NET, nic_body(&subnet, &pip, &nsg)).await;
    let in_use = "InUseSubnetCannotBeDeleted";
    arm.check(vec![
        case("IP in use", "DELETE", &pip, NET, None).answers(400, "PublicIPAddressCannotBeDeleted"),
        case("subnet in use", "DELETE", &subnet, NET, None).answers(400, in_use),
        case("dropping a used subnet", "PUT", &vnet, NET, vnet_body())
            .set("/properties/subnets", json!([]))
            .answers(400, in_use),
    ])
    .await;
    arm.delete_done(&nic, NET).await;
    assert_eq!(arm.delete_done(&pip, NET).await.status, 202);
}

#[tokio::test]
async fn polling_the_resource_alone_also_finishes_the_operation() {
    let arm = started(2).await;
    let path = net("l", "virtualNetworks", "v");
    let put = arm.call("PUT", &path, NET, Some(vnet_body())).await;
    assert_eq!(put.body["properties"]["provisioningState"], "Updating");
    let mut states = Vec::new();
    for _ in 0..3 {
        let got = arm.call("GET", &path, NET, None).await;
        states.push(got.body["properties"]["provisioningState"].clone());
    }
    assert_eq!(
        states,
        [json!("Updating"), json!("Updating"), json!("Succeeded")]
    );
    let subnet = arm
        .call("GET", &format!("{path}/subnets/default"), NET, None)
        .await;
    assert_eq!(subnet.body["properties"]["provisioningState"], "Succeeded");
}

#[tokio::test]
async fn injected_failure_ends_the_operation_failed() {
    let arm = started(1).await;
    arm.fake.state().fail_next(
        "PublicIPAddresses_CreateOrUpdate",
        "QuotaExceeded",
        "No more public IPs.",
    );
    let path = net("l", "publicIPAddresses", "p");
    let put = arm.call("PUT", &path, NET, Some(pip_body())).await;
    assert_eq!(put.status, 201);
    let op = put.header("azure-asyncoperation").expect("operation");
    assert_eq!(
        arm.send("GET", &op, None, &[]).await.body["status"],
        "InProgress"
    );
    let done = arm.send("GET", &op, None, &[]).await;
    assert_eq!(done.body["status"], "Failed");
    assert_eq!(done.body["error"]["code"], "QuotaExceeded");
    let got = arm.call("GET", &path, NET, None).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Failed");
    let retry = arm.put_done(&path, NET, pip_body()).await;
    assert_eq!(retry.status, 200, "the failure was for one operation only");
    let now = arm.call("GET", &path, NET, None).await;
    assert_eq!(now.body["properties"]["provisioningState"], "Succeeded");
}

#[tokio::test]
async fn create_only_vm_properties_cannot_change() {
    let arm = started(0).await;
    let nic = arm.network_for_vm("l").await;
    arm.put_done(&vm("l", "m"), VM, vm_body(&nic)).await;
    let changed = case("customData", "PUT", vm("l", "m"), VM, vm_body(&nic))
        .set("/properties/osProfile/customData", "b3RoZXIK")
        .answers(409, "PropertyChangeNotAllowed")
        .says(&["customData"]);
    let a = &arm.check(vec![changed]).await[0];
    assert!(
        a.header("x-ms-request-id").is_some(),
        "every answer carries a request id"
    );
    let mut resized = vm_body(&nic);
    resized["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_D4s_v5");
    assert_eq!(arm.put_done(&vm("l", "m"), VM, resized).await.status, 200);
}
