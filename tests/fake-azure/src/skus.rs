//! Resource SKUs (`GET /subscriptions/{id}/providers/Microsoft.Compute/skus`): no contract
//! file covers them, so this is a small built-in catalogue of VM sizes with the capabilities
//! the provider reads (vCPUs, MemoryGB, PremiumIO, CpuArchitectureType), filtered by the
//! `$filter=location eq '…'` the client sends.

use serde_json::{Value, json};

use crate::errors::ArmError;
use crate::reply::Reply;

/// The api-version the SKU list answers to.
pub const API_VERSION: &str = "2021-07-01";

/// (name, family, vCPUs, memory GB, architecture)
const CATALOGUE: &[(&str, &str, u32, u32, &str)] = &[
    ("Standard_B2s", "standardBSFamily", 2, 4, "x64"),
    ("Standard_D4s_v5", "standardDSv5Family", 4, 16, "x64"),
    ("Standard_D8s_v5", "standardDSv5Family", 8, 32, "x64"),
    ("Standard_D4ps_v5", "standardDPSv5Family", 4, 16, "Arm64"),
];

/// Whether a VM size is in the catalogue (case-insensitive).
pub fn known(size: &str) -> bool {
    CATALOGUE.iter().any(|(n, ..)| n.eq_ignore_ascii_case(size))
}

/// Whether `path` is the SKU list of a subscription.
pub fn is_skus_path(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    matches!(segs.as_slice(), [s, _, p, ns, k]
        if s.eq_ignore_ascii_case("subscriptions") && p.eq_ignore_ascii_case("providers")
            && ns.eq_ignore_ascii_case("Microsoft.Compute") && k.eq_ignore_ascii_case("skus"))
}

fn filter_location(filter: Option<&str>) -> Option<String> {
    let f = filter?;
    let rest = f.split_once("location eq ")?.1.trim();
    Some(rest.trim_matches('\'').to_string())
}

/// Answers the SKU list.
pub fn list(api_version: Option<&str>, filter: Option<&str>, default_location: &str) -> Reply {
    if api_version != Some(API_VERSION) {
        return Reply::error(&ArmError::new(
            400,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{}' is invalid. The supported versions are '{API_VERSION}'.",
                api_version.unwrap_or_default()
            ),
        ));
    }
    let loc = filter_location(filter).unwrap_or_else(|| default_location.to_string());
    let value: Vec<Value> = CATALOGUE
        .iter()
        .map(|(name, family, cpus, mem, arch)| {
            json!({
                "resourceType": "virtualMachines",
                "name": name,
                "tier": "Standard",
                "size": name.trim_start_matches("Standard_"),
                "family": family,
                "locations": [loc],
                "locationInfo": [{"location": loc, "zones": ["1", "2", "3"], "zoneDetails": []}],
                "capabilities": [
                    {"name": "vCPUs", "value": cpus.to_string()},
                    {"name": "MemoryGB", "value": mem.to_string()},
                    {"name": "PremiumIO", "value": "True"},
                    {"name": "CpuArchitectureType", "value": arch},
                ],
                "restrictions": [],
            })
        })
        .collect();
    Reply::json(200, json!({ "value": value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_follows_the_location_filter() {
        let r = list(
            Some(API_VERSION),
            Some("location eq 'eastus'"),
            "westeurope",
        );
        let body = r.body.unwrap_or_default();
        let b2s = &body["value"][0];
        assert_eq!(b2s["name"], "Standard_B2s");
        assert_eq!(b2s["locations"][0], "eastus");
        assert_eq!(b2s["capabilities"][0]["value"], "2");
        assert_eq!(b2s["capabilities"][1]["value"], "4");
        assert_eq!(list(Some("2019-04-01"), None, "x").status, 400);
        assert!(is_skus_path(
            "/subscriptions/s/providers/Microsoft.Compute/skus"
        ));
    }
}
