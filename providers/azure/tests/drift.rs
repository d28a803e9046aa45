//! Firewall drift: the environment's NSG changed behind its back (the SSH rule widened to the
//! whole Internet, an RDP rule added) is put back to exactly the spec's rules by the next
//! `ensure_firewall`, and an NSG that matches the spec is not written again.

use carto_core::Provider;
use serde_json::{Value, json};

use crate::common::{SUB, fake, provider, spec, writes};

const NSG: &str =
    "/providers/Microsoft.Network/networkSecurityGroups/carto-drift-nsg?api-version=2024-05-01";

/// (name, priority, port, sources) of each security rule, sorted by priority.
fn rules(nsg: &Value) -> Vec<(String, u64, String, Vec<String>)> {
    let mut out: Vec<_> = nsg["properties"]["securityRules"]
        .as_array()
        .expect("securityRules")
        .iter()
        .map(|r| {
            let p = &r["properties"];
            let mut sources: Vec<String> = p["sourceAddressPrefixes"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(p.get("sourceAddressPrefix"))
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            sources.sort();
            let port = p["destinationPortRange"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (
                r["name"].as_str().unwrap_or_default().to_string(),
                p["priority"].as_u64().unwrap_or(0),
                port,
                sources,
            )
        })
        .collect();
    out.sort_by_key(|r| r.1);
    out
}

#[tokio::test]
async fn a_widened_ssh_rule_is_put_back_to_the_spec() {
    let fake = fake().await;
    let p = provider(&fake).await;
    let s = spec("drift");
    let r = p.preflight(&s).await.unwrap();
    p.ensure_network(&s, &r).await.unwrap();
    p.ensure_firewall(&s, &r).await.unwrap();
    let url = format!("/subscriptions/{SUB}/resourceGroups/carto-drift-rg{NSG}");
    let (_, made) = fake.call("GET", &url, None);
    let spec_rules = rules(&made);
    let expected = |name: &str, prio, port: &str, src: &str| {
        (
            name.to_string(),
            prio,
            port.to_string(),
            vec![src.to_string()],
        )
    };
    assert_eq!(
        spec_rules,
        [
            expected("ssh", 100, "22", "203.0.113.7/32"),
            expected("https", 110, "443", "Internet"),
            expected("http", 120, "80", "Internet"),
        ]
    );

    // Matching the spec: nothing written.
    let before = writes(fake.state());
    p.ensure_firewall(&s, &r).await.unwrap();
    assert_eq!(
        writes(fake.state()),
        before,
        "an NSG matching the spec was written"
    );

    // Someone opens SSH to the world and adds RDP.
    let mut changed = json!({"location": made["location"], "tags": made["tags"], "properties": {"securityRules": made["properties"]["securityRules"]}});
    let ssh = &mut changed["properties"]["securityRules"][0];
    ssh["properties"]["sourceAddressPrefix"] = json!("0.0.0.0/0");
    changed["properties"]["securityRules"].as_array_mut().unwrap().push(json!({"name": "rdp", "properties": {
        "protocol": "Tcp", "access": "Allow", "direction": "Inbound", "priority": 130, "sourcePortRange": "*",
        "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "destinationPortRange": "3389"}}));
    for r in changed["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
    {
        if let Some(p) = r["properties"].as_object_mut() {
            p.remove("provisioningState");
        }
        if let Some(o) = r.as_object_mut() {
            o.retain(|k, _| k == "name" || k == "properties");
        }
    }
    let (status, body) = fake.call("PUT", &url, Some(&changed));
    assert!(status < 300, "{status} {body}");
    let (_, drifted) = fake.call("GET", &url, None);
    assert_ne!(rules(&drifted), spec_rules, "the fake kept the change");

    p.ensure_firewall(&s, &r).await.unwrap();
    let (_, after) = fake.call("GET", &url, None);
    assert_eq!(rules(&after), spec_rules);
}
