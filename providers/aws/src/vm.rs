//! The EC2 instance: found by its `carto-env` tag or launched (RunInstances with a ClientToken
//! from the environment's nonce, a gp3 root volume deleted with it, IMDSv2, user-data, tags on
//! instance and volume at launch); waited for until running; its metadata service closed to
//! containers once the user-data host key was rotated; terminated and waited for on delete.

use std::time::Duration;

use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, HttpTokensState, Instance, InstanceMetadataEndpointState,
    InstanceMetadataOptionsRequest, InstanceStateName, ResourceType, VolumeType,
};
use base64::Engine as _;
use carto_core::retry::{Poll, wait_until};
use carto_core::{
    EnvName, ErrorKind, InfraSpec, ProviderError, Resolved, ResourceKind, ResourceRef, Result,
    TaggedResource,
};

use crate::config::Clients;
use crate::send::send;
use crate::tags;

/// Root device of the Ubuntu AMIs.
const ROOT_DEVICE: &str = "/dev/sda1";
/// How often waits poll DescribeInstances.
const POLL: Duration = Duration::from_secs(2);
/// States of an instance that still exists (or will).
const LIVE_STATES: [&str; 4] = ["pending", "running", "stopping", "stopped"];

/// The RunInstances idempotency token: the environment's nonce plus the step, printable
/// ASCII only, at most 64 characters (EC2's limit).
pub fn client_token(nonce: &str) -> String {
    let mut token: String = nonce
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    token.truncate(61);
    token.push_str("-vm");
    token
}

/// The environment's instance's name: `carto-ENV-vm`.
pub fn name(env: &EnvName) -> String {
    env.resource("vm")
}

/// Finds the environment's live instance, or launches it.
pub async fn ensure_instance(
    clients: &Clients,
    spec: &InfraSpec,
    resolved: &Resolved,
    security_group_id: &str,
) -> Result<ResourceRef> {
    let region = spec.region.as_str();
    let name = name(&spec.env);
    if let Some(found) = find_live(clients, region, &spec.env).await?.first() {
        return to_ref(found, &name, region, "ec2:DescribeInstances");
    }
    let ec2 = clients.ec2(region);
    let user_data = base64::engine::general_purpose::STANDARD.encode(spec.user_data.as_bytes());
    let root = BlockDeviceMapping::builder()
        .device_name(ROOT_DEVICE)
        .ebs(
            EbsBlockDevice::builder()
                .volume_size(i32::try_from(resolved.disk_gb).unwrap_or(i32::MAX))
                .volume_type(VolumeType::Gp3)
                .delete_on_termination(true)
                .encrypted(true)
                .build(),
        )
        .build();
    let out = send(&clients.policy, "ec2:RunInstances", || {
        ec2.run_instances()
            .client_token(client_token(&spec.nonce))
            .image_id(&resolved.image)
            .instance_type(resolved.machine_type.as_str().into())
            .min_count(1)
            .max_count(1)
            .key_name(crate::key::name(&spec.env))
            .security_group_ids(security_group_id)
            .block_device_mappings(root.clone())
            .metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_tokens(HttpTokensState::Required)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    .build(),
            )
            .user_data(&user_data)
            .tag_specifications(tags::spec(ResourceType::Instance, spec, &name, &[]))
            .tag_specifications(tags::spec(
                ResourceType::Volume,
                spec,
                &spec.env.resource("disk"),
                &[],
            ))
            .send()
    })
    .await?;
    let instance = out
        .instances()
        .first()
        .ok_or_else(|| ProviderError::missing_field("ec2:RunInstances", "Instances"))?;
    // EC2 answers a reused ClientToken with the earlier instance, even a terminated one.
    if let Some(state) = instance.state().and_then(|s| s.name())
        && matches!(
            state,
            InstanceStateName::Terminated | InstanceStateName::ShuttingDown
        )
    {
        return Err(ProviderError::new(
            ErrorKind::Conflict,
            "ec2:RunInstances",
            format!(
                "RunInstances returned instance {} which is {}: its ClientToken (from this environment's nonce) was used by an earlier, destroyed environment; hint: destroy the environment so its state gets a new nonce",
                instance.instance_id().unwrap_or("?"),
                state.as_str()
            ),
        ));
    }
    to_ref(instance, &name, region, "ec2:RunInstances")
}

fn to_ref(instance: &Instance, name: &str, region: &str, call: &str) -> Result<ResourceRef> {
    let id = instance
        .instance_id()
        .ok_or_else(|| ProviderError::missing_field(call, "InstanceId"))?;
    Ok(ResourceRef::new(ResourceKind::Vm, id, name, region))
}

/// The environment's instances that are not terminated (or terminating).
async fn find_live(clients: &Clients, region: &str, env: &EnvName) -> Result<Vec<Instance>> {
    let mut filters = tags::filters(Some(env));
    filters.push(live_states());
    describe(clients, region, filters).await
}

/// Filter for instances that are not terminated or terminating.
fn live_states() -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name("instance-state-name")
        .set_values(Some(LIVE_STATES.iter().map(|s| s.to_string()).collect()))
        .build()
}

/// Every instance matching `filters`, across pages.
async fn describe(
    clients: &Clients,
    region: &str,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<Vec<Instance>> {
    let ec2 = clients.ec2(region);
    let mut token: Option<String> = None;
    let mut found = Vec::new();
    loop {
        let out = send(&clients.policy, "ec2:DescribeInstances", || {
            ec2.describe_instances()
                .set_filters(Some(filters.clone()))
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        found.extend(
            out.reservations()
                .iter()
                .flat_map(|r| r.instances().iter().cloned()),
        );
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(found),
        }
    }
}

/// The state of instance `id`, or `None` when EC2 does not know it (yet, or any more).
async fn state_of(clients: &Clients, region: &str, id: &str) -> Result<Option<InstanceStateName>> {
    let ec2 = clients.ec2(region);
    let out = send(&clients.policy, "ec2:DescribeInstances", || {
        ec2.describe_instances().instance_ids(id).send()
    })
    .await;
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id))
        .and_then(|i| i.state())
        .and_then(|s| s.name())
        .cloned())
}

/// Polls until instance `id` runs; fails at once if it stops or terminates instead.
pub async fn wait_running(clients: &Clients, vm: &ResourceRef, timeout: Duration) -> Result<()> {
    let what = format!("instance {} to be running", vm.id);
    wait_until(&what, "ec2:DescribeInstances", timeout, POLL, || async {
        match state_of(clients, &vm.region, &vm.id).await? {
            Some(InstanceStateName::Running) => Ok(Poll::Ready(())),
            Some(InstanceStateName::Pending) => Ok(Poll::Pending("state pending".into())),
            // Just launched: DescribeInstances may not know it yet (eventual consistency).
            None => Ok(Poll::Pending("not visible yet".into())),
            Some(other) => Err(ProviderError::new(
                ErrorKind::Conflict,
                "ec2:DescribeInstances",
                format!(
                    "instance {} is {} instead of starting",
                    vm.id,
                    other.as_str()
                ),
            )),
        }
    })
    .await
}

/// Once the host key in the user-data was rotated: IMDSv2 tokens required with a response hop
/// limit of 1, so only the VM itself (not its containers behind Docker's bridge) can reach the
/// metadata service and the user-data in it. EC2 cannot delete an instance's user-data while
/// it runs, and switching the metadata endpoint off would break cloud-init at the next boot.
pub async fn close_metadata(clients: &Clients, vm: &ResourceRef) -> Result<()> {
    let ec2 = clients.ec2(&vm.region);
    send(&clients.policy, "ec2:ModifyInstanceMetadataOptions", || {
        ec2.modify_instance_metadata_options()
            .instance_id(&vm.id)
            .http_tokens(HttpTokensState::Required)
            .http_put_response_hop_limit(1)
            .http_endpoint(InstanceMetadataEndpointState::Enabled)
            .send()
    })
    .await?;
    Ok(())
}

/// Terminates the instance and waits until it is gone. Not found is success.
pub async fn delete_instance(clients: &Clients, vm: &ResourceRef, timeout: Duration) -> Result<()> {
    let ec2 = clients.ec2(&vm.region);
    let out = send(&clients.policy, "ec2:TerminateInstances", || {
        ec2.terminate_instances().instance_ids(&vm.id).send()
    })
    .await;
    match out {
        Ok(_) => {}
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    let what = format!("instance {} to be terminated", vm.id);
    wait_until(&what, "ec2:DescribeInstances", timeout, POLL, || async {
        Ok(match state_of(clients, &vm.region, &vm.id).await? {
            None | Some(InstanceStateName::Terminated) => Poll::Ready(()),
            Some(state) => Poll::Pending(format!("state {}", state.as_str())),
        })
    })
    .await
}

/// Live instances tagged by this tool (in `env` when given), with their launch time.
pub async fn list_tagged(
    clients: &Clients,
    region: &str,
    env: Option<&EnvName>,
) -> Result<Vec<TaggedResource>> {
    let mut filters = tags::filters(env);
    filters.push(live_states());
    Ok(describe(clients, region, filters)
        .await?
        .iter()
        .filter_map(|i| {
            let id = i.instance_id()?;
            let name = tags::value(i.tags(), "Name").unwrap_or(id);
            let launched = i.launch_time().and_then(|t| {
                t.fmt(aws_sdk_ec2::primitives::DateTimeFormat::DateTime)
                    .ok()
            });
            let resource = ResourceRef::new(ResourceKind::Vm, id, name, region);
            Some(tags::tagged(resource, i.tags(), launched))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_token_is_nonce_plus_step_and_fits() {
        assert_eq!(client_token("abc123"), "abc123-vm");
        let long = client_token(&"x".repeat(100));
        assert!(long.len() <= 64 && long.ends_with("-vm"));
        assert_eq!(client_token("a b/é"), "ab-vm");
    }
}
