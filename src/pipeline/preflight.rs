//! The preflight step: checks every input against the cloud without changing anything, then
//! prepares what the later steps need (the environment's keys and the VM's user-data).
//!
//! The package, domain and flags were checked locally when the `Spec` was built; here the
//! provider checks region, image, machine type, disk and DNS zone. Keys are made only after
//! all of that passed.

use std::time::Duration;

use anyhow::Context;
use carto_core::{InfraSpec, Provider, Resolved, firewall_rules};

use super::record::Recorder;
use crate::cloud_init::UserData;
use crate::keys::EnvKeys;
use crate::spec::{Spec, check_cidr};
use crate::state::StateStore;

/// What preflight hands to the later steps.
pub struct Ready {
    /// The provider's request, user-data included.
    pub infra: InfraSpec,
    /// What the provider resolved (image, type, zone, SSH user).
    pub resolved: Resolved,
    /// The environment's SSH and host keys.
    pub keys: EnvKeys,
}

/// The provider's request for `spec`, before keys exist (preflight and `plan` need no keys).
pub fn infra_spec(spec: &Spec, ssh_cidr: &str, nonce: &str, times: Times) -> InfraSpec {
    InfraSpec {
        env: spec.env.clone(),
        domain: spec.domain.to_string(),
        region: spec.region.clone(),
        machine_type: spec.machine_type.clone(),
        profile: spec.profile,
        disk_gb: spec.disk_gb,
        disk_type: spec.disk_type.clone(),
        dns_zone: spec.dns_zone.clone(),
        firewall: firewall_rules(ssh_cidr),
        ssh_public_key: String::new(),
        user_data: String::new(),
        nonce: nonce.to_string(),
        created: times.created,
        expires: times.expires,
    }
}

/// When the environment was created and when it expires (Unix seconds), as every resource is
/// tagged.
#[derive(Clone, Copy, Debug)]
pub struct Times {
    /// Creation.
    pub created: i64,
    /// Expiry, if it has a ttl.
    pub expires: Option<i64>,
}

/// Checks `spec` against the cloud (read-only) and returns the operator range and what the
/// provider resolved.
pub async fn check(
    spec: &Spec,
    provider: &dyn Provider,
    nonce: &str,
    times: Times,
) -> anyhow::Result<(InfraSpec, Resolved)> {
    let ssh_cidr = match &spec.ssh_cidr {
        Some(cidr) => cidr.clone(),
        None => operator_cidr().await?,
    };
    let infra = infra_spec(spec, &ssh_cidr, nonce, times);
    let resolved = provider.preflight(&infra).await?;
    Ok((infra, resolved))
}

/// The preflight step of a deployment.
pub async fn run(
    spec: &Spec,
    provider: &dyn Provider,
    store: &StateStore,
    recorder: &Recorder<'_>,
) -> anyhow::Result<Ready> {
    let state = recorder.snapshot();
    let times = Times {
        created: state.created_at.timestamp(),
        expires: state.expires_at.map(|t| t.timestamp()),
    };
    let (mut infra, resolved) = check(spec, provider, &state.nonce, times).await?;
    let keys = EnvKeys::ensure(
        &store.ssh_key_path(&spec.env),
        &store.host_key_path(&spec.env),
        spec.env.as_str(),
    )?;
    infra.ssh_public_key = keys.ssh_public();
    infra.user_data = UserData {
        ssh_user: &resolved.ssh_user,
        authorized_key: &infra.ssh_public_key,
        host_key_private: &keys.host_private_pem(),
        host_key_public: &keys.host_public(),
    }
    .render();
    let fingerprint = keys.host_fingerprint();
    recorder.update(|s| {
        s.host_key_fingerprint = Some(fingerprint);
        s.ssh_user = Some(resolved.ssh_user.clone());
        s.extra
            .insert("selfhosted_version".into(), spec.selfhosted_version.clone());
        spec.provider.remember(&mut s.extra);
    })?;
    recorder.reached(super::Step::Preflight)?;
    Ok(Ready {
        infra,
        resolved,
        keys,
    })
}

/// This machine's public IPv4 address as a /32, from AWS's public checkip service.
async fn operator_cidr() -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let text = client
        .get("https://checkip.amazonaws.com/")
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .context("finding this machine's public address for the SSH rule failed; pass --ssh-cidr YOUR.IP/32")?
        .text()
        .await?;
    Ok(check_cidr(&format!("{}/32", text.trim()))?)
}
