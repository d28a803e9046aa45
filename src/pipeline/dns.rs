//! The dns step: the A record from the domain to the VM's static address, waited until the
//! provider says it is live. Runs beside `bootstrap`.

use std::time::Duration;

use carto_core::Provider;

use super::Step;
use super::infra::Infra;
use super::preflight::Ready;
use super::record::Recorder;

/// How long the DNS provider may take to apply the change.
const DNS_TIMEOUT: Duration = Duration::from_secs(300);

/// Creates or updates the A record and records it.
pub async fn run(
    provider: &dyn Provider,
    ready: &Ready,
    infra: &Infra,
    recorder: &Recorder<'_>,
) -> anyhow::Result<()> {
    let record = provider
        .ensure_dns_record(
            &ready.infra,
            &ready.resolved,
            &infra.address,
            &ready.dns_replace,
            DNS_TIMEOUT,
        )
        .await?;
    recorder.record(record)?;
    recorder.reached(Step::Dns)
}
