//! VM size and OS disk: the default size per profile, the size's vCPUs, memory, PremiumIO and
//! architecture read from Resource SKUs and checked against the profile, and the disk floor.
//! Read-only.

use carto_core::{Input, InvalidInput, Profile, ProviderError, Result, Size};
use serde_json::Value;

use crate::arm::pages;
use crate::config::Clients;

/// Smallest OS disk, in GiB.
pub const MIN_DISK_GB: u32 = 64;
/// The OS disk type: Premium SSD (never Standard_LRS, an HDD).
pub const DISK_TYPE: &str = "Premium_LRS";

/// The size used for `profile` when the user names none.
pub fn default_size(profile: Profile) -> &'static str {
    match profile {
        Profile::Min => "Standard_D4s_v5",
        Profile::Default => "Standard_D8s_v5",
    }
}

fn capability<'v>(sku: &'v Value, name: &str) -> Option<&'v str> {
    sku["capabilities"]
        .as_array()?
        .iter()
        .find(|c| c["name"].as_str() == Some(name))?["value"]
        .as_str()
}

/// Checks one SKU entry against `profile`; returns its size.
pub fn judge(sku: &Value, size: &str, location: &str, profile: Profile) -> Result<Size> {
    const CALL: &str = "compute:ResourceSkus_List";
    let restricted = sku["restrictions"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r["type"] == "Location"));
    if restricted {
        return Err(ProviderError::invalid(
            CALL,
            InvalidInput::new(
                Input::VmSize,
                size,
                format!("is restricted for this subscription in {location}"),
            )
            .hint("pick another size or location"),
        ));
    }
    let vcpus: u32 = capability(sku, "vCPUs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let memory_gb: f64 = capability(sku, "MemoryGB")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let arch = capability(sku, "CpuArchitectureType").unwrap_or("x64");
    let premium = capability(sku, "PremiumIO").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let found = Size {
        vcpus,
        memory_mib: (memory_gb * 1024.0).round() as u64,
    };
    if !arch.eq_ignore_ascii_case("x64") {
        return Err(ProviderError::invalid(
            CALL,
            InvalidInput::new(
                Input::VmSize,
                size,
                format!("is an {arch} size; CARTO needs x86_64"),
            )
            .hint(format!(
                "pick an x64 size such as {}",
                default_size(profile)
            )),
        ));
    }
    profile.check_size(
        CALL,
        |reason| InvalidInput::new(Input::VmSize, size, reason),
        found,
        default_size(profile),
    )?;
    if !premium {
        return Err(ProviderError::invalid(
            CALL,
            InvalidInput::new(
                Input::VmSize,
                size,
                "cannot use Premium SSD disks (PremiumIO)",
            )
            .hint(format!(
                "pick an 's' size such as {}",
                default_size(profile)
            )),
        ));
    }
    Ok(found)
}

/// Finds `size` among the location's VM SKUs and checks it against `profile`.
pub async fn check_size(c: &Clients, location: &str, size: &str, profile: Profile) -> Result<Size> {
    const CALL: &str = "compute:ResourceSkus_List";
    let sub = c.sub()?;
    let skus = c.compute.resource_skus_client();
    let filter = format!("location eq '{location}'");
    let all = pages(c, CALL, || {
        skus.list(sub).filter(filter.clone()).into_stream()
    })
    .await?;
    let sku = all.iter().find(|s| {
        s["resourceType"] == "virtualMachines"
            && s["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(size))
    });
    let Some(sku) = sku else {
        return Err(ProviderError::invalid(
            CALL,
            InvalidInput::new(Input::VmSize, size, format!("is not offered in {location}")).hint(
                format!(
                    "`az vm list-skus --location {location} --resource-type virtualMachines` lists the sizes"
                ),
            ),
        ));
    };
    judge(sku, size, location, profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sku(cpus: &str, mem: &str, arch: &str, premium: &str) -> Value {
        json!({"name": "S", "capabilities": [
            {"name": "vCPUs", "value": cpus}, {"name": "MemoryGB", "value": mem},
            {"name": "CpuArchitectureType", "value": arch}, {"name": "PremiumIO", "value": premium}],
            "restrictions": []})
    }

    #[test]
    fn sizes_are_judged_against_the_profile() {
        let ok = judge(&sku("4", "16", "x64", "True"), "S", "l", Profile::Min).unwrap();
        assert_eq!(
            ok,
            Size {
                vcpus: 4,
                memory_mib: 16384
            }
        );
        for (bad, why) in [
            (
                sku("4", "16", "x64", "True"),
                "the default profile needs at least 8 vCPUs",
            ),
            (sku("8", "32", "Arm64", "True"), "Arm64"),
            (sku("8", "32", "x64", "False"), "PremiumIO"),
        ] {
            let e = judge(&bad, "S", "l", Profile::Default).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
    }
}
