//! The network security group: exactly the environment's firewall rules as inbound Allow rules
//! (22/tcp from the operator at priority 100, 443/tcp at 110, 80/tcp at 120; world-open rules
//! come from the `Internet` service tag), nothing else. Attached to the NIC. An NSG whose rules
//! drifted from the spec (a source widened, a rule added or removed) is PUT again with exactly
//! the spec's rules on every run.

use carto_core::{FirewallRule, InfraSpec, Planned, ResourceKind, ResourceRef, Result};
use serde_json::{Value, json};

use crate::arm::{OP_TIMEOUT, ensure, model, resource_tags, wait_provisioned};
use crate::config::Clients;
use crate::network::group_name;
use crate::operation::{Operation, wait_operation};
use crate::raw;
use crate::transport::send;

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

/// The environment's NSG's name: `carto-ENV-nsg`.
pub fn nsg_name(spec: &InfraSpec) -> String {
    spec.env.resource("nsg")
}

/// The NSG [`ensure_nsg`] would create, as `plan` shows it, read from the same rules.
pub fn planned(spec: &InfraSpec) -> Planned {
    let rules: Vec<String> = security_rules(&spec.firewall)
        .iter()
        .map(|r| {
            let p = &r["properties"];
            let from = match (&p["sourceAddressPrefix"], &p["sourceAddressPrefixes"]) {
                (Value::String(one), _) => one.clone(),
                (_, many) => many
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let port = p["destinationPortRange"].as_str().unwrap_or_default();
            format!("{port}/tcp from {from} (priority {})", p["priority"])
        })
        .collect();
    let what = format!(
        "network security group on the NIC: inbound {}; nothing else",
        rules.join("; ")
    );
    Planned::new(ResourceKind::Firewall, nsg_name(spec), what)
}

/// Creates (or finds) the NSG.
pub async fn ensure_nsg(c: &Clients, spec: &InfraSpec) -> Result<ResourceRef> {
    const CALLS: (&str, &str) = (
        "network:NetworkSecurityGroups_Get",
        "network:NetworkSecurityGroups_CreateOrUpdate",
    );
    let sub = c.sub()?;
    let rg = group_name(spec);
    let name = nsg_name(spec);
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
    let mut v = ensure(
        c,
        CALLS,
        &what,
        raw!(nsgs.get(&rg, &name, sub)),
        raw!(nsgs.create_or_update(&rg, &name, body.clone(), sub)),
    )
    .await?;
    let wanted = security_rules(&spec.firewall);
    if let Some(diff) = drift(&v["properties"]["securityRules"], &wanted) {
        tracing::warn!(nsg = %name, %diff, "security rules differ from the spec; putting them back");
        let rsp = send(
            &c.policy,
            CALLS.1,
            raw!(nsgs.create_or_update(&rg, &name, body.clone(), sub)),
        )
        .await?;
        let op = Operation::of(&rsp);
        wait_operation(c, CALLS.1, &format!("restoring {what}"), &op, OP_TIMEOUT).await?;
        v = wait_provisioned(
            c,
            CALLS.0,
            &what,
            raw!(nsgs.get(&rg, &name, sub)),
            OP_TIMEOUT,
        )
        .await?;
    }
    let id = v["id"].as_str().unwrap_or_default();
    Ok(ResourceRef::new(ResourceKind::Firewall, id, name, &spec.region).with_group(rg))
}

/// One security rule reduced to what decides who reaches the VM, in a comparable form.
fn essence(rule: &Value) -> Value {
    let p = &rule["properties"];
    let text = |k: &str| p[k].as_str().unwrap_or_default().to_ascii_lowercase();
    let list = |one: &str, many: &str| {
        let mut all: Vec<String> = p[many]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_ascii_lowercase))
            .collect();
        all.extend(
            p[one]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase),
        );
        all.sort();
        all
    };
    json!({
        "name": rule["name"], "protocol": text("protocol"), "access": text("access"),
        "direction": text("direction"), "priority": p["priority"],
        "sources": list("sourceAddressPrefix", "sourceAddressPrefixes"),
        "sourcePorts": list("sourcePortRange", "sourcePortRanges"),
        "destinations": list("destinationAddressPrefix", "destinationAddressPrefixes"),
        "ports": list("destinationPortRange", "destinationPortRanges"),
    })
}

/// How the NSG's `found` security rules differ from `wanted` (rule by rule), or `None`.
pub fn drift(found: &Value, wanted: &[Value]) -> Option<String> {
    let by_name = |rules: &[Value]| -> std::collections::BTreeMap<String, Value> {
        rules
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default().to_string(),
                    essence(r),
                )
            })
            .collect()
    };
    let found = by_name(found.as_array().map(Vec::as_slice).unwrap_or_default());
    let wanted = by_name(wanted);
    let names: std::collections::BTreeSet<&String> = found.keys().chain(wanted.keys()).collect();
    let diffs: Vec<String> = names
        .into_iter()
        .filter(|n| found.get(*n) != wanted.get(*n))
        .map(|n| match (found.get(n), wanted.get(n)) {
            (Some(f), Some(w)) => format!("{n}: {f} (spec: {w})"),
            (Some(_), None) => format!("{n}: not in the spec"),
            _ => format!("{n}: missing"),
        })
        .collect();
    (!diffs.is_empty()).then(|| diffs.join("; "))
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

    #[test]
    fn drift_is_found_rule_by_rule() {
        let wanted = security_rules(&carto_core::firewall_rules("203.0.113.7/32"));
        let found = json!(wanted.clone());
        assert_eq!(drift(&found, &wanted), None);
        let mut widened = found.clone();
        widened[0]["properties"]["sourceAddressPrefix"] = json!("*");
        widened[0]["properties"]["provisioningState"] = json!("Succeeded");
        let diff = drift(&widened, &wanted).unwrap();
        assert!(
            diff.starts_with("ssh: ") && diff.contains("\"*\""),
            "{diff}"
        );
        let mut extra = found.clone();
        extra
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "rdp", "properties": {}}));
        assert_eq!(
            drift(&extra, &wanted).as_deref(),
            Some("rdp: not in the spec")
        );
        assert_eq!(
            drift(&json!([]), &wanted)
                .unwrap()
                .matches("missing")
                .count(),
            3
        );
    }
}
