//! What the pipeline asks a provider for ([`InfraSpec`]) and what preflight resolves it to
//! ([`Resolved`]). Both are plain data: no credentials, no secrets, nothing cloud-specific
//! beyond strings the cloud itself understands (a region, a machine type).

use serde::{Deserialize, Serialize};

use crate::{EnvName, FirewallRule, Input, InvalidInput, Phrase, ProviderError};

/// Memory in GiB as people write it: `4 GiB`, `0.5 GiB`.
pub fn gib(mib: u64) -> String {
    if mib.is_multiple_of(1024) {
        format!("{} GiB", mib / 1024)
    } else {
        format!("{:.1} GiB", mib as f64 / 1024.0)
    }
}

/// CARTO Self-Hosted's minimum disk, in GB: every cloud's floor, and the CLI's.
pub const MIN_DISK_GB: u32 = 60;

/// Refuses a disk below `min` GB (CARTO's [`MIN_DISK_GB`], or more where the cloud's OS disk
/// needs it), as bad input naming the size and the fix. `call` is what would have failed.
pub fn check_disk(call: &str, disk_gb: u32, min: u32) -> crate::Result<()> {
    if disk_gb < min {
        return Err(ProviderError::invalid(
            call,
            InvalidInput::new(
                Input::DiskGb,
                disk_gb.to_string(),
                Phrase::from(format!(
                    "is below the {min} GB this deployment needs (CARTO's minimum is {MIN_DISK_GB} GB): pass "
                ))
                .input(Input::DiskGb)
                .text(format!(" {min} or more")),
            ),
        ));
    }
    Ok(())
}

/// Size profile of the VM: CARTO's legacy minimum, or the recommended default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// 4 vCPU / 16 GiB: CARTO's documented minimum.
    Min,
    /// 8 vCPU / 32 GiB: the services' heap caps alone add up to ~15 GB.
    #[default]
    Default,
}

/// A VM size as the pipeline compares it: vCPUs and memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
}

impl Profile {
    /// Refuses `size` below this profile's [`Profile::min_size`] as bad input: `refuse` makes
    /// the error of a reason about the type as the user chose it (`InstanceType t3.medium`),
    /// `suggestion` is a type that fits; `call` is what read the size.
    pub fn check_size(
        self,
        call: &str,
        refuse: impl FnOnce(Phrase) -> InvalidInput,
        size: Size,
        suggestion: &str,
    ) -> crate::Result<Size> {
        let min = self.min_size();
        if size.vcpus < min.vcpus || size.memory_mib < min.memory_mib {
            return Err(ProviderError::invalid(
                call,
                refuse(Phrase::from(format!(
                    "has {} vCPUs and {}; the {} profile needs at least {} vCPUs and {}: choose {suggestion} or larger",
                    size.vcpus,
                    gib(size.memory_mib),
                    self.as_str(),
                    min.vcpus,
                    gib(min.memory_mib)
                ))),
            ));
        }
        Ok(size)
    }

    /// The least size a machine type must have to run this profile.
    pub fn min_size(self) -> Size {
        match self {
            Profile::Min => Size {
                vcpus: 4,
                memory_mib: 16 * 1024,
            },
            Profile::Default => Size {
                vcpus: 8,
                memory_mib: 32 * 1024,
            },
        }
    }

    /// The profile's name as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Min => "min",
            Profile::Default => "default",
        }
    }
}

/// Everything a provider needs to create one environment. Built once by the pipeline from
/// validated input; the provider never sees raw flags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfraSpec {
    /// Environment name; every resource name derives from it.
    pub env: EnvName,
    /// Fully qualified domain the A record is created for.
    pub domain: String,
    /// Region (AWS, Azure location) or zone (GCP).
    pub region: String,
    /// Machine type chosen by the user; `None` means the provider's type for `profile`.
    pub machine_type: Option<String>,
    /// Size profile the machine type must meet.
    pub profile: Profile,
    /// Root/OS disk size in GB.
    pub disk_gb: u32,
    /// Disk type chosen by the user (GCP `pd-ssd`/`pd-balanced`); `None` means the provider's
    /// SSD default. The provider refuses a type that is not an SSD.
    pub disk_type: Option<String>,
    /// DNS zone named by the user; `None` means found by longest suffix of `domain`.
    pub dns_zone: Option<String>,
    /// An existing network the user chose to place the VM in (GCP); `None` means the
    /// environment's own, which the provider creates and deletes. A provider that cannot use
    /// an existing network refuses one in preflight.
    #[serde(default)]
    pub network: Option<String>,
    /// Inbound firewall rules (see [`crate::firewall_rules`]).
    pub firewall: Vec<FirewallRule>,
    /// The environment's SSH public key, OpenSSH format (`ssh-ed25519 AAAA… comment`).
    pub ssh_public_key: String,
    /// cloud-init user-data the VM boots with. Holds public keys and the VM's own host key,
    /// never customer secrets.
    pub user_data: String,
    /// When the environment was first created (Unix seconds, from the state file). Every
    /// resource carries it as [`crate::TAG_CREATED`], beside [`crate::TAG_MANAGED_BY`] and
    /// [`crate::TAG_ENV`] (see [`InfraSpec::labels`]).
    pub created: i64,
    /// When the environment expires (Unix seconds), if it was given a time to live. Every
    /// resource then carries it as [`crate::TAG_EXPIRES`].
    #[serde(default)]
    pub expires: Option<i64>,
    /// Per-environment nonce (from the state file) that idempotency tokens derive from, so a
    /// destroyed-then-recreated environment gets new resources. Every resource carries it as
    /// [`crate::TAG_NONCE`]: lower-case hex, valid as a label value on every cloud.
    pub nonce: String,
}

impl InfraSpec {
    /// The tags (labels) every resource of the environment carries: managed-by, environment,
    /// nonce, creation time, and the expiry when there is one. Keys and values are lower-case letters,
    /// digits and dashes, valid on every cloud.
    pub fn labels(&self) -> Vec<(&'static str, String)> {
        let mut labels = vec![
            (
                crate::TAG_MANAGED_BY,
                crate::TAG_MANAGED_BY_VALUE.to_string(),
            ),
            (crate::TAG_ENV, self.env.as_str().to_string()),
            (crate::TAG_NONCE, self.nonce.clone()),
            (crate::TAG_CREATED, self.created.to_string()),
        ];
        if let Some(expires) = self.expires {
            labels.push((crate::TAG_EXPIRES, expires.to_string()));
        }
        labels
    }
}

/// What preflight found, read-only: the concrete image, machine type and DNS zone the
/// environment will use. `plan` prints it; `ensure_*` consume it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// Region or zone.
    pub region: String,
    /// Image id (AMI id, image self link, image URN).
    pub image: String,
    /// Human description of the image (name), for `plan`.
    pub image_name: String,
    /// Machine type.
    pub machine_type: String,
    /// Its size as the cloud reports it.
    pub size: Size,
    /// Disk size in GB and the cloud's disk type (gp3, pd-ssd, Premium_LRS).
    pub disk_gb: u32,
    /// The cloud's name for the disk type.
    pub disk_type: String,
    /// DNS zone id the record goes into.
    pub dns_zone_id: String,
    /// DNS zone name (`example.com.`).
    pub dns_zone_name: String,
    /// User the VM's cloud-init creates and SSH logs in as.
    pub ssh_user: String,
}

/// A static public address and its IP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// The address resource.
    pub resource: crate::ResourceRef,
    /// The public IPv4 address.
    pub ip: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disk_below_the_floor_is_bad_input_naming_the_fix() {
        assert!(check_disk("c", 60, MIN_DISK_GB).is_ok());
        let e = check_disk("c", 59, MIN_DISK_GB).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::InvalidInput);
        let input = e.input.as_deref().expect("structured");
        assert_eq!(
            (input.input, input.value.as_deref()),
            (Input::DiskGb, Some("59"))
        );
        assert!(e.message.ends_with("pass disk size (GB) 60 or more"), "{e}");
        let azure = check_disk("c", 63, 64).unwrap_err();
        assert!(
            azure
                .message
                .starts_with("disk size (GB) 63 is below the 64 GB"),
            "{azure}"
        );
    }
}
