//! The static public address: a Standard-SKU, static, IPv4 public IP in the environment's
//! resource group. Its address is read back once provisioned.

use carto_core::{Address, InfraSpec, ProviderError, ResourceKind, ResourceRef, Result};
use serde_json::json;

use crate::arm::{TAG_DOMAIN, ensure, model, resource_tags};
use crate::config::Clients;
use crate::network::group_name;
use crate::raw;

/// The environment's public IP's name: `carto-ENV-ip`.
pub fn name(spec: &InfraSpec) -> String {
    spec.env.resource("ip")
}

/// Creates (or finds) the public IP and returns it with its address.
pub async fn ensure_address(c: &Clients, spec: &InfraSpec) -> Result<Address> {
    const CALLS: (&str, &str) = (
        "network:PublicIPAddresses_Get",
        "network:PublicIPAddresses_CreateOrUpdate",
    );
    let sub = c.sub()?;
    let rg = group_name(spec);
    let name = name(spec);
    let body: azure_mgmt_network::package_2024_03::models::PublicIpAddress = model(
        CALLS.1,
        json!({
            "location": spec.region,
            "tags": resource_tags(spec, &[(TAG_DOMAIN, &spec.domain)]),
            "sku": {"name": "Standard", "tier": "Regional"},
            "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
        }),
    )?;
    let ips = c.network.public_ip_addresses_client();
    let what = format!("public IP {name} in {rg}");
    let v = ensure(
        c,
        CALLS,
        &what,
        raw!(ips.get(&rg, &name, sub)),
        raw!(ips.create_or_update(&rg, &name, body.clone(), sub)),
    )
    .await?;
    let ip = v["properties"]["ipAddress"]
        .as_str()
        .ok_or_else(|| ProviderError::missing_field(CALLS.0, "properties.ipAddress"))?;
    let id = v["id"].as_str().unwrap_or_default();
    Ok(Address {
        resource: ResourceRef::new(ResourceKind::Address, id, name, &spec.region).with_group(rg),
        ip: ip.to_string(),
    })
}
