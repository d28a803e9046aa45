//! `plan`: what a deployment would create, read from the same preflight and the same step
//! lists the real run uses, and nothing changed: no cloud call that mutates, no state file,
//! no key written (the plan's placeholder keys live in memory only).

use carto_core::{Provider, Resolved};
use serde::Serialize;

use super::on_vm::remote_spec;
use super::preflight;
use crate::pipeline::{bootstrap, install};
use crate::remote::RemoteStep;
use crate::spec::Spec;
use crate::state::EnvState;

/// A deployment plan.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Plan {
    /// Environment name.
    pub env: String,
    /// Cloud.
    pub cloud: String,
    /// What preflight resolved.
    pub resolved: Resolved,
    /// Resources, one line each: (kind, description).
    pub resources: Vec<(String, String)>,
    /// Remote steps: (name, actions shown redacted).
    pub remote_steps: Vec<(String, Vec<String>)>,
}

/// Runs preflight and describes everything the deployment would do. `state` is the
/// environment's state file when it has one: what it made is then its own, as in a real run.
pub async fn make(
    spec: &Spec,
    provider: &dyn Provider,
    state: Option<&EnvState>,
) -> anyhow::Result<Plan> {
    let now = chrono::Utc::now().timestamp();
    let times = preflight::Times {
        created: now,
        expires: spec.ttl.map(|t| now + t.as_secs() as i64),
    };
    let preflight::Checked {
        infra, resolved, ..
    } = match state {
        Some(state) => preflight::check(spec, provider, &preflight::Ours::of(state), times).await?,
        None => {
            let fresh = preflight::Ours {
                nonce: "plan",
                ip: None,
                ids: Vec::new(),
            };
            preflight::check(spec, provider, &fresh, times).await?
        }
    };
    let size = resolved.size;
    let rules: Vec<String> = infra
        .firewall
        .iter()
        .map(|r| format!("{}/tcp from {}", r.port, r.sources.join(", ")))
        .collect();
    let mut resources: Vec<(String, String)> = spec
        .network
        .iter()
        .map(|n| {
            let what = format!("existing network {n}, not created or deleted (its rules checked: none opens more than 80/443 to the world)");
            ("network".to_string(), what)
        })
        .collect();
    resources.extend([
        (
            "ssh-key".into(),
            format!(
                "ed25519 key {} (made locally, private half stays on this machine)",
                spec.env.resource("key")
            ),
        ),
        (
            "firewall".into(),
            format!("inbound {}; nothing else", rules.join("; ")),
        ),
        ("address".into(), "static public IPv4 address".into()),
        (
            "vm".into(),
            format!(
                "{} ({} vCPU, {} GiB) in {}, image {} ({}), {} GB {} disk deleted with the VM, login user {}",
                resolved.machine_type,
                size.vcpus,
                size.memory_mib / 1024,
                resolved.region,
                resolved.image,
                resolved.image_name,
                resolved.disk_gb,
                resolved.disk_type,
                resolved.ssh_user
            ),
        ),
        (
            "dns-record".into(),
            format!(
                "A {} -> the static address, in zone {} ({})",
                spec.domain, resolved.dns_zone_name, resolved.dns_zone_id
            ),
        ),
    ]);
    let remote = remote_spec(spec, &resolved.ssh_user);
    let steps: Vec<RemoteStep> = bootstrap::steps(&remote)
        .into_iter()
        .chain(install::steps(&remote))
        .collect();
    let remote_steps = steps
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.apply.iter().map(|a| a.display()).collect(),
            )
        })
        .collect();
    Ok(Plan {
        env: spec.env.to_string(),
        cloud: spec.cloud().to_string(),
        resolved,
        resources,
        remote_steps,
    })
}

impl Plan {
    /// The plan as text for a person.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Plan for environment {} on {} in {} (nothing has been changed)\n\nResources, tagged managed-by=carto-provision carto-env={}:\n",
            self.env, self.cloud, self.resolved.region, self.env
        );
        for (kind, what) in &self.resources {
            out.push_str(&format!("  + {kind:<10} {what}\n"));
        }
        out.push_str("\nOn the VM, each step checked first and skipped when already done:\n");
        for (name, actions) in &self.remote_steps {
            out.push_str(&format!("  {name}\n"));
            for a in actions {
                out.push_str(&format!("      {a}\n"));
            }
        }
        out
    }
}
