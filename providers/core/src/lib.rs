//! The provider trait and the plain types the carto-provision pipeline speaks.
//!
//! Every cloud crate (`carto-aws`, later `carto-gcp` and `carto-azure`) implements [`Provider`]
//! over these types only; no SDK type crosses this boundary. Retry and wait policy live here
//! once ([`retry`]) and are driven by [`ErrorKind`], so the clouds do not each invent their own.
#![deny(missing_docs)]

#[cfg(feature = "testing")]
pub mod contract;
pub mod dns;
pub mod error;
pub mod firewall;
pub mod input;
pub mod name;
pub mod ownership;
pub mod planned;
pub mod provider;
pub mod resource;
pub mod retry;
pub mod spec;
#[cfg(feature = "testing")]
pub mod testing;

use chrono::{DateTime, Utc};
pub use dns::RecordSet;

pub use error::{CodeTable, ErrorKind, OrAbsent, ProviderError, Result, causes};
pub use firewall::{FirewallRule, Protocol, firewall_rules};
pub use input::{Form, Input, InvalidInput, Phrase};
pub use name::EnvName;
pub use planned::Planned;
pub use provider::Provider;
pub use resource::{
    Cloud, ResourceKind, ResourceRef, TaggedResource, record_keys, records_of_addresses,
};
pub use spec::{Address, InfraSpec, MIN_DISK_GB, Profile, Resolved, Size, check_disk};

/// Tag key every resource carries so sweeps can find what this tool made.
pub const TAG_MANAGED_BY: &str = "managed-by";
/// Value of [`TAG_MANAGED_BY`].
pub const TAG_MANAGED_BY_VALUE: &str = "carto-provision";
/// Tag key naming the environment a resource belongs to.
pub const TAG_ENV: &str = "carto-env";
/// Tag key holding when the environment was first created, in Unix seconds (digits only, so
/// even a GCP label value holds it): `gc` reads an environment's age from it.
pub const TAG_CREATED: &str = "carto-created";
/// Tag key holding when the environment expires, in Unix seconds: set only when asked for
/// (a time to live, every smoke environment). `gc` destroys an environment only once it has passed.
pub const TAG_EXPIRES: &str = "carto-expires";
/// Tag key holding the environment's nonce (random, from its state file): the proof that a
/// resource of the environment's name was made by this environment and not by another one of
/// the same name (see [`ownership`]).
pub const TAG_NONCE: &str = "carto-nonce";

/// The expiry (Unix seconds) a [`TAG_EXPIRES`] tag value stands for, if it is one.
pub fn expires_from_tag(value: &str) -> Option<i64> {
    value.parse().ok()
}

/// A point in time, in UTC (creation times).
pub type Time = DateTime<Utc>;

/// The creation time a [`TAG_CREATED`] tag value (Unix seconds) stands for, if it is one.
pub fn created_from_tag(value: &str) -> Option<DateTime<Utc>> {
    value
        .parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
}

/// A time as a cloud reports it (RFC 3339, any offset), in UTC.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn tag_and_cloud_times_parse_to_utc() {
        let created = created_from_tag("1795710422").expect("a time");
        assert_eq!(created.to_rfc3339(), "2026-11-26T16:27:02+00:00");
        assert_eq!(parse_time("2026-11-26T17:27:02+01:00"), Some(created));
        assert_eq!(created_from_tag("x"), None);
    }
}
