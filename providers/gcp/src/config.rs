//! The provider's options and the SDK clients built from them: Application Default
//! Credentials (in tests: an `authorized_user` file whose token endpoint is the local fake),
//! an endpoint override in tests, the SDK's own retries switched off (ours are in
//! [`crate::send`]). Also which project to use, and the project and zone checks preflight
//! runs first.

use std::path::PathBuf;
use std::time::Duration;

use carto_core::retry::RetryPolicy;
use carto_core::{ErrorKind, Input, InvalidInput, OrAbsent, Phrase, ProviderError, Result};
use google_cloud_auth::credentials::Credentials;
use google_cloud_compute_v1::client as compute;
use google_cloud_dns_v1::client as dns;
use google_cloud_gax::retry_policy::NeverRetry;

use crate::send::send;

/// Zone used when the user names none.
pub const DEFAULT_ZONE: &str = "us-central1-a";

/// What the CLI hands the GCP provider. No credentials: those come from Application Default
/// Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's ADC file, the metadata server).
#[derive(Clone, Debug, Default)]
pub struct GcpOptions {
    /// Project; `None` means the one Application Default Credentials name.
    pub project: Option<String>,
    /// Base URL replacing Google's API endpoints (a local emulator).
    pub endpoint_url: Option<String>,
}

/// Every SDK client the provider uses, the project, and our retry and polling policy.
#[derive(Clone, Debug)]
pub(crate) struct Clients {
    /// The project, when the flag, the environment or the ADC file named one.
    project: Option<String>,
    /// Retries throttling and transient faults (the SDK itself makes one attempt).
    pub policy: RetryPolicy,
    /// How often operations and DNS changes are polled.
    pub poll: Duration,
    pub projects: compute::Projects,
    pub zones: compute::Zones,
    pub machine_types: compute::MachineTypes,
    pub images: compute::Images,
    pub addresses: compute::Addresses,
    pub firewalls: compute::Firewalls,
    pub networks: compute::Networks,
    pub subnetworks: compute::Subnetworks,
    pub instances: compute::Instances,
    pub zone_ops: compute::ZoneOperations,
    pub region_ops: compute::RegionOperations,
    pub global_ops: compute::GlobalOperations,
    pub managed_zones: dns::ManagedZones,
    pub changes: dns::Changes,
    pub rrsets: dns::ResourceRecordSets,
}

pub(crate) fn build_error(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        ErrorKind::Permission,
        "gcp:credentials",
        format!(
            "could not set up Google Cloud clients: {e}; hint: run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
        ),
    )
}

/// Builds one client of type `$t` with the shared credentials and endpoint.
macro_rules! client {
    ($t:ty, $creds:expr, $endpoint:expr) => {{
        let mut b = <$t>::builder()
            .with_credentials($creds.clone())
            .with_retry_policy(NeverRetry);
        if let Some(url) = $endpoint {
            b = b.with_endpoint(url.clone());
        }
        b.build().await.map_err(build_error)?
    }};
}

impl Clients {
    /// Builds every client from `creds`, or Application Default Credentials when `None`.
    pub async fn load(opts: &GcpOptions, creds: Option<Credentials>) -> Result<Clients> {
        let creds = match creds {
            Some(creds) => creds,
            None => google_cloud_auth::credentials::Builder::default()
                .build()
                .map_err(build_error)?,
        };
        let endpoint = opts.endpoint_url.as_ref();
        let policy = RetryPolicy::from_env();
        let poll = (policy.base_delay * 2).min(Duration::from_secs(2));
        Ok(Clients {
            project: opts.project.clone().or_else(adc_project),
            policy,
            poll,
            projects: client!(compute::Projects, creds, endpoint),
            zones: client!(compute::Zones, creds, endpoint),
            machine_types: client!(compute::MachineTypes, creds, endpoint),
            images: client!(compute::Images, creds, endpoint),
            addresses: client!(compute::Addresses, creds, endpoint),
            firewalls: client!(compute::Firewalls, creds, endpoint),
            networks: client!(compute::Networks, creds, endpoint),
            subnetworks: client!(compute::Subnetworks, creds, endpoint),
            instances: client!(compute::Instances, creds, endpoint),
            zone_ops: client!(compute::ZoneOperations, creds, endpoint),
            region_ops: client!(compute::RegionOperations, creds, endpoint),
            global_ops: client!(compute::GlobalOperations, creds, endpoint),
            managed_zones: client!(dns::ManagedZones, creds, endpoint),
            changes: client!(dns::Changes, creds, endpoint),
            rrsets: client!(dns::ResourceRecordSets, creds, endpoint),
        })
    }

    /// The project, or the one sentence that says how to name one.
    pub fn project(&self) -> Result<&str> {
        self.project.as_deref().ok_or_else(|| {
            ProviderError::invalid(
                "gcp:project",
                InvalidInput::unnamed(
                    Input::Project,
                    Phrase::from("no GCP project: pass ")
                        .input(Input::Project)
                        .text(" PROJECT (or set ")
                        .env(Input::Project)
                        .text("), or use Application Default Credentials that name one"),
                ),
            )
        })
    }
}

/// The project Application Default Credentials name: `GOOGLE_CLOUD_PROJECT`, else the ADC
/// file's `project_id` (service account) or `quota_project_id` (user credentials).
fn adc_project() -> Option<String> {
    if let Some(p) = std::env::var("GOOGLE_CLOUD_PROJECT")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return Some(p);
    }
    let path = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| {
                PathBuf::from(h).join(".config/gcloud/application_default_credentials.json")
            })
        })?;
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    ["project_id", "quota_project_id"]
        .iter()
        .find_map(|k| json[k].as_str().filter(|p| !p.is_empty()))
        .map(str::to_string)
}

/// The region of a zone: `us-central1-a` -> `us-central1`.
pub fn region_of(zone: &str) -> &str {
    zone.rsplit_once('-').map(|(r, _)| r).unwrap_or(zone)
}

/// Checks that the project exists (and these credentials see it).
pub async fn check_project(c: &Clients) -> Result<()> {
    let project = c.project()?;
    let found = send(&c.policy, "compute.projects.get", || {
        c.projects.get().set_project(project).send()
    })
    .await
    .or_absent()?;
    match found {
        Some(_) => Ok(()),
        None => Err(ProviderError::invalid(
            "compute.projects.get",
            InvalidInput::new(
                Input::Project,
                project,
                "is not a Google Cloud project these credentials can use",
            )
            .hint("`gcloud projects list` shows the ones you can"),
        )),
    }
}

/// Checks that the zone exists in the project.
pub async fn check_zone(c: &Clients, zone: &str) -> Result<()> {
    let project = c.project()?;
    let found = send(&c.policy, "compute.zones.get", || {
        c.zones.get().set_project(project).set_zone(zone).send()
    })
    .await
    .or_absent()?;
    match found {
        Some(_) => Ok(()),
        None => Err(ProviderError::invalid(
            "compute.zones.get",
            InvalidInput::new(
                Input::Zone,
                zone,
                format!("is not a Compute Engine zone of project {project}"),
            )
            .hint("`gcloud compute zones list` shows them (e.g. us-central1-a)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_name_their_region() {
        assert_eq!(region_of("us-central1-a"), "us-central1");
        assert_eq!(region_of("europe-west4-b"), "europe-west4");
    }
}
