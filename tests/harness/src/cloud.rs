//! One emulated cloud as a deployment sees it: what the CLI needs to reach it, the user-data
//! it received, and what exists labelled with an environment. [`crate::deployment::Deployment`]
//! and the smoke tests drive every cloud through this trait; each emulator implements it in
//! its own module (`local_aws`, `local_gcp`, `local_azure`).
//!
//! Every emulator hands out its test VM's address and serves the DNS zone `test.` (the
//! e2e domain is `carto.test`).

use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::vm::{TestVm, Variant, VmOptions};

/// The DNS zone every emulated cloud serves.
pub const ZONE: &str = "test.";

/// An emulated cloud a deployment runs against.
pub trait LocalCloud: Send + Sync {
    /// The CLI subcommand for this cloud: `aws`, `gcp` or `azure`.
    fn cloud(&self) -> &'static str;

    /// The address the emulator hands out for the VM and its static address: the test VM's.
    fn vm_ip(&self) -> Ipv4Addr;

    /// Environment variables that point the CLI at this emulator with test credentials.
    fn cli_env(&self) -> Vec<(String, String)>;

    /// Flags this cloud needs after the subcommand (e.g. `--project test-proj`).
    fn deploy_args(&self) -> Vec<String>;

    /// The user-data the CLI sent for `env`'s VM, waiting until it has been sent.
    fn wait_user_data(&self, env: &str, timeout: Duration) -> io::Result<String>;

    /// Every resource labelled `carto-env=env`, as `kind id` (empty when all are gone).
    fn tagged(&self, env: &str) -> io::Result<Vec<String>>;

    /// The A records of zone [`ZONE`] as `(name with final dot, address)`.
    fn a_records(&self) -> io::Result<Vec<(String, String)>>;

    /// The TCP ports `env`'s inbound firewall rules let in (from any source; sources are not
    /// modelled), sorted: what [`TestVm::firewall`] enforces on the test VM.
    fn open_ports(&self, env: &str) -> io::Result<Vec<u16>>;

    /// Closes the loop a real cloud closes: once the CLI has created `env`'s VM, boots the
    /// test VM with exactly the user-data the CLI sent (plus `extra`).
    fn boot_from_user_data(&self, env: &str, variant: Variant, extra: &str) -> io::Result<TestVm> {
        let user_data = self.wait_user_data(env, Duration::from_secs(300))?;
        TestVm::boot(VmOptions {
            name: format!("vm-{env}"),
            address: self.vm_ip(),
            user_data: format!("{user_data}{extra}"),
            variant,
        })
    }
}

/// The ports of a rule's port spec: `443`, `80-81`; `*` (or an empty spec, as AWS's protocol
/// `-1` has) means every port.
pub fn ports_of(spec: &str) -> Vec<u16> {
    let spec = spec.trim();
    if spec.is_empty() || spec == "*" || spec == "-1" {
        return (1..=u16::MAX).collect();
    }
    match spec.split_once('-') {
        Some((from, to)) => match (from.parse::<u16>(), to.parse::<u16>()) {
            (Ok(from), Ok(to)) => (from..=to).collect(),
            _ => Vec::new(),
        },
        None => spec.parse().into_iter().collect(),
    }
}

/// Sorted and without repeats.
pub(crate) fn sorted(mut ports: Vec<u16>) -> Vec<u16> {
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs() {
        assert_eq!(ports_of("443"), [443]);
        assert_eq!(ports_of("80-82"), [80, 81, 82]);
        assert_eq!(ports_of("*").len(), 65535);
        assert!(ports_of("http").is_empty());
    }
}
