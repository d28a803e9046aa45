//! Machine types and disks: the default type per profile, `machineTypes.get` proving the
//! type is x86 and at least the profile's size, and the boot disk's type (SSD only) and size.

use carto_core::{
    ErrorKind, Input, InvalidInput, OrAbsent, Phrase, Profile, ProviderError, Result, Size,
};

use crate::config::Clients;
use crate::send::send;

// Disk type when the user names none.
pub const DEFAULT_DISK_TYPE: &str = "pd-ssd";
/// SSD persistent disk types accepted as the disk type.
pub const SSD_TYPES: &[&str] = &["pd-ssd", "pd-balanced"];
/// Machine-type families that are Arm (ARM64), refused even when the API leaves the
/// architecture out.
const ARM_FAMILIES: &[&str] = &["t2a-", "c4a-", "n4a-"];

/// The machine type used for `profile` when the user names none.
pub fn default_type(profile: Profile) -> &'static str {
    match profile {
        Profile::Default => "n2-standard-8",
        Profile::Min => "n2-standard-4",
    }
}

/// The boot disk type the user asked for: an SSD type, `pd-ssd` by default.
pub fn check_disk_type(wanted: Option<&str>) -> Result<String> {
    const CALL: &str = "compute.diskTypes";
    match wanted {
        None => Ok(DEFAULT_DISK_TYPE.to_string()),
        Some(t) if SSD_TYPES.contains(&t) => Ok(t.to_string()),
        Some(t) => {
            let why = if t == "pd-standard" {
                "is a spinning-disk (HDD) type and CARTO needs an SSD: pass "
            } else {
                "is not a supported SSD persistent disk type: pass "
            };
            Err(ProviderError::invalid(
                CALL,
                InvalidInput::new(
                    Input::DiskType,
                    t,
                    Phrase::from(why)
                        .input(Input::DiskType)
                        .text(" pd-ssd or pd-balanced"),
                ),
            ))
        }
    }
}

/// The error of `reason` about the machine type as the user chose it: named, or picked for
/// the profile.
fn refuse(machine_type: &str, user_chose: bool, profile: Profile, reason: Phrase) -> InvalidInput {
    if user_chose {
        return InvalidInput::new(Input::MachineType, machine_type, reason);
    }
    let mut said = Phrase::from(format!("machine type {machine_type} ("))
        .input(Input::Profile)
        .text(format!(" {}) ", profile.as_str()));
    said.0.extend(reason.0);
    InvalidInput::unnamed(Input::Profile, said)
}

/// Checks with `machineTypes.get` that `machine_type` exists in `zone`, is x86 and meets
/// `profile`; returns its size.
pub async fn check_type(
    c: &Clients,
    zone: &str,
    machine_type: &str,
    user_chose: bool,
    profile: Profile,
) -> Result<Size> {
    const CALL: &str = "compute.machineTypes.get";
    let project = c.project()?;
    let refuse = |reason: Phrase| refuse(machine_type, user_chose, profile, reason);
    let found = send(&c.policy, CALL, || {
        c.machine_types
            .get()
            .set_project(project)
            .set_zone(zone)
            .set_machine_type(machine_type)
            .send()
    })
    .await
    .or_absent()?;
    let Some(t) = found else {
        return Err(ProviderError::invalid(
            CALL,
            refuse(format!("does not exist in zone {zone}").into()).hint(format!(
                "`gcloud compute machine-types list --zones {zone}` shows them"
            )),
        ));
    };
    let arch = t.architecture.as_ref().and_then(|a| a.name()).unwrap_or("");
    let arm_family = ARM_FAMILIES.iter().any(|f| machine_type.starts_with(f));
    if arm_family || (!arch.is_empty() && arch != "X86_64") {
        return Err(ProviderError::invalid(
            CALL,
            refuse(
                format!(
                    "is an Arm (ARM64) type but CARTO's images are x86_64: pick an x86 type such as {}",
                    default_type(profile)
                )
                .into(),
            ),
        ));
    }
    let (Some(cpus), Some(memory)) = (t.guest_cpus, t.memory_mb) else {
        return Err(ProviderError::new(
            ErrorKind::Other,
            CALL,
            format!("machine type {machine_type} has no guestCpus or memoryMb"),
        ));
    };
    let size = Size {
        vcpus: u32::try_from(cpus).unwrap_or(0),
        memory_mib: u64::try_from(memory).unwrap_or(0),
    };
    profile.check_size(CALL, refuse, size, default_type(profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ssd_disk_types() {
        assert_eq!(check_disk_type(None).unwrap(), "pd-ssd");
        assert_eq!(check_disk_type(Some("pd-balanced")).unwrap(), "pd-balanced");
        let hdd = check_disk_type(Some("pd-standard")).unwrap_err();
        assert_eq!(hdd.kind, ErrorKind::InvalidInput);
        assert!(
            hdd.to_string().starts_with("disk type pd-standard"),
            "{hdd}"
        );
        assert!(check_disk_type(Some("gp3")).is_err());
    }
}
