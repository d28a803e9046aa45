//! The environment's own VPC network: custom mode (`carto-ENV-net`, no automatic subnetworks)
//! with one subnetwork (`carto-ENV-subnet`, [`SUBNET_CIDR`]) in the zone's region, so that no
//! rule but the environment's own applies to the VM (the project's `default` network opens
//! SSH and RDP to the world). Networks and subnetworks carry no labels: the labels go into the
//! description, as for firewall rules. With a network the user named, nothing is created here
//! and the VM joins that network (its subnetwork in the region when it is custom mode); whether
//! its rules are safe is [`crate::exposure`]'s question.

use std::collections::HashMap;
use std::time::Duration;

use carto_core::{
    EnvName, ErrorKind, InfraSpec, Input, InvalidInput, OrAbsent, Phrase, Planned, ProviderError,
    ResourceKind, ResourceRef, Result, TaggedResource,
};
use google_cloud_compute_v1::model::{Network, Subnetwork};

use crate::config::{Clients, region_of};
use crate::labels;
use crate::operation::{self, Scope};
use crate::send::{list_all, send};

/// The address range of the environment's subnetwork (outside the 10.128.0.0/9 of auto-mode
/// networks, so it never overlaps a default subnetwork it might be peered with).
pub const SUBNET_CIDR: &str = "10.64.0.0/24";

/// The environment's own network's name: `carto-ENV-net`.
pub fn network_name(env: &EnvName) -> String {
    env.resource("net")
}

/// The environment's own subnetwork's name: `carto-ENV-subnet`.
pub fn subnet_name(env: &EnvName) -> String {
    env.resource("subnet")
}

/// The network the VM and its rules go in: `global/networks/NAME`.
pub fn network_path(spec: &InfraSpec) -> String {
    let name = spec
        .network
        .clone()
        .unwrap_or_else(|| network_name(&spec.env));
    format!("global/networks/{name}")
}

/// Where the VM's network interface goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// `global/networks/NAME`.
    pub network: String,
    /// `regions/REGION/subnetworks/NAME`; `None` in an auto-mode network (Compute picks the
    /// region's automatic subnetwork).
    pub subnetwork: Option<String>,
}

/// The placement of the environment's VM: its own network and subnetwork, or the network the
/// user named (read-only: a custom-mode network must have a subnetwork in the region).
pub async fn placement(c: &Clients, spec: &InfraSpec) -> Result<Placement> {
    let region = region_of(&spec.region);
    let network = network_path(spec);
    let Some(name) = &spec.network else {
        let subnetwork = format!("regions/{region}/subnetworks/{}", subnet_name(&spec.env));
        return Ok(Placement {
            network,
            subnetwork: Some(subnetwork),
        });
    };
    let found = get_network(c, name).await?.ok_or_else(|| {
        ProviderError::invalid(
            "compute.networks.get",
            InvalidInput::new(
                Input::Network,
                name,
                format!(
                    "names no such network in project {}",
                    c.project().unwrap_or_default()
                ),
            )
            .hint(own_network("name an existing network, or leave ")),
        )
    })?;
    if found.auto_create_subnetworks == Some(true) {
        return Ok(Placement {
            network,
            subnetwork: None,
        });
    }
    let subnet = subnetworks_in(c, region)
        .await?
        .into_iter()
        .find(|s| s.network.as_deref().is_some_and(|n| last(n) == name));
    match subnet.and_then(|s| s.name) {
        Some(subnet) => Ok(Placement {
            network,
            subnetwork: Some(format!("regions/{region}/subnetworks/{subnet}")),
        }),
        None => Err(ProviderError::invalid(
            "compute.subnetworks.list",
            InvalidInput::new(
                Input::Network,
                name,
                format!("is a custom-mode network with no subnetwork in {region}"),
            )
            .hint(own_network("add one there, or leave ")),
        )),
    }
}

/// `lead` + "the network input out so the environment gets its own".
fn own_network(lead: &str) -> Phrase {
    Phrase::from(lead)
        .input(Input::Network)
        .text(" out so the environment gets its own")
}

fn last(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or(link)
}

/// Reads a network by name (`None` when absent).
pub async fn get_network(c: &Clients, name: &str) -> Result<Option<Network>> {
    let project = c.project()?;
    send(&c.policy, "compute.networks.get", || {
        c.networks
            .get()
            .set_project(project)
            .set_network(name)
            .send()
    })
    .await
    .or_absent()
}

async fn get_subnet(c: &Clients, region: &str, name: &str) -> Result<Option<Subnetwork>> {
    let project = c.project()?;
    send(&c.policy, "compute.subnetworks.get", || {
        c.subnetworks
            .get()
            .set_project(project)
            .set_region(region)
            .set_subnetwork(name)
            .send()
    })
    .await
    .or_absent()
}

async fn subnetworks_in(c: &Clients, region: &str) -> Result<Vec<Subnetwork>> {
    const CALL: &str = "compute.subnetworks.list";
    let project = c.project()?;
    list_all(&c.policy, CALL, |token| {
        c.subnetworks
            .list()
            .set_project(project)
            .set_region(region)
            .set_or_clear_page_token(token)
            .send()
    })
    .await
}

/// Refuses a resource of the same name that another environment (or nobody) wrote.
fn check_owner(what: &str, name: &str, description: Option<&str>, spec: &InfraSpec) -> Result<()> {
    let owner = description.and_then(labels::env_of_description);
    if owner.as_deref() == Some(spec.env.as_str()) {
        return Ok(());
    }
    Err(ProviderError::new(
        ErrorKind::Conflict,
        format!("compute.{what}s.insert"),
        format!(
            "{what} {name} exists but does not belong to environment {}; delete or rename it",
            spec.env
        ),
    ))
}

/// What [`ensure`] would create, as `plan` shows it: nothing in a network the user named.
pub fn planned(spec: &InfraSpec) -> Vec<Planned> {
    if spec.network.is_some() {
        return Vec::new();
    }
    vec![
        Planned::new(
            ResourceKind::Network,
            network_name(&spec.env),
            "custom-mode VPC network (no automatic subnetworks, no rules but the environment's)",
        ),
        Planned::new(
            ResourceKind::Subnet,
            subnet_name(&spec.env),
            format!("{SUBNET_CIDR} in {}", region_of(&spec.region)),
        ),
    ]
}

/// Creates (or finds) the environment's network; nothing when the user named a network.
pub async fn ensure(c: &Clients, spec: &InfraSpec) -> Result<Vec<ResourceRef>> {
    if spec.network.is_some() {
        return Ok(Vec::new());
    }
    Ok(vec![ensure_network(c, spec).await?])
}

/// Creates (or finds) the environment's subnetwork in its network (made first, by
/// [`ensure`]); nothing when the user named a network.
pub async fn ensure_subnet(c: &Clients, spec: &InfraSpec) -> Result<Vec<ResourceRef>> {
    if spec.network.is_some() {
        return Ok(Vec::new());
    }
    Ok(vec![subnet(c, spec).await?])
}

fn network_ref(id: Option<u64>, name: &str) -> ResourceRef {
    labels::reference(ResourceKind::Network, id, name, "global")
}

fn subnet_ref(id: Option<u64>, name: &str, region: &str) -> ResourceRef {
    labels::reference(ResourceKind::Subnet, id, name, region)
}

async fn ensure_network(c: &Clients, spec: &InfraSpec) -> Result<ResourceRef> {
    const CALL: &str = "compute.networks.insert";
    let name = network_name(&spec.env);
    if let Some(found) = get_network(c, &name).await? {
        check_owner("network", &name, found.description.as_deref(), spec)?;
        return Ok(network_ref(found.id, &name));
    }
    let project = c.project()?;
    let request_id = operation::request_id(&spec.nonce, &name, "insert");
    let mut body = Network::default();
    body.name = Some(name.clone());
    body.description = Some(labels::description(spec));
    body.auto_create_subnetworks = Some(false);
    let insert = || {
        c.networks
            .insert()
            .set_project(project)
            .set_request_id(&request_id)
            .set_body(body.clone())
            .send()
    };
    let id = operation::inserted_id(c, CALL, Scope::Global, insert).await?;
    Ok(network_ref(Some(id), &name))
}

/// The environment's network and subnetwork, when something holds their names, whoever made
/// them (nothing when the user named a network).
pub async fn find_named(c: &Clients, spec: &InfraSpec) -> Result<Vec<TaggedResource>> {
    if spec.network.is_some() {
        return Ok(Vec::new());
    }
    let none = HashMap::new();
    let found = |r: ResourceRef, description: Option<&str>| {
        let env = description
            .and_then(labels::env_of_description)
            .unwrap_or_default();
        labels::tagged(r, env, &none, description, None)
    };
    let mut out = Vec::new();
    let (net, subnet) = (network_name(&spec.env), subnet_name(&spec.env));
    let region = region_of(&spec.region);
    let (n, s) = tokio::try_join!(get_network(c, &net), get_subnet(c, region, &subnet))?;
    if let Some(n) = n {
        let r = network_ref(n.id, &net);
        out.push(found(r, n.description.as_deref()));
    }
    if let Some(s) = s {
        let r = subnet_ref(s.id, &subnet, region);
        out.push(found(r, s.description.as_deref()));
    }
    Ok(out)
}

async fn subnet(c: &Clients, spec: &InfraSpec) -> Result<ResourceRef> {
    const CALL: &str = "compute.subnetworks.insert";
    let name = subnet_name(&spec.env);
    let region = region_of(&spec.region);
    if let Some(found) = get_subnet(c, region, &name).await? {
        check_owner("subnetwork", &name, found.description.as_deref(), spec)?;
        return Ok(subnet_ref(found.id, &name, region));
    }
    let project = c.project()?;
    let request_id = operation::request_id(&spec.nonce, &name, "insert");
    let mut body = Subnetwork::default();
    body.name = Some(name.clone());
    body.description = Some(labels::description(spec));
    body.network = Some(network_path(spec));
    body.ip_cidr_range = Some(SUBNET_CIDR.to_string());
    let insert = || {
        c.subnetworks
            .insert()
            .set_project(project)
            .set_region(region)
            .set_request_id(&request_id)
            .set_body(body.clone())
            .send()
    };
    let id = operation::inserted_id(c, CALL, Scope::Region(region), insert).await?;
    Ok(subnet_ref(Some(id), &name, region))
}

/// Deletes the network and waits until it is gone; absent is done.
pub async fn delete_network(c: &Clients, r: &ResourceRef, timeout: Duration) -> Result<()> {
    const CALL: &str = "compute.networks.delete";
    let project = c.project()?;
    let op = send(&c.policy, CALL, || {
        c.networks
            .delete()
            .set_project(project)
            .set_network(&r.name)
            .send()
    })
    .await
    .or_absent()?;
    operation::deleted(c, CALL, Scope::Global, op, timeout).await
}

/// Deletes the subnetwork (in `r.region`) and waits until it is gone; absent is done.
pub async fn delete_subnet(c: &Clients, r: &ResourceRef, timeout: Duration) -> Result<()> {
    const CALL: &str = "compute.subnetworks.delete";
    let project = c.project()?;
    let region = r.region.as_str();
    let op = send(&c.policy, CALL, || {
        c.subnetworks
            .delete()
            .set_project(project)
            .set_region(region)
            .set_subnetwork(&r.name)
            .send()
    })
    .await
    .or_absent()?;
    operation::deleted(c, CALL, Scope::Region(region), op, timeout).await
}

/// The tagged resource for one network or subnetwork whose description names carto-provision
/// (and `env`, when given).
fn tagged(
    env: Option<&EnvName>,
    resource: ResourceRef,
    description: Option<&str>,
    created: Option<&String>,
) -> Option<TaggedResource> {
    let owner = description.and_then(labels::env_of_description)?;
    if env.is_some_and(|e| e.as_str() != owner) {
        return None;
    }
    let none = HashMap::new();
    Some(labels::tagged(resource, owner, &none, description, created))
}

/// Every network and subnetwork whose description names carto-provision (and `env`).
pub async fn list_tagged(c: &Clients, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
    let project = c.project()?;
    let networks = list_all(&c.policy, "compute.networks.list", |token| {
        c.networks
            .list()
            .set_project(project)
            .set_or_clear_page_token(token)
            .send()
    });
    let subnets = list_all(&c.policy, "compute.subnetworks.aggregatedList", |token| {
        c.subnetworks
            .aggregated_list()
            .set_project(project)
            .set_or_clear_page_token(token)
            .send()
    });
    let (networks, subnets) = tokio::try_join!(networks, subnets)?;
    let mut found = Vec::new();
    for n in &networks {
        let name = n.name.clone().unwrap_or_default();
        let r = network_ref(n.id, &name);
        found.extend(tagged(
            env,
            r,
            n.description.as_deref(),
            n.creation_timestamp.as_ref(),
        ));
    }
    for s in &subnets {
        let name = s.name.clone().unwrap_or_default();
        let region = s.region.as_deref().map(last).unwrap_or_default();
        let r = subnet_ref(s.id, &name, region);
        found.extend(tagged(
            env,
            r,
            s.description.as_deref(),
            s.creation_timestamp.as_ref(),
        ));
    }
    Ok(found)
}
