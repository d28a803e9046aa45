//! The environment's security group, in the region's default VPC.
//!
//! The security group's ingress is made to equal `spec.firewall` exactly: missing rules are
//! authorized, any other ingress is revoked. Its default egress stays (the VM needs outbound).
//! Deleting it retries `DependencyViolation` while the instance is still going away.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup};
use carto_core::OrAbsent;
use carto_core::retry::RetryPolicy;
use carto_core::{
    EnvName, ErrorKind, InfraSpec, Input, InvalidInput, ProviderError, ResourceKind, ResourceRef,
    Result, TaggedResource,
};

use crate::config::Clients;
use crate::send::send;
use crate::tags::{self, filter};

/// How long to keep retrying a security group delete that the instance still holds.
const SG_DELETE_PATIENCE: Duration = Duration::from_secs(300);

/// The region's default VPC id; preflight calls this too, so a region without one fails
/// before anything is created. Asked once per region and run (see `Clients::default_vpcs`).
pub async fn default_vpc(clients: &Clients, region: &str) -> Result<String> {
    let known = clients
        .default_vpcs
        .lock()
        .ok()
        .and_then(|v| v.get(region).cloned());
    if let Some(vpc) = known {
        return Ok(vpc);
    }
    let ec2 = clients.ec2(region);
    let out = send(&clients.policy, "ec2:DescribeVpcs", || {
        ec2.describe_vpcs()
            .filters(filter("is-default", "true"))
            .send()
    })
    .await?;
    let vpc = out
        .vpcs()
        .iter()
        .find_map(|v| v.vpc_id())
        .map(str::to_string)
        .ok_or_else(|| {
            ProviderError::invalid(
                "ec2:DescribeVpcs",
                InvalidInput::new(Input::Region, region, "has no default VPC").hint(format!(
                    "create one with `aws ec2 create-default-vpc --region {region}`"
                )),
            )
        })?;
    if let Ok(mut vpcs) = clients.default_vpcs.lock() {
        vpcs.insert(region.to_string(), vpc.clone());
    }
    Ok(vpc)
}

/// The environment's security group's name: `carto-ENV-sg`.
pub fn group_name(env: &EnvName) -> String {
    env.resource("sg")
}

/// Finds or creates `carto-NAME-sg` and makes its ingress equal `spec.firewall`.
pub async fn ensure_security_group(clients: &Clients, spec: &InfraSpec) -> Result<ResourceRef> {
    let region = spec.region.as_str();
    let name = group_name(&spec.env);
    let vpc = default_vpc(clients, region).await?;
    let ec2 = clients.ec2(region);
    let group = match find_group(clients, region, &vpc, &name).await? {
        Some(group) => group,
        None => {
            let created = send(&clients.policy, "ec2:CreateSecurityGroup", || {
                ec2.create_security_group()
                    .group_name(&name)
                    .description(format!("carto-provision environment {}", spec.env))
                    .vpc_id(&vpc)
                    .tag_specifications(tags::spec(ResourceType::SecurityGroup, spec, &name, &[]))
                    .send()
            })
            .await;
            match created {
                // A new group has no ingress yet: nothing to read back before adding the rules.
                Ok(out) => SecurityGroup::builder()
                    .set_group_id(out.group_id().map(str::to_string))
                    .build(),
                // Made by a concurrent run between our lookup and create: use it.
                Err(e) if e.code.as_deref() == Some("InvalidGroup.Duplicate") => {
                    find_group(clients, region, &vpc, &name)
                        .await?
                        .ok_or_else(|| {
                            ProviderError::missing_field("ec2:DescribeSecurityGroups", "GroupId")
                        })?
                }
                Err(e) => return Err(e),
            }
        }
    };
    let id = group
        .group_id()
        .ok_or_else(|| ProviderError::missing_field("ec2:DescribeSecurityGroups", "GroupId"))?
        .to_string();
    reconcile_ingress(clients, region, &id, &group, spec).await?;
    Ok(ResourceRef::new(ResourceKind::Firewall, id, name, region).with("vpc_id", vpc))
}

/// The security group holding the environment's name in the default VPC, whoever made it.
pub async fn find_named(clients: &Clients, spec: &InfraSpec) -> Result<Option<TaggedResource>> {
    let region = spec.region.as_str();
    let vpc = default_vpc(clients, region).await?;
    let name = group_name(&spec.env);
    Ok(find_group(clients, region, &vpc, &name)
        .await?
        .and_then(|g| {
            let resource = ResourceRef::new(ResourceKind::Firewall, g.group_id()?, &name, region);
            Some(tags::tagged(resource, g.tags(), None))
        }))
}

async fn find_group(
    clients: &Clients,
    region: &str,
    vpc: &str,
    name: &str,
) -> Result<Option<SecurityGroup>> {
    let ec2 = clients.ec2(region);
    let out = send(&clients.policy, "ec2:DescribeSecurityGroups", || {
        ec2.describe_security_groups()
            .filters(filter("group-name", name))
            .filters(filter("vpc-id", vpc))
            .send()
    })
    .await?;
    Ok(out.security_groups().first().cloned())
}

/// One TCP port open to one CIDR.
type Rule = (i32, String);

/// The rules `spec.firewall` asks for.
fn wanted(spec: &InfraSpec) -> BTreeSet<Rule> {
    spec.firewall
        .iter()
        .flat_map(|r| r.sources.iter().map(|s| (i32::from(r.port), s.clone())))
        .collect()
}

/// Authorizes missing rules, revokes every other ingress.
async fn reconcile_ingress(
    clients: &Clients,
    region: &str,
    group_id: &str,
    group: &SecurityGroup,
    spec: &InfraSpec,
) -> Result<()> {
    let want = wanted(spec);
    let mut have = BTreeSet::new();
    let mut revoke = Vec::new();
    for perm in group.ip_permissions() {
        let single_tcp_port =
            perm.ip_protocol() == Some("tcp") && perm.from_port() == perm.to_port();
        let cidrs = perm
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip())
            .chain(perm.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()));
        for cidr in cidrs {
            let rule = (perm.from_port().unwrap_or(-1), cidr.to_string());
            if single_tcp_port && want.contains(&rule) {
                have.insert(rule);
            } else {
                revoke.push(permission(
                    perm.ip_protocol().unwrap_or("-1"),
                    perm.from_port(),
                    perm.to_port(),
                    cidr,
                ));
            }
        }
        if !perm.user_id_group_pairs().is_empty() || !perm.prefix_list_ids().is_empty() {
            revoke.push(
                IpPermission::builder()
                    .set_ip_protocol(perm.ip_protocol().map(str::to_string))
                    .set_from_port(perm.from_port())
                    .set_to_port(perm.to_port())
                    .set_user_id_group_pairs(Some(perm.user_id_group_pairs().to_vec()))
                    .set_prefix_list_ids(Some(perm.prefix_list_ids().to_vec()))
                    .build(),
            );
        }
    }
    let add: Vec<IpPermission> = want
        .difference(&have)
        .map(|(port, cidr)| permission("tcp", Some(*port), Some(*port), cidr))
        .collect();
    let ec2 = clients.ec2(region);
    if !revoke.is_empty() {
        tracing::warn!(
            group_id,
            count = revoke.len(),
            "revoking ingress rules not in the firewall spec"
        );
        send(&clients.policy, "ec2:RevokeSecurityGroupIngress", || {
            ec2.revoke_security_group_ingress()
                .group_id(group_id)
                .set_ip_permissions(Some(revoke.clone()))
                .send()
        })
        .await?;
    }
    if !add.is_empty() {
        let added = send(&clients.policy, "ec2:AuthorizeSecurityGroupIngress", || {
            ec2.authorize_security_group_ingress()
                .group_id(group_id)
                .set_ip_permissions(Some(add.clone()))
                .send()
        })
        .await;
        match added {
            Ok(_) => {}
            // A concurrent run added them first: the outcome is the same.
            Err(e) if e.code.as_deref() == Some("InvalidPermission.Duplicate") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One permission for one CIDR (IPv6 when it contains ':').
fn permission(protocol: &str, from: Option<i32>, to: Option<i32>, cidr: &str) -> IpPermission {
    let b = IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(from)
        .set_to_port(to);
    if cidr.contains(':') {
        b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).build())
            .build()
    } else {
        b.ip_ranges(IpRange::builder().cidr_ip(cidr).build())
            .build()
    }
}

/// Deletes the security group, retrying `DependencyViolation` (the instance still holds it)
/// for up to five minutes or `timeout`, whichever is shorter. Not found is success.
pub async fn delete_security_group(
    clients: &Clients,
    resource: &ResourceRef,
    timeout: Duration,
) -> Result<()> {
    let ec2 = clients.ec2(&resource.region);
    let patient = RetryPolicy {
        max_attempts: u32::MAX,
        max_delay: Duration::from_secs(15).max(clients.policy.base_delay),
        deadline: timeout.min(SG_DELETE_PATIENCE),
        ..clients.policy
    };
    let out = patient
        .run(|| async {
            let out = send(&clients.policy, "ec2:DeleteSecurityGroup", || {
                ec2.delete_security_group().group_id(&resource.id).send()
            })
            .await;
            match out {
                Err(mut e) if e.code.as_deref() == Some("DependencyViolation") => {
                    e.kind = ErrorKind::Transient;
                    Err(e)
                }
                other => other,
            }
        })
        .await;
    out.or_absent().map(drop)
}

/// Security groups tagged by this tool (in `env` when given).
pub async fn list_tagged(
    clients: &Clients,
    region: &str,
    env: Option<&carto_core::EnvName>,
) -> Result<Vec<TaggedResource>> {
    let ec2 = clients.ec2(region);
    let mut found = Vec::new();
    let groups = send(&clients.policy, "ec2:DescribeSecurityGroups", || {
        ec2.describe_security_groups()
            .set_filters(Some(tags::filters(env)))
            .send()
    })
    .await?;
    for g in groups.security_groups() {
        let (Some(id), Some(name)) = (g.group_id(), g.group_name()) else {
            continue;
        };
        let resource = ResourceRef::new(ResourceKind::Firewall, id, name, region);
        found.push(tags::tagged(resource, g.tags(), None));
    }
    Ok(found)
}
