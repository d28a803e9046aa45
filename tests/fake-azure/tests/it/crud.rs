//! Every resource kind through create → get → delete → get (404), in dependency order, with
//! the generated fields the provider reads (public IP address, private IP, fqdn) checked.

use serde_json::{Value, json};

use crate::client::*;

struct Kind {
    path: String,
    api: &'static str,
    body: Value,
    rtype: &'static str,
}

fn kinds(g: &str) -> Vec<Kind> {
    let vnet = net(g, "virtualNetworks", "vnet");
    let nsg = net(g, "networkSecurityGroups", "nsg");
    let pip = net(g, "publicIPAddresses", "pip");
    let nic = net(g, "networkInterfaces", "nic");
    let subnet = format!("{vnet}/subnets/app");
    let zone = net(g, "dnsZones", "example.com");
    let k = |path: &str, api, body, rtype| Kind {
        path: path.to_string(),
        api,
        body,
        rtype,
    };
    vec![
        k(
            &rg(g),
            RES,
            group_body(),
            "Microsoft.Resources/resourceGroups",
        ),
        k(&vnet, NET, vnet_body(), "Microsoft.Network/virtualNetworks"),
        k(
            &subnet,
            NET,
            json!({"properties": {"addressPrefix": "10.0.1.0/24"}}),
            "Microsoft.Network/virtualNetworks/subnets",
        ),
        k(
            &nsg,
            NET,
            nsg_body(),
            "Microsoft.Network/networkSecurityGroups",
        ),
        k(
            &format!("{nsg}/securityRules/https"),
            NET,
            json!({"properties": rule_props("443", 110)}),
            "Microsoft.Network/networkSecurityGroups/securityRules",
        ),
        k(&pip, NET, pip_body(), "Microsoft.Network/publicIPAddresses"),
        k(
            &nic,
            NET,
            nic_body(&subnet, &pip, &nsg),
            "Microsoft.Network/networkInterfaces",
        ),
        k(
            &vm(g, "carto"),
            VM,
            vm_body(&nic),
            "Microsoft.Compute/virtualMachines",
        ),
        k(
            &zone,
            DNS,
            json!({"location": "global", "tags": {"carto-env": "t1"}}),
            "Microsoft.Network/dnsZones",
        ),
        k(
            &format!("{zone}/A/carto"),
            DNS,
            record_body("127.0.0.2"),
            "Microsoft.Network/dnsZones/A",
        ),
    ]
}

#[tokio::test]
async fn every_kind_create_get_delete_get_404() {
    let arm = Arm::start().await;
    let all = kinds("crud");
    for k in &all {
        let created = arm.put_done(&k.path, k.api, k.body.clone()).await;
        assert_eq!(created.status, 201, "{}: {:?}", k.path, created.body);
        let got = arm.call("GET", &k.path, k.api, None).await;
        assert_eq!(got.status, 200, "{}: {:?}", k.path, got.body);
        assert_eq!(got.body["id"], k.path.as_str());
        assert_eq!(got.body["type"], k.rtype);
        assert_eq!(
            got.body["name"],
            k.path.rsplit('/').next().unwrap_or_default()
        );
        if k.body.get("tags").is_some() {
            assert_eq!(got.body["tags"], k.body["tags"], "{}", k.path);
        }
        let state = &got.body["properties"]["provisioningState"];
        assert!(
            state.is_null() || state == "Succeeded",
            "{}: {state}",
            k.path
        );
    }
    for k in all.iter().rev() {
        let deleted = arm.delete_done(&k.path, k.api).await;
        assert!(
            matches!(deleted.status, 200 | 202),
            "{}: {:?}",
            k.path,
            deleted.body
        );
        let gone = arm.call("GET", &k.path, k.api, None).await;
        assert_eq!(gone.status, 404, "{}", k.path);
        let want = if k.api == RES {
            "ResourceGroupNotFound"
        } else {
            "ResourceNotFound"
        };
        assert_eq!(gone.code(), want, "{}", k.path);
    }
    assert!(arm.fake.state().resource_ids().is_empty());
}

#[tokio::test]
async fn generated_fields_and_embedded_children() {
    let arm = Arm::start_with(carto_fake_azure::FakeConfig {
        public_ip: "127.0.0.7".parse().expect("ip"),
        ..Default::default()
    })
    .await;
    let all = kinds("gen");
    for k in &all {
        arm.put_done(&k.path, k.api, k.body.clone()).await;
    }
    let get = |i: usize| arm.call("GET", &all[i].path, all[i].api, None);
    let vnet = get(1).await.body;
    let names: Vec<&str> = vnet["properties"]["subnets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["app", "default"],
        "inline and separately created subnets"
    );
    let nsg = get(3).await.body;
    assert_eq!(
        nsg["properties"]["securityRules"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(get(5).await.body["properties"]["ipAddress"], "127.0.0.7");
    let nic = get(6).await.body;
    assert_eq!(
        nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
        "10.0.0.4"
    );
    let vm = get(7).await.body;
    assert!(vm["properties"]["vmId"].is_string());
    assert!(
        vm["properties"]["osProfile"].get("customData").is_none(),
        "customData never returned"
    );
    assert_eq!(
        get(9).await.body["properties"]["fqdn"],
        "carto.example.com."
    );
    let zones = arm
        .call(
            "GET",
            &format!("/subscriptions/{SUB}/providers/Microsoft.Network/dnszones"),
            DNS,
            None,
        )
        .await;
    assert_eq!(zones.status, 200);
    assert_eq!(zones.body["value"][0]["name"], "example.com");
    let sent = arm
        .fake
        .state()
        .requests()
        .into_iter()
        .find(|r| r.op_id.as_deref() == Some("VirtualMachines_CreateOrUpdate"))
        .and_then(|r| r.body)
        .expect("VM body logged");
    assert_eq!(
        sent["properties"]["osProfile"]["customData"],
        "I2Nsb3VkLWNvbmZpZwo="
    );
}

#[tokio::test]
async fn deleting_the_group_removes_everything_inside() {
    let arm = Arm::start().await;
    for k in &kinds("cascade") {
        arm.put_done(&k.path, k.api, k.body.clone()).await;
    }
    arm.put_done(&rg("other"), RES, group_body()).await;
    let a = arm.call("DELETE", &rg("cascade"), RES, None).await;
    assert_eq!(a.status, 202);
    let during = arm.call("GET", &rg("cascade"), RES, None).await;
    assert_eq!(during.body["properties"]["provisioningState"], "Deleting");
    arm.wait(&a.header("location").expect("Location")).await;
    let left = arm.fake.state().resource_ids();
    assert_eq!(left, vec![rg("other")]);
    let vm_get = arm.call("GET", &vm("cascade", "carto"), VM, None).await;
    assert_eq!(
        (vm_get.status, vm_get.code()),
        (404, "ResourceGroupNotFound")
    );
}

#[tokio::test]
async fn lists_filter_by_tag_for_sweeps() {
    let arm = Arm::start().await;
    arm.put_done(&rg("a"), RES, group_body()).await;
    arm.put_done(
        &rg("b"),
        RES,
        json!({"location": LOC, "tags": {"carto-env": "t2"}}),
    )
    .await;
    arm.put_done(&rg("c"), RES, json!({"location": LOC})).await;
    let groups = format!("/subscriptions/{SUB}/resourcegroups");
    let url = |f: &str| format!("{}{groups}?api-version={RES}&$filter={f}", arm.fake.url());
    let names = |a: &Answer| -> Vec<String> {
        a.body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["name"].as_str().map(str::to_string))
            .collect()
    };
    let tagged = arm
        .send("GET", &url("tagName eq 'carto-env'"), None, &[])
        .await;
    assert_eq!(names(&tagged), ["a", "b"]);
    let one = arm
        .send(
            "GET",
            &url("tagName eq 'carto-env' and tagValue eq 't2'"),
            None,
            &[],
        )
        .await;
    assert_eq!(names(&one), ["b"]);
    let lower = format!("/subscriptions/{SUB}/RESOURCEGROUPS/a");
    let canonical = arm.call("GET", &lower, RES, None).await;
    assert_eq!(canonical.body["id"], rg("a"), "ARM answers canonical ids");
    let bad = arm.send("GET", &url("name eq 'a'"), None, &[]).await;
    assert_eq!(bad.status, 400);
    arm.put_done(&net("a", "publicIPAddresses", "p"), NET, pip_body())
        .await;
    arm.put_done(&net("a", "virtualNetworks", "v"), NET, vnet_body())
        .await;
    let inside = arm
        .call("GET", &format!("{}/resources", rg("a")), RES, None)
        .await;
    assert_eq!(inside.status, 200, "{:?}", inside.body);
    assert_eq!(
        names(&inside),
        ["p", "v"],
        "top-level resources only, no subnets"
    );
    assert!(inside.body["value"][0].get("properties").is_none());
}
