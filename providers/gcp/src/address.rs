//! The reserved static external address (regional, premium tier) the VM uses as its natIP.

use std::time::Duration;

use carto_core::{
    Address, EnvName, ErrorKind, InfraSpec, OrAbsent, ProviderError, ResourceKind, ResourceRef,
    Result, TaggedResource,
};
use google_cloud_compute_v1::model::Address as GceAddress;

use crate::config::{Clients, region_of};
use crate::labels;
use crate::operation::{self, Scope};
use crate::send::{list_all, send};

/// The address's resource name.
pub fn name(env: &EnvName) -> String {
    env.resource("ip")
}

async fn get(c: &Clients, region: &str, name: &str) -> Result<Option<GceAddress>> {
    let project = c.project()?;
    send(&c.policy, "compute.addresses.get", || {
        c.addresses
            .get()
            .set_project(project)
            .set_region(region)
            .set_address(name)
            .send()
    })
    .await
    .or_absent()
}

fn to_address(a: &GceAddress, name: &str, region: &str) -> Result<Address> {
    let ip = a
        .address
        .clone()
        .ok_or_else(|| ProviderError::missing_field("compute.addresses.get", "address"))?;
    Ok(Address {
        resource: labels::reference(ResourceKind::Address, a.id, name, region),
        ip,
    })
}

/// The address holding the environment's name, whoever made it.
pub async fn find_named(c: &Clients, spec: &InfraSpec) -> Result<Option<TaggedResource>> {
    let (region, name) = (region_of(&spec.region), name(&spec.env));
    Ok(get(c, region, &name).await?.map(|a| {
        let env = labels::env_of(&a.labels).unwrap_or_default();
        let id = a.id.map_or_else(|| name.clone(), |i| i.to_string());
        let r = ResourceRef::new(ResourceKind::Address, id, &name, region);
        labels::tagged(r, env, &a.labels, None, None)
    }))
}

/// Reserves the environment's address unless it exists; returns it with its IP.
pub async fn ensure_address(c: &Clients, spec: &InfraSpec) -> Result<Address> {
    const CALL: &str = "compute.addresses.insert";
    let region = region_of(&spec.region);
    let name = name(&spec.env);
    if let Some(found) = get(c, region, &name).await? {
        if labels::env_of(&found.labels).as_deref() != Some(spec.env.as_str()) {
            return Err(ProviderError::new(
                ErrorKind::Conflict,
                CALL,
                format!(
                    "address {name} in {region} exists but is not labelled carto-env={}; release or rename it",
                    spec.env
                ),
            ));
        }
        return to_address(&found, &name, region);
    }
    let project = c.project()?;
    let mut body = GceAddress::default();
    body.name = Some(name.clone());
    body.address_type = Some("EXTERNAL".into());
    body.network_tier = Some("PREMIUM".into());
    body.labels = labels::labels(spec);
    body.description = Some(format!("{}={}", labels::DOMAIN_WORD, spec.domain));
    let request_id = operation::request_id(&spec.nonce, &name, "insert");
    let insert = || {
        c.addresses
            .insert()
            .set_project(project)
            .set_region(region)
            .set_request_id(&request_id)
            .set_body(body.clone())
            .send()
    };
    let what = format!("address {name}");
    let read = || get(c, region, &name);
    let made = operation::inserted(c, CALL, Scope::Region(region), &what, insert, read).await?;
    to_address(&made, &name, region)
}

/// Releases the address and waits until it is gone; absent is done.
pub async fn delete_address(c: &Clients, resource: &ResourceRef, timeout: Duration) -> Result<()> {
    const CALL: &str = "compute.addresses.delete";
    let project = c.project()?;
    let region = resource.region.as_str();
    let op = send(&c.policy, CALL, || {
        c.addresses
            .delete()
            .set_project(project)
            .set_region(region)
            .set_address(&resource.name)
            .send()
    })
    .await
    .or_absent()?;
    operation::deleted(c, CALL, Scope::Region(region), op, timeout).await
}

/// Every address labelled by carto-provision (of `env` when given), in every region.
pub async fn list_tagged(c: &Clients, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
    const CALL: &str = "compute.addresses.aggregatedList";
    let project = c.project()?;
    let filter = labels::filter(env);
    let all = list_all(&c.policy, CALL, |token| {
        c.addresses
            .aggregated_list()
            .set_project(project)
            .set_filter(&filter)
            .set_or_clear_page_token(token)
            .send()
    })
    .await?;
    let mut found = Vec::new();
    for a in &all {
        let Some(owner) = labels::env_of(&a.labels) else {
            continue;
        };
        let name = a.name.clone().unwrap_or_default();
        let region = a
            .region
            .as_deref()
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or_default();
        let mut resource = labels::reference(ResourceKind::Address, a.id, &name, region)
            .with_ip(a.address.clone().unwrap_or_default());
        if let Some(domain) = a
            .description
            .as_deref()
            .and_then(|d| labels::words(d).get(labels::DOMAIN_WORD).copied())
        {
            resource = resource.with_domain(domain);
        }
        let created = a.creation_timestamp.as_ref();
        found.push(labels::tagged(resource, owner, &a.labels, None, created));
    }
    Ok(found)
}
