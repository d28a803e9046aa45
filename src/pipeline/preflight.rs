//! The preflight step: checks every input against the cloud without changing anything, then
//! prepares what the later steps need (the environment's keys and the VM's user-data).
//!
//! The package, domain and flags were checked locally when the `Spec` was built; here the
//! provider checks region, image, machine type, disk and DNS zone. Keys are made only after
//! all of that passed.

use std::time::Duration;

use anyhow::Context;
use carto_core::{
    InfraSpec, Provider, RecordSet, Resolved, TaggedResource, dns, firewall_rules, ownership,
};

use super::record::Recorder;
use crate::cloud_init::UserData;
use crate::keys::EnvKeys;
use crate::spec::{InputError, Spec, check_cidr};
use crate::state::{EnvState, StateStore};

/// State `extra` key holding (JSON) the record sets a `--take-over-dns` run replaces.
const DNS_REPLACED: &str = "dns_replaced";

/// What preflight hands to the later steps.
pub struct Ready {
    /// The provider's request, user-data included.
    pub infra: InfraSpec,
    /// What the provider resolved (image, type, zone, SSH user).
    pub resolved: Resolved,
    /// The environment's SSH and host keys.
    pub keys: EnvKeys,
    /// Record sets at the domain the A record replaces (`--take-over-dns`).
    pub dns_replace: Vec<RecordSet>,
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
        network: spec.network.clone(),
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

/// What preflight checked against the cloud, read-only.
pub struct Checked {
    /// The provider's request (without keys and user-data yet).
    pub infra: InfraSpec,
    /// What the provider resolved.
    pub resolved: Resolved,
    /// Record sets someone else holds at the domain that `--take-over-dns` replaces.
    pub dns_replace: Vec<RecordSet>,
}

/// What proves a resource or a DNS record is this environment's own (see
/// [`carto_core::ownership`]): its nonce, its address, the ids its state file recorded.
pub struct Ours<'a> {
    /// The environment's nonce, which every resource it made carries.
    pub nonce: &'a str,
    /// Its public address, once it has one.
    pub ip: Option<&'a str>,
    /// The ids of the resources its state file recorded.
    pub ids: Vec<&'a str>,
}

impl<'a> Ours<'a> {
    /// What `state` proves.
    pub fn of(state: &'a EnvState) -> Ours<'a> {
        Ours {
            nonce: &state.nonce,
            ip: state.public_ip.as_deref(),
            ids: state.resources.iter().map(|r| r.id.as_str()).collect(),
        }
    }
}

/// Checks `spec` against the cloud (read-only): the provider's inputs, then that nothing
/// holding the environment's names was made by someone else, then the records at the domain.
pub async fn check(
    spec: &Spec,
    provider: &dyn Provider,
    ours: &Ours<'_>,
    times: Times,
) -> anyhow::Result<Checked> {
    let ssh_cidr = match &spec.ssh_cidr {
        Some(cidr) => cidr.clone(),
        None => operator_cidr().await?,
    };
    let infra = infra_spec(spec, &ssh_cidr, ours.nonce, times);
    let resolved = provider.preflight(&infra).await?;
    let existing = provider.find_existing(&infra, &resolved).await?;
    refuse_foreign(spec, &existing, ours)?;
    let records = provider.find_dns_records(&infra, &resolved).await?;
    let dns_replace = dns_takeover(spec, &resolved, &records, ours.nonce, ours.ip)?;
    Ok(Checked {
        infra,
        resolved,
        dns_replace,
    })
}

/// Stops the run when a resource an `ensure_*` would adopt was not made by this environment.
fn refuse_foreign(
    spec: &Spec,
    existing: &[TaggedResource],
    ours: &Ours<'_>,
) -> Result<(), InputError> {
    let foreign = ownership::foreign(existing, ours.nonce, &ours.ids);
    if foreign.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = foreign.iter().map(|t| ownership::describe(t)).collect();
    Err(InputError(format!(
        "environment {}: {} resource(s) already hold its names but were not made by it ({}); deploy under another --name. Only if they are a lost deployment of this very environment (no other machine uses them) remove them: `carto-provision destroy {} --cloud {}` deletes what is tagged with this name",
        spec.env,
        listed.len(),
        listed.join("; "),
        spec.env,
        spec.cloud(),
    )))
}

/// The record sets at the domain this environment may replace: none when the name is free or
/// already ours; with `--take-over-dns`, the foreign A/AAAA/CNAME sets; else the foreign sets
/// stop the run, named with their values.
fn dns_takeover(
    spec: &Spec,
    resolved: &Resolved,
    records: &[RecordSet],
    nonce: &str,
    our_ip: Option<&str>,
) -> Result<Vec<RecordSet>, InputError> {
    let foreign = dns::foreign(records, nonce, our_ip);
    if foreign.is_empty() {
        return Ok(Vec::new());
    }
    if !spec.take_over_dns {
        let held: Vec<String> = foreign.iter().map(|s| s.to_string()).collect();
        return Err(InputError(format!(
            "--domain {}: the DNS zone {} already has a record there that this environment did not make ({}); choose another --domain, remove that record, or pass --take-over-dns to replace it (destroy then puts it back)",
            spec.domain.as_str(),
            resolved.dns_zone_name,
            held.join("; ")
        )));
    }
    Ok(foreign
        .into_iter()
        .filter(|s| s.is_address())
        .cloned()
        .collect())
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
    let Checked {
        mut infra,
        resolved,
        dns_replace,
    } = check(spec, provider, &Ours::of(&state), times).await?;
    // What a take-over replaces is recorded before the record is changed, so a run killed in
    // between still knows what to put back (the re-run finds the name already ours).
    let dns_replace = match state.extra.get(DNS_REPLACED) {
        Some(json) if dns_replace.is_empty() => serde_json::from_str(json)?,
        _ => dns_replace,
    };
    // The host key file exists from here until the rotation (hostkey.rs) deletes it, so a run
    // killed before then can still reach a VM that booted with it. After the rotation it is
    // needed only if the VM has to be created again.
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
        docker_script: &super::bootstrap::boot_script(
            spec.docker_source,
            spec.docker_apt_url.as_deref().unwrap_or_default(),
        ),
    }
    .render();
    let fingerprint = keys.host_fingerprint();
    recorder.update(|s| {
        if s.host_key_public.is_none() {
            s.host_key_fingerprint = Some(fingerprint);
        }
        s.ssh_user = Some(resolved.ssh_user.clone());
        if let Some(tag) = &spec.selfhosted_version {
            s.extra
                .insert(super::install::release::STATE_KEY.into(), tag.clone());
        }
        spec.provider.remember(&mut s.extra);
        if !dns_replace.is_empty() {
            let json = serde_json::to_string(&dns_replace).unwrap_or_default();
            s.extra.insert(DNS_REPLACED.into(), json);
        }
    })?;
    recorder.reached(super::Step::Preflight)?;
    Ok(Ready {
        infra,
        resolved,
        keys,
        dns_replace,
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
    Ok(check_cidr(&format!("{}/32", text.trim()), false)?)
}
