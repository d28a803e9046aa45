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

#[tokio::test]
async fn lists_span_pages_by_next_link_and_an_item_deleted_meanwhile_skips_none() {
    let arm = Arm::start().await;
    arm.fake.state().set_page_size(2);
    for g in ["a", "b", "c", "d", "e"] {
        arm.put_done(&rg(g), RES, group_body()).await;
    }
    arm.put_done(&rg("untagged"), RES, json!({"location": LOC}))
        .await;
    let groups = format!("/subscriptions/{SUB}/resourcegroups");
    let mut url = format!(
        "{}{groups}?api-version={RES}&$filter=tagName eq 'carto-env'",
        arm.fake.url()
    );
    let mut pages = Vec::new();
    loop {
        let page = arm.send("GET", &url, None, &[]).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let names: Vec<String> = page.body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["name"].as_str().map(str::to_string))
            .collect();
        pages.push(names);
        if pages.len() == 1 {
            // A sweep deleting what it has seen must not make the next page skip anything.
            arm.delete_done(&rg("a"), RES).await;
        }
        match page.body["nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, [vec!["a", "b"], vec!["c", "d"], vec!["e"]]);
    let follows = arm.fake.state().requests();
    let last = follows.last().expect("logged");
    assert!(
        last.query.contains("$filter") || last.query.contains("%24filter"),
        "nextLink keeps the filter: {}",
        last.query
    );
}

#[tokio::test]
async fn record_sets_list_by_type_answers_the_zones_sets_of_that_type() {
    let arm = Arm::start().await;
    arm.put_done(&rg("dns"), RES, group_body()).await;
    let zone = net("dns", "dnsZones", "example.com");
    arm.put_done(&zone, DNS, json!({"location": "global"}))
        .await;
    for (rtype, name) in [("A", "x"), ("A", "y"), ("TXT", "x")] {
        let body = if rtype == "A" {
            record_body("192.0.2.1")
        } else {
            json!({"properties": {"TTL": 300, "TXTRecords": [{"value": ["v"]}]}})
        };
        let a = arm
            .call("PUT", &format!("{zone}/{rtype}/{name}"), DNS, Some(body))
            .await;
        assert!(a.status < 300, "{:?}", a.body);
    }
    let list = arm.call("GET", &format!("{zone}/A"), DNS, None).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let names: Vec<&str> = list.body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["x", "y"]);
    assert_eq!(
        list.body["value"][0]["properties"]["ARecords"][0]["ipv4Address"],
        "192.0.2.1"
    );
    let other = net("dns", "dnsZones", "other.com");
    let missing = arm.call("GET", &format!("{other}/A"), DNS, None).await;
    assert_eq!(missing.status, 404, "{:?}", missing.body);
}

#[tokio::test]
async fn resources_filtered_by_tag_value_come_without_tags_and_by_group_substring_with_them() {
    let arm = Arm::start().await;
    arm.put_done(&rg("carto-a-rg"), RES, group_body()).await;
    arm.put_done(
        &net("carto-a-rg", "publicIPAddresses", "p"),
        NET,
        pip_body(),
    )
    .await;
    let list = |f: &str| {
        format!(
            "{}/subscriptions/{SUB}/resources?api-version={RES}&$filter={f}",
            arm.fake.url()
        )
    };
    let by_tag = arm
        .send(
            "GET",
            &list("tagName eq 'carto-env' and tagValue eq 't1'"),
            None,
            &[],
        )
        .await;
    assert_eq!(by_tag.body["value"][0]["name"], "p", "{:?}", by_tag.body);
    assert!(by_tag.body["value"][0].get("tags").is_none());
    let by_group = arm
        .send(
            "GET",
            &list("substringof('carto-', resourceGroup)"),
            None,
            &[],
        )
        .await;
    assert_eq!(by_group.body["value"][0]["tags"]["carto-env"], "t1");
    let other = arm
        .send(
            "GET",
            &list("substringof('other', resourceGroup)"),
            None,
            &[],
        )
        .await;
    assert_eq!(other.body["value"], json!([]));
}
