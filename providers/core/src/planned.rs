//! What `plan` shows: the resources a provider's `ensure_*` calls would create, one
//! [`Planned`] each, in creation order. Each provider builds its list from the same name
//! functions and rule lists its `ensure_*` calls use; the wording shared by every cloud (the
//! VM, the record, a rule) is here once.

use serde::{Deserialize, Serialize};

use crate::{FirewallRule, InfraSpec, Resolved, ResourceKind};

/// One resource a deployment would create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    /// What it is.
    pub kind: ResourceKind,
    /// The name it gets (the deterministic name `ensure_*` finds it by).
    pub name: String,
    /// The settings that matter, for a person.
    pub what: String,
}

impl Planned {
    /// A resource of `kind` named `name`.
    pub fn new(kind: ResourceKind, name: impl Into<String>, what: impl Into<String>) -> Planned {
        Planned {
            kind,
            name: name.into(),
            what: what.into(),
        }
    }

    /// The VM named `name` as preflight resolved it; `extra` says what only its cloud adds.
    pub fn vm(name: impl Into<String>, resolved: &Resolved, extra: &str) -> Planned {
        let size = &resolved.size;
        let what = format!(
            "{} ({} vCPU, {}) in {}, image {} ({}), {} GB {} disk deleted with the VM, login user {}{extra}",
            resolved.machine_type,
            size.vcpus,
            crate::spec::gib(size.memory_mib),
            resolved.region,
            resolved.image,
            resolved.image_name,
            resolved.disk_gb,
            resolved.disk_type,
            resolved.ssh_user
        );
        Planned::new(ResourceKind::Vm, name, what)
    }

    /// The A record for `spec.domain` in the zone preflight resolved.
    pub fn dns_record(spec: &InfraSpec, resolved: &Resolved) -> Planned {
        let what = format!(
            "A -> the static address, in zone {} ({})",
            resolved.dns_zone_name, resolved.dns_zone_id
        );
        Planned::new(ResourceKind::DnsRecord, spec.domain.clone(), what)
    }
}

/// `rules` as one phrase: `22/tcp from 203.0.113.7/32; 443/tcp from 0.0.0.0/0, ::/0`.
pub fn inbound(rules: &[FirewallRule]) -> String {
    rules
        .iter()
        .map(|r| format!("{}/tcp from {}", r.port, r.sources.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}
