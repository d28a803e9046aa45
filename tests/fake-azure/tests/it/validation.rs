//! Requests that break the contract are refused in ARM's error shape: unknown members, bad
//! enums, wrong types, missing required members, read-only input, api-version, path enums,
//! and references to resources that do not exist.

use serde_json::json;

use crate::client::*;

async fn with_group(name: &str) -> Arm {
    let arm = Arm::start().await;
    arm.put_done(&rg(name), RES, group_body()).await;
    arm
}

#[tokio::test]
async fn unknown_member_is_rejected() {
    let arm = with_group("v1").await;
    let mut body = vnet_body();
    body["properties"]["addressSpaces"] = json!({"addressPrefixes": ["10.0.0.0/16"]});
    let a = arm
        .call("PUT", &net("v1", "virtualNetworks", "v"), NET, Some(body))
        .await;
    a.assert_invalid_content();
    assert!(a.message().contains("'addressSpaces'"), "{}", a.message());
    assert!(
        a.message().contains("properties.addressSpaces"),
        "{}",
        a.message()
    );
    let top = arm
        .call(
            "PUT",
            &rg("v2"),
            RES,
            Some(json!({"location": LOC, "colour": "red"})),
        )
        .await;
    top.assert_invalid_content();
    assert!(
        arm.fake
            .state()
            .resource(&net("v1", "virtualNetworks", "v"))
            .is_none()
    );
}

#[tokio::test]
async fn bad_enum_is_rejected() {
    let arm = with_group("e1").await;
    let mut body = nsg_body();
    body["properties"]["securityRules"][0]["properties"]["access"] = json!("Maybe");
    let a = arm
        .call(
            "PUT",
            &net("e1", "networkSecurityGroups", "n"),
            NET,
            Some(body),
        )
        .await;
    a.assert_invalid_content();
    assert!(
        a.message().contains("'Maybe'") && a.message().contains("Allow"),
        "{}",
        a.message()
    );
    let mut vm_b = vm_body("/x");
    vm_b["properties"]["storageProfile"]["osDisk"]["createOption"] = json!("FromThinAir");
    let v = arm.call("PUT", &vm("e1", "m"), VM, Some(vm_b)).await;
    assert_eq!(v.status, 400, "{:?}", v.body);
}

#[tokio::test]
async fn wrong_type_and_missing_required_are_rejected() {
    let arm = with_group("t1").await;
    let mut body = nsg_body();
    body["properties"]["securityRules"][0]["properties"]["priority"] = json!("100");
    let a = arm
        .call(
            "PUT",
            &net("t1", "networkSecurityGroups", "n"),
            NET,
            Some(body),
        )
        .await;
    a.assert_invalid_content();
    assert!(
        a.message().contains("securityRules[0].properties.priority"),
        "{}",
        a.message()
    );
    let no_loc = arm
        .call("PUT", &rg("t2"), RES, Some(json!({"tags": {}})))
        .await;
    assert_eq!(no_loc.status, 400);
    assert!(
        no_loc.message().contains("'location'"),
        "{}",
        no_loc.message()
    );
    let no_body = arm.call("PUT", &rg("t3"), RES, None).await;
    no_body.assert_invalid_content();
}

#[tokio::test]
async fn read_only_input_is_rejected() {
    let arm = with_group("r1").await;
    let mut body = pip_body();
    body["properties"]["resourceGuid"] = json!("00000000-0000-0000-0000-000000000000");
    let a = arm
        .call("PUT", &net("r1", "publicIPAddresses", "p"), NET, Some(body))
        .await;
    a.assert_invalid_content();
    assert!(a.message().contains("properties.resourceGuid") && a.message().contains("read-only"));
    let mut vnet = vnet_body();
    vnet["properties"]["provisioningState"] = json!("Succeeded");
    let b = arm
        .call("PUT", &net("r1", "virtualNetworks", "v"), NET, Some(vnet))
        .await;
    assert_eq!(
        b.status, 400,
        "provisioningState is readOnly through its $ref"
    );
}

#[tokio::test]
async fn api_version_must_match_the_contract() {
    let arm = with_group("a1").await;
    let path = net("a1", "virtualNetworks", "v");
    let a = arm
        .call("PUT", &path, "2023-09-01", Some(vnet_body()))
        .await;
    assert_eq!((a.status, a.code()), (400, "InvalidApiVersionParameter"));
    assert!(a.message().contains("'2024-05-01'"), "{}", a.message());
    let vm_with_net_version = arm.call("GET", &vm("a1", "m"), NET, None).await;
    assert_eq!(vm_with_net_version.code(), "InvalidApiVersionParameter");
    let url = format!("{}{}", arm.fake.url(), rg("a1"));
    let missing = arm.send("GET", &url, None, &[]).await;
    assert_eq!(
        (missing.status, missing.code()),
        (400, "MissingApiVersionParameter")
    );
}

#[tokio::test]
async fn path_and_query_parameters_are_checked() {
    let arm = with_group("q1").await;
    arm.put_done(
        &net("q1", "dnsZones", "z.com"),
        DNS,
        json!({"location": "global"}),
    )
    .await;
    let bad_type = net("q1", "dnsZones", "z.com") + "/B/www";
    let a = arm
        .call("PUT", &bad_type, DNS, Some(record_body("127.0.0.2")))
        .await;
    assert_eq!(
        (a.status, a.code()),
        (400, "InvalidParameter"),
        "{:?}",
        a.body
    );
    let url = format!(
        "{}{}?api-version={VM}&$expand=everything",
        arm.fake.url(),
        vm("q1", "m")
    );
    let b = arm.send("GET", &url, None, &[]).await;
    assert_eq!(
        (b.status, b.code()),
        (400, "InvalidParameter"),
        "{:?}",
        b.body
    );
    let bad_name = arm
        .call("PUT", &rg("bad!name"), RES, Some(group_body()))
        .await;
    assert_eq!(
        (bad_name.status, bad_name.code()),
        (400, "InvalidParameter"),
        "{:?}",
        bad_name.body
    );
    let unknown = arm
        .call(
            "GET",
            &format!("/subscriptions/{SUB}/providers/Microsoft.Nope/things"),
            NET,
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn references_must_exist() {
    let arm = with_group("f1").await;
    let subnet = net("f1", "virtualNetworks", "v") + "/subnets/default";
    let body = nic_body(
        &subnet,
        &net("f1", "publicIPAddresses", "p"),
        &net("f1", "networkSecurityGroups", "n"),
    );
    let a = arm
        .call(
            "PUT",
            &net("f1", "networkInterfaces", "nic"),
            NET,
            Some(body),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (400, "InvalidResourceReference"),
        "{:?}",
        a.body
    );
    let in_missing_group = arm
        .call(
            "PUT",
            &net("nope", "virtualNetworks", "v"),
            NET,
            Some(vnet_body()),
        )
        .await;
    assert_eq!(
        (in_missing_group.status, in_missing_group.code()),
        (404, "ResourceGroupNotFound")
    );
    let orphan = arm
        .call(
            "PUT",
            &subnet,
            NET,
            Some(json!({"properties": {"addressPrefix": "10.0.0.0/24"}})),
        )
        .await;
    assert_eq!((orphan.status, orphan.code()), (404, "ResourceNotFound"));
}

#[tokio::test]
async fn vm_sizes_come_from_the_sku_catalogue() {
    let arm = with_group("s1").await;
    let nic = arm.network_for_vm("s1").await;
    let mut body = vm_body(&nic);
    body["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_D4s_v5");
    let newer = arm
        .call("PUT", &vm("s1", "a"), VM, Some(body.clone()))
        .await;
    assert_eq!(
        newer.status, 201,
        "sizes newer than the contract's deprecated enum: {:?}",
        newer.body
    );
    body["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_Imaginary_v9");
    let bad_name = arm
        .call("PUT", &rg("bad!name"), RES, Some(group_body()))
        .await;
    assert_eq!(
        (bad_name.status, bad_name.code()),
        (400, "InvalidParameter"),
        "{:?}",
        bad_name.body
    );
    let unknown = arm.call("PUT", &vm("s1", "b"), VM, Some(body)).await;
    assert_eq!((unknown.status, unknown.code()), (409, "SkuNotAvailable"));
}

#[tokio::test]
async fn bodies_must_be_json() {
    let arm = Arm::start().await;
    let url = format!("{}{}?api-version={RES}", arm.fake.url(), rg("j"));
    let text = arm
        .http
        .put(&url)
        .bearer_auth(&arm.token)
        .header("content-type", "text/plain")
        .body("{\"location\": \"westeurope\"}")
        .send()
        .await
        .expect("call");
    assert_eq!(text.status(), 415);
    let broken = arm
        .http
        .put(&url)
        .bearer_auth(&arm.token)
        .header("content-type", "application/json")
        .body("{\"location\": ")
        .send()
        .await
        .expect("call");
    assert_eq!(broken.status(), 400);
    let body: serde_json::Value = broken.json().await.expect("json");
    assert_eq!(body["error"]["code"], "InvalidRequestContent");
}
