//! The provider trait and the plain types the carto-provision pipeline speaks.
//!
//! Every cloud crate (`carto-aws`, later `carto-gcp` and `carto-azure`) implements [`Provider`]
//! over these types only; no SDK type crosses this boundary. Retry and wait policy live here
//! once ([`retry`]) and are driven by [`ErrorKind`], so the clouds do not each invent their own.
#![deny(missing_docs)]

pub mod dns;
pub mod error;
pub mod firewall;
pub mod name;
pub mod ownership;
pub mod provider;
pub mod resource;
pub mod retry;
pub mod spec;

pub use dns::RecordSet;
pub use error::{CodeTable, ErrorKind, OrAbsent, ProviderError, Result, causes};
pub use firewall::{FirewallRule, Protocol, firewall_rules};
pub use name::EnvName;
pub use provider::Provider;
pub use resource::{Cloud, ResourceKind, ResourceRef, TaggedResource, records_of_addresses};
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
/// (`--ttl`, every smoke environment). `gc` destroys an environment only once it has passed.
pub const TAG_EXPIRES: &str = "carto-expires";
/// Tag key holding the environment's nonce (random, from its state file): the proof that a
/// resource of the environment's name was made by this environment and not by another one of
/// the same name (see [`ownership`]).
pub const TAG_NONCE: &str = "carto-nonce";

/// RFC 3339 (UTC, seconds) for a Unix time, e.g. a [`TAG_CREATED`] value.
pub fn rfc3339_from_unix(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The expiry (Unix seconds) a [`TAG_EXPIRES`] tag value stands for, if it is one.
pub fn expires_from_tag(value: &str) -> Option<i64> {
    value.parse().ok()
}

/// The RFC 3339 creation time a [`TAG_CREATED`] tag value stands for, if it is one.
pub fn created_from_tag(value: &str) -> Option<String> {
    value.parse::<i64>().ok().map(rfc3339_from_unix)
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn unix_times_render_as_rfc3339() {
        assert_eq!(rfc3339_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_from_unix(1_795_710_422), "2026-11-26T16:27:02Z");
        assert_eq!(created_from_tag("x"), None);
    }
}
