//! `status NAME`: the state file beside what the cloud says, and the HTTPS check.

use std::time::Duration;

use anyhow::Context;

use crate::event::{Event, Https};
use crate::providers::ProviderConfig;
use crate::state::StateStore;

use super::load;

/// Prints the environment `name`: its state, its resources in the cloud, its HTTPS check.
pub async fn run(store: &StateStore, name: &str, json: bool) -> anyhow::Result<()> {
    let state = load(store, name)?;
    let provider = ProviderConfig::from_state(&state)?.connect().await?;
    let live = provider
        .list_tagged(Some(&state.name))
        .await
        .context("listing the environment's resources")?;
    let https = match &state.public_ip {
        Some(ip) => {
            let ip = ip
                .parse()
                .context("the state file's public address is not an IP address")?;
            crate::https_probe::https(
                &state.domain,
                ip,
                443,
                &["/"],
                false,
                Duration::from_secs(10),
            )
            .await
            .map_err(|e| e.to_string())
        }
        None => Err("no public address yet".to_string()),
    };
    if json {
        Event::Status {
            state: Box::new(state),
            live,
            https: Https {
                ok: https.is_ok(),
                error: https.err(),
            },
        }
        .emit();
        return Ok(());
    }
    println!(
        "environment {} on {} ({}), domain {}, step reached: {}",
        state.name, state.cloud, state.region, state.domain, state.step
    );
    println!(
        "public address: {}",
        state.public_ip.as_deref().unwrap_or("-")
    );
    for r in &state.resources {
        let found = live.iter().any(|t| t.resource.id == r.id);
        println!(
            "  {:<10} {:<32} {:<24} {}",
            r.kind,
            r.name,
            r.id,
            if found || r.kind == carto_core::ResourceKind::DnsRecord {
                ""
            } else {
                "(not found in the cloud)"
            }
        );
    }
    match https {
        Ok(_) => println!("https://{}/ answers", state.domain),
        Err(e) => println!("https://{}/ does not answer: {e}", state.domain),
    }
    Ok(())
}
