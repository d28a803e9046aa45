//! Firewall rules in the environment's network (its own, or the one the user named): one rule
//! per core rule (`ssh`, `https`, `http`), each allowing its TCP port from its IPv4 sources to
//! the environment's network tag. Compute firewall rules carry no labels: the labels go into
//! the description. A rule of ours that drifted from the spec is put back on every run.

use std::time::Duration;

use carto_core::{
    EnvName, ErrorKind, FirewallRule, InfraSpec, Input, InvalidInput, OrAbsent, Phrase, Planned,
    Protocol, ProviderError, ResourceKind, ResourceRef, Result, TaggedResource,
};
use google_cloud_compute_v1::model::{Firewall, firewall::Allowed};

use crate::config::Clients;
use crate::labels;
use crate::network;
use crate::operation::{self, OPERATION_TIMEOUT, Scope};
use crate::send::{self, send};

/// The IPv4 sources of a rule (the VM has no IPv6 address, so `::/0` opens nothing).
pub fn ipv4_sources(rule: &FirewallRule) -> Vec<String> {
    rule.sources
        .iter()
        .filter(|s| !s.contains(':'))
        .cloned()
        .collect()
}

/// Checks that every rule keeps an IPv4 source (preflight).
pub fn check_rules(rules: &[FirewallRule]) -> Result<()> {
    for rule in rules {
        if ipv4_sources(rule).is_empty() {
            return Err(ProviderError::invalid(
                "compute.firewalls.insert",
                InvalidInput::new(
                    Input::SshCidr,
                    rule.sources.join(","),
                    Phrase::from(
                        "is IPv6 but Compute Engine VMs get an IPv4 address here: pass your IPv4 address as ",
                    )
                    .input(Input::SshCidr)
                    .text(" A.B.C.D/32"),
                ),
            ));
        }
    }
    Ok(())
}

/// The rule's resource name: `carto-ENV-ssh`.
pub fn rule_name(env: &EnvName, rule: &FirewallRule) -> String {
    env.resource(&rule.name)
}

/// The rules [`ensure_rules`] would insert, as `plan` shows them, read from the same bodies.
pub fn planned(spec: &InfraSpec) -> Vec<Planned> {
    spec.firewall
        .iter()
        .map(|rule| {
            let f = body(spec, rule);
            let what = format!(
                "ingress {}/tcp from {} to instances tagged {} in {} (IPv4 only: the VM has no IPv6 address)",
                rule.port,
                f.source_ranges.join(", "),
                f.target_tags.join(", "),
                f.network.unwrap_or_default()
            );
            Planned::new(ResourceKind::Firewall, f.name.unwrap_or_default(), what)
        })
        .collect()
}

fn body(spec: &InfraSpec, rule: &FirewallRule) -> Firewall {
    let mut allowed = Allowed::default();
    allowed.ip_protocol = Some(
        match rule.protocol {
            Protocol::Tcp => "tcp",
        }
        .to_string(),
    );
    allowed.ports = vec![rule.port.to_string()];
    let mut f = Firewall::default();
    f.name = Some(rule_name(&spec.env, rule));
    f.description = Some(labels::description(spec));
    f.network = Some(network::network_path(spec));
    f.direction = Some("INGRESS".into());
    f.priority = Some(1000);
    f.allowed = vec![allowed];
    f.source_ranges = ipv4_sources(rule);
    f.target_tags = vec![labels::network_tag(&spec.env)];
    f
}

fn reference(id: Option<u64>, name: &str) -> ResourceRef {
    labels::reference(ResourceKind::Firewall, id, name, "global")
}

/// Reads one rule by name (`None` when absent).
pub async fn get(c: &Clients, name: &str) -> Result<Option<Firewall>> {
    let project = c.project()?;
    send(&c.policy, "compute.firewalls.get", || {
        c.firewalls
            .get()
            .set_project(project)
            .set_firewall(name)
            .send()
    })
    .await
    .or_absent()
}

/// The rules holding the environment's rule names, whoever made them.
pub async fn find_named(c: &Clients, spec: &InfraSpec) -> Result<Vec<TaggedResource>> {
    let gets = spec.firewall.iter().map(|rule| async move {
        let name = rule_name(&spec.env, rule);
        let Some(f) = get(c, &name).await? else {
            return Ok(None);
        };
        let description = f.description.as_deref();
        let env = description
            .and_then(labels::env_of_description)
            .unwrap_or_default();
        let r = reference(f.id, &name);
        Ok::<_, ProviderError>(Some(labels::tagged(
            r,
            env,
            &Default::default(),
            description,
            None,
        )))
    });
    // The rules at once: one round trip however many.
    let found = futures::future::try_join_all(gets).await?;
    Ok(found.into_iter().flatten().collect())
}

/// Creates the environment's rules that do not exist yet, all at once (they need nothing of
/// each other); returns one reference per rule, in the spec's order.
pub async fn ensure_rules(c: &Clients, spec: &InfraSpec) -> Result<Vec<ResourceRef>> {
    futures::future::try_join_all(spec.firewall.iter().map(|rule| ensure_rule(c, spec, rule))).await
}

async fn ensure_rule(c: &Clients, spec: &InfraSpec, rule: &FirewallRule) -> Result<ResourceRef> {
    const CALL: &str = "compute.firewalls.insert";
    let name = rule_name(&spec.env, rule);
    if let Some(found) = get(c, &name).await? {
        let ours = found
            .description
            .as_deref()
            .and_then(labels::env_of_description);
        if ours.as_deref() != Some(spec.env.as_str()) {
            return Err(ProviderError::new(
                ErrorKind::Conflict,
                CALL,
                format!(
                    "firewall rule {name} exists but does not belong to environment {}; delete or rename it",
                    spec.env
                ),
            ));
        }
        return reconcile(c, spec, rule, found).await;
    }
    let project = c.project()?;
    let request_id = operation::request_id(&spec.nonce, &name, "insert");
    let firewall = body(spec, rule);
    let insert = || {
        c.firewalls
            .insert()
            .set_project(project)
            .set_request_id(&request_id)
            .set_body(firewall.clone())
            .send()
    };
    let id = operation::inserted_id(c, CALL, Scope::Global, insert).await?;
    Ok(reference(Some(id), &name))
}

/// Puts an existing rule of ours back to the spec when it drifted (a source widened to
/// 0.0.0.0/0, a stale operator address, another port, disabled…): `firewalls.update`
/// replaces the whole rule with the spec's. A rule in another network cannot be moved there.
async fn reconcile(
    c: &Clients,
    spec: &InfraSpec,
    rule: &FirewallRule,
    found: Firewall,
) -> Result<ResourceRef> {
    const CALL: &str = "compute.firewalls.update";
    let name = rule_name(&spec.env, rule);
    let wanted = body(spec, rule);
    let Some(diff) = drift(&found, &wanted) else {
        return Ok(reference(found.id, &name));
    };
    let (network, expected) = (
        last(found.network.as_deref()),
        last(wanted.network.as_deref()),
    );
    if network != expected {
        return Err(ProviderError::new(
            ErrorKind::Conflict,
            CALL,
            format!(
                "firewall rule {name} is in network {network}, not {expected}, where the environment's VM now goes; destroy the environment and deploy it again"
            ),
        ));
    }
    tracing::warn!(rule = %name, %diff, "firewall rule differs from the spec; putting it back");
    let project = c.project()?;
    let op = send(&c.policy, CALL, || {
        c.firewalls
            .update()
            .set_project(project)
            .set_firewall(&name)
            .set_body(wanted.clone())
            .send()
    })
    .await?;
    operation::wait(c, CALL, Scope::Global, op, OPERATION_TIMEOUT).await?;
    Ok(reference(found.id, &name))
}

fn last(link: Option<&str>) -> &str {
    let link = link.unwrap_or_default();
    link.rsplit('/').next().unwrap_or(link)
}

/// How `found` differs from `wanted` in what decides who reaches the VM, or `None`.
pub fn drift(found: &Firewall, wanted: &Firewall) -> Option<String> {
    fn sorted(v: &[String]) -> Vec<String> {
        let mut v = v.to_vec();
        v.sort();
        v
    }
    fn allowed(f: &Firewall) -> Vec<(String, Vec<String>)> {
        let mut a: Vec<_> = f
            .allowed
            .iter()
            .map(|a| (a.ip_protocol.clone().unwrap_or_default(), sorted(&a.ports)))
            .collect();
        a.sort();
        a
    }
    let direction = |f: &Firewall| {
        let d = f
            .direction
            .as_ref()
            .and_then(|d| d.name())
            .unwrap_or("INGRESS");
        d.to_string()
    };
    let fields = [
        (
            "sourceRanges",
            format!("{:?}", sorted(&found.source_ranges)),
            format!("{:?}", sorted(&wanted.source_ranges)),
        ),
        (
            "allowed",
            format!("{:?}", allowed(found)),
            format!("{:?}", allowed(wanted)),
        ),
        (
            "denied",
            format!("{}", found.denied.len()),
            format!("{}", wanted.denied.len()),
        ),
        (
            "targetTags",
            format!("{:?}", sorted(&found.target_tags)),
            format!("{:?}", sorted(&wanted.target_tags)),
        ),
        (
            "targetServiceAccounts",
            format!("{:?}", found.target_service_accounts),
            format!("{:?}", wanted.target_service_accounts),
        ),
        (
            "sourceTags",
            format!("{:?}", found.source_tags),
            format!("{:?}", wanted.source_tags),
        ),
        (
            "sourceServiceAccounts",
            format!("{:?}", found.source_service_accounts),
            format!("{:?}", wanted.source_service_accounts),
        ),
        ("direction", direction(found), direction(wanted)),
        (
            "priority",
            format!("{:?}", found.priority.unwrap_or(1000)),
            format!("{:?}", wanted.priority.unwrap_or(1000)),
        ),
        (
            "disabled",
            format!("{}", found.disabled.unwrap_or(false)),
            format!("{}", wanted.disabled.unwrap_or(false)),
        ),
        (
            "network",
            last(found.network.as_deref()).to_string(),
            last(wanted.network.as_deref()).to_string(),
        ),
    ];
    let diffs: Vec<String> = fields
        .into_iter()
        .filter(|(_, f, w)| f != w)
        .map(|(name, f, w)| format!("{name} {f} (spec: {w})"))
        .collect();
    (!diffs.is_empty()).then(|| diffs.join(", "))
}

/// Deletes one rule and waits until it is gone; absent is done.
pub async fn delete_rule(c: &Clients, resource: &ResourceRef, timeout: Duration) -> Result<()> {
    const CALL: &str = "compute.firewalls.delete";
    let project = c.project()?;
    let op = send(&c.policy, CALL, || {
        c.firewalls
            .delete()
            .set_project(project)
            .set_firewall(&resource.name)
            .send()
    })
    .await
    .or_absent()?;
    operation::deleted(c, CALL, Scope::Global, op, timeout).await
}

/// Every firewall rule of the project.
pub async fn list_all(c: &Clients) -> Result<Vec<Firewall>> {
    let project = c.project()?;
    send::list_all(&c.policy, "compute.firewalls.list", |token| {
        c.firewalls
            .list()
            .set_project(project)
            .set_or_clear_page_token(token)
            .send()
    })
    .await
}

/// Every firewall rule whose description names carto-provision (and `env`, when given).
pub async fn list_tagged(c: &Clients, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
    let mut found = Vec::new();
    for f in &list_all(c).await? {
        let description = f.description.as_deref();
        let Some(owner) = description.and_then(labels::env_of_description) else {
            continue;
        };
        if env.is_some_and(|e| e.as_str() != owner) {
            continue;
        }
        let name = f.name.clone().unwrap_or_default();
        found.push(labels::tagged(
            reference(f.id, &name),
            owner,
            &Default::default(),
            description,
            f.creation_timestamp.as_ref(),
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_names_what_differs_and_nothing_else() {
        let spec = carto_core::testing::infra_spec("e", "carto.example.com", "us-central1-a");
        let rules = spec.firewall.clone();
        let wanted = body(&spec, &rules[0]);
        assert_eq!(drift(&wanted, &wanted), None);
        let mut found = wanted.clone();
        found.network = Some("https://x/compute/v1/projects/p/global/networks/carto-e-net".into());
        found.priority = None;
        assert_eq!(drift(&found, &wanted), None, "links and defaults are equal");
        found.source_ranges = vec!["0.0.0.0/0".into()];
        found.disabled = Some(false);
        let diff = drift(&found, &wanted).unwrap();
        assert_eq!(
            diff,
            "sourceRanges [\"0.0.0.0/0\"] (spec: [\"203.0.113.7/32\"])"
        );
        found.allowed[0].ports = vec!["22".into(), "3389".into()];
        found.target_tags.clear();
        let diff = drift(&found, &wanted).unwrap();
        assert!(
            diff.contains("allowed") && diff.contains("targetTags"),
            "{diff}"
        );
    }
}
