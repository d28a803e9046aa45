//! `plan`: what a deployment would create, read from the same preflight and the same step
//! lists the real run uses, and nothing changed: no cloud call that mutates, no state file,
//! no key written (the plan's placeholder keys live in memory only).

use carto_core::{Planned, Provider, Resolved};
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
    /// A network the user named: used, neither created nor deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_network: Option<String>,
    /// What the provider would create, in creation order.
    pub resources: Vec<Planned>,
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
    let resources = provider.planned(&infra, &resolved);
    let remote = remote_spec(spec, &resolved.ssh_user);
    let steps: Vec<RemoteStep> = install::prepare_steps(&remote)
        .into_iter()
        .chain(bootstrap::steps(&remote))
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
        existing_network: spec.network.clone(),
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
        for Planned { kind, name, what } in &self.resources {
            out.push_str(&format!("  + {kind:<10} {name}: {what}\n"));
        }
        if let Some(network) = &self.existing_network {
            out.push_str(&format!(
                "\nUsed, not created or deleted: network {network} (its rules checked: none opens more than 80/443 to the world)\n"
            ));
        }
        out.push_str(
            "\nThe SSH key pair is made on this machine; its private half never leaves it.\n",
        );
        out.push_str(
            "\nThe VM's user-data installs Docker during boot with the commands of the step \"install Docker and docker-compose\", which then finds it done.\n",
        );
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
