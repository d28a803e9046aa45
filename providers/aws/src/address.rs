//! The environment's Elastic IP: found by tag or allocated (tagged at allocation), associated
//! with the instance once it runs, disassociated and released on delete.

use aws_sdk_ec2::types::{DomainType, ResourceType};
use carto_core::OrAbsent;
use carto_core::{
    Address, EnvName, InfraSpec, ProviderError, ResourceKind, ResourceRef, Result, TaggedResource,
};

use crate::config::Clients;
use crate::send::send;
use crate::tags::{self, non_empty};

/// The environment's Elastic IP's name: `carto-ENV-ip`.
pub fn name(env: &EnvName) -> String {
    env.resource("ip")
}

/// Finds the environment's Elastic IP by tag, or allocates one.
pub async fn ensure_address(clients: &Clients, spec: &InfraSpec) -> Result<Address> {
    let region = spec.region.as_str();
    let name = name(&spec.env);
    let ec2 = clients.ec2(region);
    let found = send(&clients.policy, "ec2:DescribeAddresses", || {
        ec2.describe_addresses()
            .set_filters(Some(tags::filters(Some(&spec.env))))
            .send()
    })
    .await?;
    let (id, ip) = match found.addresses().first() {
        Some(a) => (a.allocation_id(), a.public_ip()),
        None => {
            let out = send(&clients.policy, "ec2:AllocateAddress", || {
                ec2.allocate_address()
                    .domain(DomainType::Vpc)
                    .tag_specifications(tags::spec(
                        ResourceType::ElasticIp,
                        spec,
                        &name,
                        &[(tags::TAG_DOMAIN, &spec.domain)],
                    ))
                    .send()
            })
            .await?;
            return to_address(
                out.allocation_id(),
                out.public_ip(),
                &name,
                region,
                "ec2:AllocateAddress",
            );
        }
    };
    to_address(id, ip, &name, region, "ec2:DescribeAddresses")
}

fn to_address(
    id: Option<&str>,
    ip: Option<&str>,
    name: &str,
    region: &str,
    call: &str,
) -> Result<Address> {
    let id = non_empty(id).ok_or_else(|| ProviderError::missing_field(call, "AllocationId"))?;
    let ip = non_empty(ip).ok_or_else(|| ProviderError::missing_field(call, "PublicIp"))?;
    Ok(Address {
        resource: ResourceRef::new(ResourceKind::Address, id, name, region).with_ip(ip),
        ip: ip.to_string(),
    })
}

/// Associates the Elastic IP with `instance_id`, unless it already is.
pub async fn associate(clients: &Clients, address: &Address, instance_id: &str) -> Result<()> {
    let ec2 = clients.ec2(&address.resource.region);
    let out = send(&clients.policy, "ec2:DescribeAddresses", || {
        ec2.describe_addresses()
            .allocation_ids(&address.resource.id)
            .send()
    })
    .await?;
    let current = out
        .addresses()
        .first()
        .ok_or_else(|| ProviderError::missing_field("ec2:DescribeAddresses", "Addresses"))?;
    if non_empty(current.instance_id()) == Some(instance_id) {
        return Ok(());
    }
    send(&clients.policy, "ec2:AssociateAddress", || {
        ec2.associate_address()
            .allocation_id(&address.resource.id)
            .instance_id(instance_id)
            .send()
    })
    .await?;
    Ok(())
}

/// Disassociates (when associated) and releases the Elastic IP. Not found is success.
pub async fn delete_address(clients: &Clients, resource: &ResourceRef) -> Result<()> {
    let ec2 = clients.ec2(&resource.region);
    let found = send(&clients.policy, "ec2:DescribeAddresses", || {
        ec2.describe_addresses().allocation_ids(&resource.id).send()
    })
    .await;
    let Some(found) = found.or_absent()? else {
        return Ok(());
    };
    let Some(current) = found.addresses().first() else {
        return Ok(());
    };
    if let Some(association) = non_empty(current.association_id()) {
        let out = send(&clients.policy, "ec2:DisassociateAddress", || {
            ec2.disassociate_address()
                .association_id(association)
                .send()
        })
        .await;
        out.or_absent()?;
    }
    let out = send(&clients.policy, "ec2:ReleaseAddress", || {
        ec2.release_address().allocation_id(&resource.id).send()
    })
    .await;
    out.or_absent().map(drop)
}

/// Elastic IPs tagged by this tool (in `env` when given).
pub async fn list_tagged(
    clients: &Clients,
    region: &str,
    env: Option<&EnvName>,
) -> Result<Vec<TaggedResource>> {
    let ec2 = clients.ec2(region);
    let out = send(&clients.policy, "ec2:DescribeAddresses", || {
        ec2.describe_addresses()
            .set_filters(Some(tags::filters(env)))
            .send()
    })
    .await?;
    Ok(out
        .addresses()
        .iter()
        .filter_map(|a| {
            let id = non_empty(a.allocation_id())?;
            let name = tags::value(a.tags(), "Name").unwrap_or(id);
            let mut resource = ResourceRef::new(ResourceKind::Address, id, name, region);
            if let Some(ip) = non_empty(a.public_ip()) {
                resource = resource.with_ip(ip);
            }
            if let Some(domain) = tags::value(a.tags(), tags::TAG_DOMAIN) {
                resource = resource.with_domain(domain);
            }
            Some(tags::tagged(resource, a.tags(), None))
        })
        .collect())
}
