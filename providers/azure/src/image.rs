//! The Ubuntu 22.04 image: `Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2`, its newest
//! version in the location (what `latest` resolves to). Read-only.

use carto_core::{Input, InvalidInput, Phrase, ProviderError, Result};

use crate::arm::body;
use crate::config::Clients;
use crate::transport::send;

/// Publisher, offer and SKU of Ubuntu 22.04 LTS (generation 2).
pub const UBUNTU: (&str, &str, &str) = (
    "Canonical",
    "0001-com-ubuntu-server-jammy",
    "22_04-lts-gen2",
);

/// The image URN with `version`.
pub fn urn(version: &str) -> String {
    format!("{}:{}:{}:{version}", UBUNTU.0, UBUNTU.1, UBUNTU.2)
}

/// The newest version of the image in `location`.
pub async fn latest(c: &Clients, location: &str) -> Result<String> {
    const CALL: &str = "compute:VirtualMachineImages_List";
    let sub = c.sub()?;
    let images = c.compute.virtual_machine_images_client();
    let rsp = send(&c.policy, CALL, || async {
        let b = images.list(location, UBUNTU.0, UBUNTU.1, UBUNTU.2, sub);
        Ok(b.send().await?.into_raw_response())
    })
    .await?;
    let v = body(CALL, rsp).await?;
    let mut versions: Vec<&str> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["name"].as_str())
        .collect();
    versions.sort_by_key(|v| {
        v.split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    versions.last().map(|v| v.to_string()).ok_or_else(|| {
        ProviderError::invalid(
            CALL,
            InvalidInput::unnamed(
                Input::Location,
                format!(
                    "the Ubuntu 22.04 image {} is not available in {location}",
                    urn("latest")
                ),
            )
            .hint(Phrase::from("pick another ").input(Input::Location)),
        )
    })
}
