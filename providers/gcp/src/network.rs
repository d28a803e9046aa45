//! Firewall rules in the project's `default` network: one rule per core rule (`ssh`, `https`,
//! `http`), each allowing its TCP port from its IPv4 sources to the environment's network
//! tag. Compute firewall rules carry no labels: the labels go into the description.

use std::time::Duration;

use carto_core::{
    EnvName, ErrorKind, FirewallRule, InfraSpec, OrAbsent, Protocol, ProviderError, ResourceKind,
    ResourceRef, Result, TaggedResource,
};
use google_cloud_compute_v1::model::{Firewall, firewall::Allowed};

use crate::config::Clients;
use crate::labels;
use crate::operation::{self, OPERATION_TIMEOUT, Scope};
use crate::send::{pages, send};

/// The network the VM and its rules live in.
pub const NETWORK: &str = "global/networks/default";

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
            return Err(ProviderError::invalid_input(
                "compute.firewalls.insert",
                format!(
                    "--ssh-cidr {} is IPv6 but Compute Engine VMs get an IPv4 address here: pass your IPv4 address as --ssh-cidr A.B.C.D/32",
                    rule.sources.join(",")
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
    f.network = Some(NETWORK.to_string());
    f.direction = Some("INGRESS".into());
    f.priority = Some(1000);
    f.allowed = vec![allowed];
    f.source_ranges = ipv4_sources(rule);
    f.target_tags = vec![labels::network_tag(&spec.env)];
    f
}

fn reference(f: &Firewall, name: &str) -> ResourceRef {
    let id =
        f.id.map(|i| i.to_string())
            .unwrap_or_else(|| name.to_string());
    ResourceRef::new(ResourceKind::Firewall, id, name, "global")
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
    let mut found = Vec::new();
    for rule in &spec.firewall {
        let name = rule_name(&spec.env, rule);
        if let Some(f) = get(c, &name).await? {
            let description = f.description.as_deref();
            let env = description
                .and_then(labels::env_of_description)
                .unwrap_or_default();
            let r = reference(&f, &name);
            found.push(labels::tagged(
                r,
                env,
                &Default::default(),
                description,
                None,
            ));
        }
    }
    Ok(found)
}

/// Creates the environment's rules that do not exist yet; returns one reference per rule.
pub async fn ensure_rules(c: &Clients, spec: &InfraSpec) -> Result<Vec<ResourceRef>> {
    let mut refs = Vec::new();
    for rule in &spec.firewall {
        refs.push(ensure_rule(c, spec, rule).await?);
    }
    Ok(refs)
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
        return Ok(reference(&found, &name));
    }
    let project = c.project()?;
    let request_id = operation::request_id(&spec.nonce, &name, "insert");
    let firewall = body(spec, rule);
    let op = send(&c.policy, CALL, || {
        c.firewalls
            .insert()
            .set_project(project)
            .set_request_id(&request_id)
            .set_body(firewall.clone())
            .send()
    })
    .await?;
    operation::wait(c, CALL, Scope::Global, op, OPERATION_TIMEOUT).await?;
    let made = get(c, &name).await?.ok_or_else(|| {
        ProviderError::missing_field(
            "compute.firewalls.get",
            &format!("firewall rule {name} after its insert"),
        )
    })?;
    Ok(reference(&made, &name))
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
    match op {
        Some(op) => operation::wait(c, CALL, Scope::Global, op, timeout)
            .await
            .or_absent()
            .map(drop),
        None => Ok(()),
    }
}

/// Every firewall rule whose description names carto-provision (and `env`, when given).
pub async fn list_tagged(c: &Clients, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
    const CALL: &str = "compute.firewalls.list";
    let project = c.project()?;
    let pages = pages(
        &c.policy,
        CALL,
        |token| {
            c.firewalls
                .list()
                .set_project(project)
                .set_or_clear_page_token(token)
                .send()
        },
        |page| page.next_page_token.clone(),
    )
    .await?;
    let mut found = Vec::new();
    for page in &pages {
        for f in &page.items {
            let Some(owner) = f
                .description
                .as_deref()
                .and_then(labels::env_of_description)
            else {
                continue;
            };
            if env.is_some_and(|e| e.as_str() != owner) {
                continue;
            }
            let name = f.name.clone().unwrap_or_default();
            let description = f.description.as_deref();
            found.push(labels::tagged(
                reference(f, &name),
                owner,
                &Default::default(),
                description,
                f.creation_timestamp.as_ref(),
            ));
        }
    }
    Ok(found)
}
