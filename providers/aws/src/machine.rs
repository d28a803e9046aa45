//! Instance types and disks: the default type of each profile, and the checks that a chosen
//! type is x86_64 with at least the profile's vCPUs and memory, and that the disk is big enough.

use carto_core::{ErrorKind, Input, InvalidInput, Profile, ProviderError, Result, Size};

use crate::config::Clients;
use crate::send::send;

/// The instance type used when the user names none.
pub fn default_type(profile: Profile) -> &'static str {
    match profile {
        Profile::Min => "m6i.xlarge",
        Profile::Default => "m6i.2xlarge",
    }
}

/// Looks `instance_type` up in `region` and checks it against `profile`.
pub async fn check_type(
    clients: &Clients,
    region: &str,
    instance_type: &str,
    profile: Profile,
) -> Result<Size> {
    const CALL: &str = "ec2:DescribeInstanceTypes";
    let unknown = || {
        ProviderError::invalid(
            CALL,
            InvalidInput::new(
                Input::InstanceType,
                instance_type,
                format!("is not an EC2 instance type in {region}"),
            )
            .hint(format!("use {}", default_type(profile))),
        )
    };
    let ec2 = clients.ec2(region);
    let out = send(&clients.policy, CALL, || {
        ec2.describe_instance_types()
            .instance_types(instance_type.into())
            .send()
    })
    .await;
    let out = match out {
        Ok(out) => out,
        Err(e) if e.code.as_deref() == Some("InvalidInstanceType") => return Err(unknown()),
        Err(e) if e.kind == ErrorKind::NotFound => return Err(unknown()),
        Err(e) => return Err(e),
    };
    let info = out.instance_types().first().ok_or_else(unknown)?;
    let archs: Vec<&str> = info
        .processor_info()
        .map(|p| {
            p.supported_architectures()
                .iter()
                .map(|a| a.as_str())
                .collect()
        })
        .unwrap_or_default();
    let vcpus = info
        .v_cpu_info()
        .and_then(|v| v.default_v_cpus())
        .ok_or_else(|| ProviderError::missing_field(CALL, "VCpuInfo.DefaultVCpus"))?;
    let memory = info
        .memory_info()
        .and_then(|m| m.size_in_mib())
        .ok_or_else(|| ProviderError::missing_field(CALL, "MemoryInfo.SizeInMiB"))?;
    judge(
        instance_type,
        &archs,
        Size {
            vcpus: u32::try_from(vcpus).unwrap_or(0),
            memory_mib: u64::try_from(memory).unwrap_or(0),
        },
        profile,
    )
}

/// The pure part of [`check_type`]: x86_64, and at least the profile's size.
pub fn judge(instance_type: &str, archs: &[&str], size: Size, profile: Profile) -> Result<Size> {
    let suggestion = default_type(profile);
    if !archs.contains(&"x86_64") {
        return Err(ProviderError::invalid(
            "ec2:DescribeInstanceTypes",
            InvalidInput::new(
                Input::InstanceType,
                instance_type,
                format!(
                    "is {}, but CARTO Self-Hosted needs x86_64: choose {suggestion} or another x86_64 type",
                    if archs.is_empty() {
                        "of unknown architecture".to_string()
                    } else {
                        archs.join("/")
                    }
                ),
            ),
        ));
    }
    profile.check_size(
        "ec2:DescribeInstanceTypes",
        |reason| InvalidInput::new(Input::InstanceType, instance_type, reason),
        size,
        suggestion,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(vcpus: u32, gib: u64) -> Size {
        Size {
            vcpus,
            memory_mib: gib * 1024,
        }
    }

    #[test]
    fn too_small_type_names_flag_sizes_and_fix() {
        let err = judge("t3.medium", &["x86_64"], size(2, 4), Profile::Default).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "instance type t3.medium has 2 vCPUs and 4 GiB; the default profile needs at least 8 vCPUs and 32 GiB: choose m6i.2xlarge or larger"
        );
        let min = judge("t3.large", &["x86_64"], size(2, 8), Profile::Min).unwrap_err();
        assert!(
            min.to_string()
                .contains("the min profile needs at least 4 vCPUs and 16 GiB: choose m6i.xlarge"),
            "{min}"
        );
    }

    #[test]
    fn arm_is_refused_and_big_enough_x86_passes() {
        let err = judge("m7g.2xlarge", &["arm64"], size(8, 32), Profile::Default).unwrap_err();
        assert!(err.to_string().contains("needs x86_64"), "{err}");
        assert_eq!(
            judge("m6i.2xlarge", &["x86_64"], size(8, 32), Profile::Default).unwrap(),
            size(8, 32)
        );
        assert_eq!(carto_core::spec::gib(512), "0.5 GiB");
    }
}
