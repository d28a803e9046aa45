//! References to created resources: what the pipeline records in the state file the moment
//! a provider returns it, and what `delete` takes back.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The clouds carto-provision deploys to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Amazon Web Services.
    Aws,
    /// Google Cloud.
    Gcp,
    /// Microsoft Azure.
    Azure,
}

impl Cloud {
    /// The cloud's name as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The kinds of resource an environment is made of, in creation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    /// A container for the rest (Azure resource group).
    Group,
    /// Virtual network (with its subnets where the cloud keeps them inside: Azure).
    Network,
    /// A subnet that is a resource of its own (GCP subnetwork), deleted before its network.
    Subnet,
    /// The SSH key registered with the cloud (AWS key pair).
    SshKey,
    /// Firewall (security group, firewall rules, NSG).
    Firewall,
    /// Static public address.
    Address,
    /// Network interface (Azure).
    Nic,
    /// The VM, with its disk.
    Vm,
    /// The DNS A record.
    DnsRecord,
}

impl ResourceKind {
    /// Short human name for progress and `plan` output.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Group => "group",
            ResourceKind::Network => "network",
            ResourceKind::Subnet => "subnet",
            ResourceKind::SshKey => "ssh-key",
            ResourceKind::Firewall => "firewall",
            ResourceKind::Address => "address",
            ResourceKind::Nic => "nic",
            ResourceKind::Vm => "vm",
            ResourceKind::DnsRecord => "dns-record",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A created resource, as recorded in the state file. `id` is the cloud's identifier
/// (instance id, self link, ARM id). The typed fields are what more than one crate reads (the
/// pipeline, sweeps, every cloud's `delete`); `detail` carries what only its own cloud needs
/// beyond them. Never a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored")]
pub struct ResourceRef {
    /// What it is.
    pub kind: ResourceKind,
    /// The cloud's id.
    pub id: String,
    /// Its deterministic name.
    pub name: String,
    /// Region or zone it lives in.
    pub region: String,
    /// The public IP: an address's own, or the one a DNS record must still point at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The DNS zone a record lives in, as its cloud names it (hosted zone id, managed zone
    /// name, zone ARM id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_zone: Option<String>,
    /// The group the resource lives in (an Azure resource group): deleting the group deletes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The domain an address's A record is for, so the record is found without a state file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// What only the resource's own cloud reads, by key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub detail: std::collections::BTreeMap<String, String>,
}

/// A [`ResourceRef`] as state files hold it, old ones included: versions before the typed
/// fields kept them in `detail` under each cloud's key (`public_ip` or `ip`, `zone_id` or
/// `zone`, `group`, `domain`), which [`From`] moves into the fields.
#[derive(Deserialize)]
struct Stored {
    kind: ResourceKind,
    id: String,
    name: String,
    region: String,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    dns_zone: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    detail: std::collections::BTreeMap<String, String>,
}

impl From<Stored> for ResourceRef {
    fn from(s: Stored) -> Self {
        let mut detail = s.detail;
        let mut take = |keys: &[&str]| keys.iter().find_map(|k| detail.remove(*k));
        let ip = s.ip.or_else(|| take(&["ip", "public_ip"]));
        let dns_zone = s.dns_zone.or_else(|| take(&["zone_id", "zone"]));
        let group = s.group.or_else(|| take(&["group"]));
        let domain = s.domain.or_else(|| take(&["domain"]));
        ResourceRef {
            kind: s.kind,
            id: s.id,
            name: s.name,
            region: s.region,
            ip,
            dns_zone,
            group,
            domain,
            detail,
        }
    }
}

impl ResourceRef {
    /// A reference with no detail.
    pub fn new(
        kind: ResourceKind,
        id: impl Into<String>,
        name: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        ResourceRef {
            kind,
            id: id.into(),
            name: name.into(),
            region: region.into(),
            ip: None,
            dns_zone: None,
            group: None,
            domain: None,
            detail: Default::default(),
        }
    }

    /// With its public IP (an address's, or the one a DNS record points at).
    pub fn with_ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// With the DNS zone it lives in.
    pub fn with_dns_zone(mut self, zone: impl Into<String>) -> Self {
        self.dns_zone = Some(zone.into());
        self
    }

    /// With the group it lives in.
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// With the domain its A record is for.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Adds one field only its own cloud reads.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.detail.insert(key.to_string(), value.into());
        self
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({}) in {}",
            self.kind, self.name, self.id, self.region
        )
    }
}

/// A resource found by tag, with the environment it belongs to and when it was created (its
/// `carto-created` tag, else the cloud's own creation time) where known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedResource {
    /// The resource.
    pub resource: ResourceRef,
    /// Value of its `carto-env` tag.
    pub env: String,
    /// Creation time, when known (RFC 3339 in JSON).
    pub created: Option<crate::Time>,
    /// Expiry (Unix seconds, its [`crate::TAG_EXPIRES`] tag); `None` when it has none.
    #[serde(default)]
    pub expires: Option<i64>,
    /// Its [`crate::TAG_NONCE`] tag: which environment of that name made it. `None` for a
    /// resource made by hand or by a version before the tag.
    #[serde(default)]
    pub nonce: Option<String>,
}

/// The `(domain, ip)` every address names in its tags: the A records that belong with it.
pub fn record_keys(addresses: &[TaggedResource]) -> Vec<(String, String)> {
    addresses
        .iter()
        .filter_map(|a| Some((a.resource.domain.clone()?, a.resource.ip.clone()?)))
        .collect()
}

/// The DNS records of environments found without a state file, where records carry no tags
/// (Route53, Cloud DNS): for each address with its `domain` and `ip`, the record among
/// `records` with that name and that IP (a provider lists a record only while it points at
/// exactly one IP), with the address's environment and age.
pub fn records_of_addresses(
    addresses: &[TaggedResource],
    records: &[ResourceRef],
) -> Vec<TaggedResource> {
    addresses
        .iter()
        .filter_map(|a| {
            let (domain, ip) = (a.resource.domain.as_ref()?, a.resource.ip.as_ref()?);
            let record = records
                .iter()
                .find(|r| &r.name == domain && r.ip.as_ref() == Some(ip))?;
            Some(TaggedResource {
                resource: record.clone(),
                env: a.env.clone(),
                created: a.created,
                expires: a.expires,
                nonce: a.nonce.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_belongs_to_the_address_naming_its_name_and_ip() {
        let address = |env: &str, domain: &str, ip: &str| TaggedResource {
            resource: ResourceRef::new(ResourceKind::Address, env, env, "r")
                .with_domain(domain)
                .with_ip(ip),
            env: env.into(),
            created: None,
            expires: Some(7),
            nonce: Some(format!("nonce-{env}")),
        };
        let record = |name: &str, ip: &str| {
            ResourceRef::new(ResourceKind::DnsRecord, name, name, "global").with_ip(ip)
        };
        let addresses = [
            address("a", "a.test", "198.51.100.1"),
            address("b", "b.test", "198.51.100.2"),
        ];
        assert_eq!(
            record_keys(&addresses),
            [
                ("a.test".to_string(), "198.51.100.1".to_string()),
                ("b.test".to_string(), "198.51.100.2".to_string())
            ]
        );
        // b.test points elsewhere now: someone else's record, not b's.
        let records = [
            record("b.test", "203.0.113.9"),
            record("a.test", "198.51.100.1"),
        ];
        let found = records_of_addresses(&addresses, &records);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].resource, records[1]);
        assert_eq!(
            (
                found[0].env.as_str(),
                found[0].expires,
                found[0].nonce.as_deref()
            ),
            ("a", Some(7), Some("nonce-a"))
        );
    }
}
