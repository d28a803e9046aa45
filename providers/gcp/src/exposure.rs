//! Whether a network the user named is safe to put the VM in: preflight reads the network's
//! firewall rules (read-only) and refuses one that opens anything but 80 and 443 to the whole
//! Internet on the VM. A rule counts when it is an enabled INGRESS allow rule that applies to
//! the VM (no target tags or service accounts, or the environment's network tag) with
//! `0.0.0.0/0` or `::/0` among its sources; then any port but 80 and 443 is refused, and an
//! allowance without ports means every port. ICMP carries no ports and is not refused. The
//! environment's own rules are not judged here: `ensure_firewall` puts them back to the spec.

use carto_core::{InfraSpec, Input, InvalidInput, Phrase, ProviderError, Result};
use google_cloud_compute_v1::model::Firewall;

use crate::config::Clients;
use crate::labels;

const WORLD: [&str; 2] = ["0.0.0.0/0", "::/0"];

/// Refuses, as bad input naming the network, the rule and the port, a network whose rules
/// open more than HTTP and HTTPS to the world on the environment's VM. Nothing to check
/// when the environment has its own network.
pub async fn check(c: &Clients, spec: &InfraSpec) -> Result<()> {
    let Some(name) = &spec.network else {
        return Ok(());
    };
    if !rfc1035(name) {
        return Err(ProviderError::invalid(
            "compute.networks.get",
            InvalidInput::new(
                Input::Network,
                format!("{name:?}"),
                "is not a network name: give one like my-vpc (lower-case letters, digits and dashes)",
            ),
        ));
    }
    crate::network::placement(c, spec).await?;
    let rules = rules_of(c, name).await?;
    let tag = labels::network_tag(&spec.env);
    let theirs = rules.iter().filter(|f| {
        let owner = f
            .description
            .as_deref()
            .and_then(labels::env_of_description);
        owner.as_deref() != Some(spec.env.as_str())
    });
    let open: Vec<String> = theirs
        .filter_map(|rule| {
            let what = world_open(rule, &tag)?;
            Some(format!(
                "{} {what}",
                rule.name.as_deref().unwrap_or("(unnamed)")
            ))
        })
        .collect();
    if !open.is_empty() {
        return Err(ProviderError::invalid(
            "compute.firewalls.list",
            InvalidInput::new(
                Input::Network,
                name,
                format!(
                    "has firewall rules that open more than 80/443 to the whole Internet on the VM ({})",
                    open.join(", ")
                ),
            )
            .hint(Phrase::from("remove or narrow them, or leave ").input(Input::Network).text(
                " out so the environment gets its own network with only SSH from you and 80/443 open",
            )),
        ));
    }
    Ok(())
}

/// Every firewall rule of network `name`.
async fn rules_of(c: &Clients, name: &str) -> Result<Vec<Firewall>> {
    let on_network = |f: &Firewall| {
        f.network
            .as_deref()
            .is_some_and(|n| n.rsplit('/').next() == Some(name))
    };
    let all = crate::firewall::list_all(c).await?;
    Ok(all.into_iter().filter(on_network).collect())
}

/// What `rule` opens to the world on a VM carrying network tag `tag` beyond 80 and 443
/// (`tcp:22`, `tcp:all ports`), if anything.
pub fn world_open(rule: &Firewall, tag: &str) -> Option<String> {
    let ingress = rule
        .direction
        .as_ref()
        .and_then(|d| d.name())
        .is_none_or(|d| d == "INGRESS");
    let applies = (rule.target_tags.is_empty() && rule.target_service_accounts.is_empty())
        || rule.target_tags.iter().any(|t| t == tag);
    let from_world = rule
        .source_ranges
        .iter()
        .any(|s| WORLD.contains(&s.as_str()));
    if !ingress || rule.disabled == Some(true) || !applies || !from_world {
        return None;
    }
    rule.allowed.iter().find_map(|a| {
        let protocol = a.ip_protocol.as_deref().unwrap_or("all");
        if matches!(protocol, "icmp" | "1" | "ipv6-icmp" | "58") {
            return None;
        }
        if a.ports.is_empty() {
            return Some(format!("{protocol}:all ports"));
        }
        a.ports
            .iter()
            .find(|p| !matches!(p.as_str(), "80" | "443" | "80-80" | "443-443"))
            .map(|p| format!("{protocol}:{p}"))
    })
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, 1 to 63 characters: a Compute resource name.
fn rfc1035(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=63).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.last().is_some_and(|c| *c != b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_compute_v1::model::firewall::Allowed;

    fn rule(protocol: &str, ports: &[&str], sources: &[&str], tags: &[&str]) -> Firewall {
        let mut a = Allowed::default();
        a.ip_protocol = Some(protocol.into());
        a.ports = ports.iter().map(|p| p.to_string()).collect();
        let mut f = Firewall::default();
        f.direction = Some("INGRESS".into());
        f.allowed = vec![a];
        f.source_ranges = sources.iter().map(|s| s.to_string()).collect();
        f.target_tags = tags.iter().map(|s| s.to_string()).collect();
        f
    }

    #[test]
    fn only_world_open_ports_other_than_web_on_our_vm_count() {
        let tag = "carto-e";
        let open = |f: &Firewall| world_open(f, tag);
        assert_eq!(
            open(&rule("tcp", &["22"], &["0.0.0.0/0"], &[])).as_deref(),
            Some("tcp:22")
        );
        assert_eq!(
            open(&rule("tcp", &["80", "8080"], &["::/0"], &[tag])).as_deref(),
            Some("tcp:8080")
        );
        assert_eq!(
            open(&rule("tcp", &[], &["0.0.0.0/0"], &[])).as_deref(),
            Some("tcp:all ports")
        );
        assert_eq!(
            open(&rule("all", &[], &["0.0.0.0/0"], &[])).as_deref(),
            Some("all:all ports")
        );
        assert_eq!(
            open(&rule("tcp", &["80-443"], &["0.0.0.0/0"], &[])).as_deref(),
            Some("tcp:80-443")
        );
        // Web ports, narrow sources, other VMs' tags, ICMP, egress and disabled rules pass.
        assert_eq!(
            open(&rule("tcp", &["80", "443"], &["0.0.0.0/0"], &[])),
            None
        );
        assert_eq!(open(&rule("tcp", &["22"], &["203.0.113.7/32"], &[])), None);
        assert_eq!(open(&rule("tcp", &["22"], &["10.128.0.0/9"], &[])), None);
        assert_eq!(
            open(&rule("tcp", &["22"], &["0.0.0.0/0"], &["bastion"])),
            None
        );
        assert_eq!(open(&rule("icmp", &[], &["0.0.0.0/0"], &[])), None);
        let mut disabled = rule("tcp", &["22"], &["0.0.0.0/0"], &[]);
        disabled.disabled = Some(true);
        assert_eq!(open(&disabled), None);
        let mut egress = rule("tcp", &["22"], &["0.0.0.0/0"], &[]);
        egress.direction = Some("EGRESS".into());
        assert_eq!(open(&egress), None);
        assert!(rfc1035("default") && !rfc1035("Default") && !rfc1035("a b"));
    }
}
