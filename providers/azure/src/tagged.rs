//! Finding what this tool made by tag: resource groups and resources of the subscription with
//! `managed-by=carto-provision`, optionally of one environment, each as a core resource kind.
//! Resources in an environment's group carry their `group` so a sweep deletes the group.
//! Resources are listed by the name of the group they live in (`carto-…`), not by tag: ARM
//! answers a list filtered by tag without the resources' tags.

use carto_core::{
    EnvName, ResourceKind, ResourceRef, Result, TAG_CREATED, TAG_ENV, TAG_EXPIRES, TAG_MANAGED_BY,
    TAG_MANAGED_BY_VALUE, TAG_NONCE, TaggedResource,
};
use serde_json::Value;

use crate::arm::{TAG_DOMAIN, group_of, pages};
use crate::config::Clients;
use crate::dns;

/// The ARM types this tool creates, with their core kinds: the resource group, then what lives
/// in it.
const TYPES: [(&str, ResourceKind); 6] = [
    ("Microsoft.Resources/resourceGroups", ResourceKind::Group),
    ("Microsoft.Network/virtualNetworks", ResourceKind::Network),
    (
        "Microsoft.Network/networkSecurityGroups",
        ResourceKind::Firewall,
    ),
    ("Microsoft.Network/publicIPAddresses", ResourceKind::Address),
    ("Microsoft.Network/networkInterfaces", ResourceKind::Nic),
    ("Microsoft.Compute/virtualMachines", ResourceKind::Vm),
];

/// The core kind of an ARM resource type, if it is one this tool creates.
pub fn kind_of(rtype: &str) -> Option<ResourceKind> {
    TYPES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(rtype))
        .map(|(_, kind)| *kind)
}

fn tagged(v: &Value, env: Option<&EnvName>) -> Option<TaggedResource> {
    let tags = &v["tags"];
    if tags[TAG_MANAGED_BY] != TAG_MANAGED_BY_VALUE {
        return None;
    }
    let found = found(v)?;
    if found.env.is_empty() || env.is_some_and(|e| e.as_str() != found.env) {
        return None;
    }
    Some(found)
}

/// An ARM group or resource of a kind this tool creates, whoever made it: its environment
/// (empty when untagged), creation time, expiry and nonce from its tags.
pub fn found(v: &Value) -> Option<TaggedResource> {
    let tags = &v["tags"];
    let rtype = v["type"]
        .as_str()
        .unwrap_or("Microsoft.Resources/resourceGroups");
    let kind = kind_of(rtype)?;
    let id = v["id"].as_str()?;
    let mut r = ResourceRef::new(
        kind,
        id,
        v["name"].as_str()?,
        v["location"].as_str().unwrap_or_default(),
    );
    if kind != ResourceKind::Group
        && let Some(g) = group_of(id)
    {
        r = r.with_group(g);
    }
    if let Some(domain) = tags[TAG_DOMAIN].as_str() {
        r = r.with_domain(domain);
    }
    let tag = |key: &str| tags[key].as_str();
    Some(TaggedResource {
        resource: r,
        env: tag(TAG_ENV).unwrap_or_default().to_string(),
        created: tag(TAG_CREATED)
            .and_then(carto_core::created_from_tag)
            .or_else(|| v["createdTime"].as_str().and_then(carto_core::parse_time)),
        expires: tag(TAG_EXPIRES).and_then(carto_core::expires_from_tag),
        nonce: tag(TAG_NONCE).map(str::to_string),
    })
}

/// Every group and resource tagged `managed-by=carto-provision` (of `env` when given).
pub async fn list(c: &Clients, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
    let sub = c.sub()?;
    // Groups by tag (an environment's alone when one is asked for); resources by their group's
    // name, because ARM answers resources filtered by tag without their tags. Our tags, checked
    // below, decide what is ours either way.
    let (groups_filter, items_filters) = match env {
        Some(env) => (
            format!("tagName eq '{TAG_ENV}' and tagValue eq '{}'", env.as_str()),
            vec![format!(
                "substringof('{}', resourceGroup)",
                env.resource("rg")
            )],
        ),
        // Every environment's: one listing per type, all at once, so the pages of hundreds of
        // environments' resources are read side by side rather than one after another.
        None => (
            format!("tagName eq '{TAG_MANAGED_BY}' and tagValue eq '{TAG_MANAGED_BY_VALUE}'"),
            TYPES
                .iter()
                .filter(|(_, kind)| *kind != ResourceKind::Group)
                .map(|(t, _)| {
                    format!("resourceType eq '{t}' and substringof('carto-', resourceGroup)")
                })
                .collect(),
        ),
    };
    let rgs = c.resources.resource_groups_client();
    let res = c.resources.resources_client();
    let items = items_filters.iter().map(|filter| {
        pages(c, "resources:Resources_List", || {
            res.list(sub).filter(filter.clone()).into_stream()
        })
    });
    // The zones too, at once: the records are looked up in them once the addresses are known.
    let (groups, items, zones) = futures::try_join!(
        pages(c, "resources:ResourceGroups_List", || {
            rgs.list(sub).filter(groups_filter.clone()).into_stream()
        }),
        futures::future::try_join_all(items),
        dns::list_zones(c),
    )?;
    let mut found: Vec<TaggedResource> = groups
        .iter()
        .chain(items.iter().flatten())
        .filter_map(|v| tagged(v, env))
        .collect();
    // Record sets are not ARM resources of the list: the environment's record is the one its
    // public IP's domain tag names, while the record's metadata names the environment.
    let addresses: Vec<&TaggedResource> = found
        .iter()
        .filter(|t| t.resource.kind == ResourceKind::Address)
        .filter(|t| t.resource.domain.is_some())
        .collect();
    let wanted: Vec<(&str, &str)> = addresses
        .iter()
        .map(|t| {
            (
                t.resource.domain.as_deref().unwrap_or_default(),
                t.env.as_str(),
            )
        })
        .collect();
    let records: Vec<TaggedResource> = dns::find_ours(c, &zones, &wanted)
        .await?
        .into_iter()
        .zip(&addresses)
        .filter_map(|(record, t)| {
            Some(TaggedResource {
                resource: record?,
                env: t.env.clone(),
                created: t.created,
                expires: t.expires,
                nonce: t.nonce.clone(),
            })
        })
        .collect();
    found.extend(records);
    Ok(found)
}
