//! The provider trait and the plain types the carto-provision pipeline speaks.
//!
//! Every cloud crate (`carto-aws`, later `carto-gcp` and `carto-azure`) implements [`Provider`]
//! over these types only; no SDK type crosses this boundary. Retry and wait policy live here
//! once ([`retry`]) and are driven by [`ErrorKind`], so the clouds do not each invent their own.
#![deny(missing_docs)]

pub mod error;
pub mod firewall;
pub mod name;
pub mod provider;
pub mod resource;
pub mod retry;
pub mod spec;

pub use error::{ErrorKind, OrAbsent, ProviderError, Result};
pub use firewall::{FirewallRule, Protocol, firewall_rules};
pub use name::EnvName;
pub use provider::Provider;
pub use resource::{Cloud, ResourceKind, ResourceRef, TaggedResource};
pub use spec::{Address, InfraSpec, Profile, Resolved, Size};

/// Tag key every resource carries so sweeps can find what this tool made.
pub const TAG_MANAGED_BY: &str = "managed-by";
/// Value of [`TAG_MANAGED_BY`].
pub const TAG_MANAGED_BY_VALUE: &str = "carto-provision";
/// Tag key naming the environment a resource belongs to.
pub const TAG_ENV: &str = "carto-env";
