//! The verify step: `https://DOMAIN/`, `/acc/config.yaml` (static pages) and
//! `/workspace-api/health` (the router's route to workspace-api, asked for its deep check)
//! answer 200 through the VM's own address (domain as SNI and Host), so the check does not
//! wait on public DNS and a dead API behind a live router fails it (the router answers 502).
//! The certificate is verified unless the deployment uses CARTO's default self-signed one.

use std::time::Duration;

use anyhow::Context;

use super::Step;
use super::infra::Infra;
use super::record::Recorder;
use crate::spec::Spec;

/// The paths that must answer 200.
pub const PATHS: &[&str] = &["/", "/acc/config.yaml", "/workspace-api/health"];

/// How long HTTPS may take to answer after the services are up.
const TIMEOUT: Duration = Duration::from_secs(180);

/// Checks HTTPS and records the step.
pub async fn run(
    spec: &Spec,
    infra: &Infra,
    recorder: &Recorder<'_>,
) -> anyhow::Result<Vec<(String, u16)>> {
    let ip = infra.address.ip.parse().with_context(|| {
        format!(
            "the VM's address {:?} is not an IP address",
            infra.address.ip
        )
    })?;
    let answers = crate::https_probe::https(
        spec.domain.as_str(),
        ip,
        443,
        PATHS,
        !spec.package.self_signed_tls(),
        TIMEOUT,
    )
    .await?;
    recorder.reached(Step::Verify)?;
    Ok(answers)
}
