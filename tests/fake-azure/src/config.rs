//! How a test configures the fake: where the contracts are, which public IP to hand out, how
//! many polls a long-running operation takes, and the location reported for SKUs.
//! Plain data with defaults; nothing here starts or serves anything.

use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Start-up configuration of a [`crate::FakeServer`].
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Root of the Azure contracts (the folder holding `specification/`).
    pub contracts_dir: PathBuf,
    /// Address handed out as `properties.ipAddress` of every public IP (the test VM's).
    pub public_ip: Ipv4Addr,
    /// Polls of an operation URL answered `InProgress` before it reports `Succeeded`.
    pub lro_polls: u32,
    /// Seconds sent in `Retry-After` on long-running operations (0 keeps tests fast).
    pub lro_retry_after_secs: u64,
    /// Seconds sent in `Retry-After` on injected 429 answers.
    pub throttle_retry_after_secs: u64,
    /// Location listed by the resource SKU catalogue when the request filters none.
    pub default_location: String,
    /// Subscriptions that exist (`GET /subscriptions/{id}`); empty means every id exists.
    pub subscriptions: Vec<String>,
    /// Locations every subscription lists.
    pub locations: Vec<String>,
}

impl FakeConfig {
    /// The contracts folder beside the checkout: `<repo root>/../shared/contracts/azure`.
    pub fn default_contracts_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/contracts/azure")
    }
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            contracts_dir: Self::default_contracts_dir(),
            public_ip: Ipv4Addr::new(127, 0, 0, 2),
            lro_polls: 1,
            lro_retry_after_secs: 0,
            throttle_retry_after_secs: 1,
            default_location: "westeurope".to_string(),
            subscriptions: Vec::new(),
            locations: vec!["eastus".to_string(), "westeurope".to_string()],
        }
    }
}
