//! The network security group: exactly the environment's firewall rules as inbound Allow rules
//! (22/tcp from the operator at priority 100, 443/tcp at 110, 80/tcp at 120; world-open rules
//! come from the `Internet` service tag), nothing else. Attached to the NIC.

use carto_core::{FirewallRule, InfraSpec, ResourceKind, ResourceRef, Result};
use serde_json::{Value, json};

use crate::arm::{ensure, model, resource_tags};
use crate::config::Clients;
use crate::network::group_name;
use crate::raw;

/// Whether a rule is open to the whole Internet (IPv4 and IPv6 "anywhere").
fn world(rule: &FirewallRule) -> bool {
    rule.sources.iter().any(|s| s == "0.0.0.0/0")
}

/// The NSG security rules for `rules`, priorities 100, 110, 120… in order.
pub fn security_rules(rules: &[FirewallRule]) -> Vec<Value> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut p = json!({
                "protocol": "Tcp",
                "access": "Allow",
                "direction": "Inbound",
                "priority": 100 + 10 * i,
                "sourcePortRange": "*",
                "destinationAddressPrefix": "*",
                "destinationPortRange": r.port.to_string(),
                "description": format!("carto-provision: {} from {}", r.name, r.sources.join(", ")),
            });
            if world(r) {
                p["sourceAddressPrefix"] = json!("Internet");
            } else if let [one] = r.sources.as_slice() {
                p["sourceAddressPrefix"] = json!(one);
            } else {
                p["sourceAddressPrefixes"] = json!(r.sources);
            }
            json!({"name": r.name, "properties": p})
        })
        .collect()
}

/// Creates (or finds) the NSG.
pub async fn ensure_nsg(c: &Clients, spec: &InfraSpec) -> Result<ResourceRef> {
    const CALLS: (&str, &str) = (
        "network:NetworkSecurityGroups_Get",
        "network:NetworkSecurityGroups_CreateOrUpdate",
    );
    let sub = c.sub()?;
    let rg = group_name(spec);
    let name = spec.env.resource("nsg");
    let body: azure_mgmt_network::package_2024_03::models::NetworkSecurityGroup = model(
        CALLS.1,
        json!({
            "location": spec.region,
            "tags": resource_tags(spec, &[]),
            "properties": {"securityRules": security_rules(&spec.firewall)},
        }),
    )?;
    let nsgs = c.network.network_security_groups_client();
    let what = format!("network security group {name} in {rg}");
    let v = ensure(
        c,
        CALLS,
        &what,
        raw!(nsgs.get(&rg, &name, sub)),
        raw!(nsgs.create_or_update(&rg, &name, body.clone(), sub)),
    )
    .await?;
    let id = v["id"].as_str().unwrap_or_default();
    Ok(ResourceRef::new(ResourceKind::Firewall, id, name, &spec.region).with("group", rg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_map_to_priorities_and_sources() {
        let rules = security_rules(&carto_core::firewall_rules("203.0.113.7/32"));
        let summary: Vec<(String, u64, String, String)> = rules
            .iter()
            .map(|r| {
                let p = &r["properties"];
                (
                    r["name"].as_str().unwrap().to_string(),
                    p["priority"].as_u64().unwrap(),
                    p["destinationPortRange"].as_str().unwrap().to_string(),
                    p["sourceAddressPrefix"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("ssh".into(), 100, "22".into(), "203.0.113.7/32".into()),
                ("https".into(), 110, "443".into(), "Internet".into()),
                ("http".into(), 120, "80".into(), "Internet".into()),
            ]
        );
    }
}
