//! The test VM's network: each VM lives in a network namespace of its own, as a cloud VM has
//! its own network stack, so the compose file's published ports (`80`, `443`, `5447` on every
//! address) bind inside the VM and nowhere else, and Docker's bridge networks stay in the VM.
//!
//! Slot N (1..=254, leased by `address.rs`) gives two namespaces and two veth pairs, all in
//! 198.18.0.0/15, the range set aside for testing network equipment (RFC 2544):
//! - `carto-vm-N`, the VM: `198.18.N.2` facing the host (`198.18.N.1`), the address the
//!   emulators hand out, and `198.19.N.2` facing its services namespace;
//! - `carto-svc-N`, the VM's outside services (the harness registry and the apt proxy), on
//!   `198.19.N.1`, reachable from the VM only.
//!
//! The host routes the whole range nowhere (`unreachable 198.18.0.0/15`) except the /30 of a
//! booted VM, so an address handed out by an emulator without a VM behind it is refused on
//! this machine instead of being sent towards a default gateway.

use std::io;
use std::net::Ipv4Addr;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::Command;

use super::other_error;
use super::rootfs::run_checked;

/// When set to a number N, what the services namespace sends the VM (image layers, apt
/// packages) is limited to N Mbit/s, as a cloud VM's downloads are limited (the benches set
/// it; the tests do not).
pub const BANDWIDTH_ENV: &str = "CARTO_TEST_VM_MBIT";

/// The test range: VM addresses are `198.18.N.2`, services `198.19.N.1`.
const RANGE: &str = "198.18.0.0/15";

/// The VM address of slot `n`.
pub(crate) fn vm_address(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, n, 2)
}

/// The slot of a VM address, if it is one.
pub(crate) fn slot_of(address: Ipv4Addr) -> Option<u8> {
    let [a, b, n, d] = address.octets();
    (a == 198 && b == 18 && d == 2 && n > 0).then_some(n)
}

/// One VM's namespaces and links (see the module doc).
#[derive(Debug, Clone)]
pub struct VmNetwork {
    slot: u8,
}

impl VmNetwork {
    pub(crate) fn for_slot(slot: u8) -> VmNetwork {
        VmNetwork { slot }
    }

    /// The VM's namespace name.
    pub fn vm_netns(&self) -> String {
        format!("carto-vm-{}", self.slot)
    }

    /// The services' namespace name.
    pub fn services_netns(&self) -> String {
        format!("carto-svc-{}", self.slot)
    }

    /// `/run/netns/<name>`, what `systemd-nspawn --network-namespace-path` and `setns` take.
    pub fn netns_path(name: &str) -> PathBuf {
        PathBuf::from("/run/netns").join(name)
    }

    /// The services' address (the registry, the apt proxy), as the VM sees it.
    pub fn services_address(&self) -> Ipv4Addr {
        Ipv4Addr::new(198, 19, self.slot, 1)
    }

    /// The VM's interface that faces the host: the cloud's firewall filters here.
    pub fn vm_outside_link(&self) -> String {
        format!("cvm{}v", self.slot)
    }

    /// Creates both namespaces and links (removing leftovers of the slot's earlier owner);
    /// dropping the result deletes them.
    pub(crate) fn create(self) -> io::Result<Created> {
        ensure_unroutable_range()?;
        self.delete();
        let (vm, svc, n) = (self.vm_netns(), self.services_netns(), self.slot);
        let (host_link, vm_link) = (format!("cvm{n}h"), self.vm_outside_link());
        let (vm_svc_link, svc_link) = (format!("csv{n}v"), format!("csv{n}s"));
        let steps = [
            format!("netns add {vm}"),
            format!("netns add {svc}"),
            format!("link add {host_link} type veth peer name {vm_link} netns {vm}"),
            format!("addr add 198.18.{n}.1/30 dev {host_link}"),
            format!("link set {host_link} up"),
            format!("-n {vm} addr add 198.18.{n}.2/30 dev {vm_link}"),
            format!("-n {vm} link set {vm_link} up"),
            format!("-n {vm} link set lo up"),
            format!("-n {vm} link add {vm_svc_link} type veth peer name {svc_link} netns {svc}"),
            format!("-n {vm} addr add 198.19.{n}.2/30 dev {vm_svc_link}"),
            format!("-n {vm} link set {vm_svc_link} up"),
            format!("-n {svc} addr add 198.19.{n}.1/30 dev {svc_link}"),
            format!("-n {svc} link set {svc_link} up"),
            format!("-n {svc} link set lo up"),
        ];
        let created = Created(self);
        for step in steps {
            run_checked(Command::new("ip").args(step.split_whitespace()))?;
        }
        if let Some(mbit) = std::env::var(BANDWIDTH_ENV)
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
        {
            let limit = format!(
                "-n {svc} qdisc add dev {svc_link} root tbf rate {mbit}mbit burst 256kb latency 500ms"
            );
            run_checked(Command::new("tc").args(limit.split_whitespace()))?;
        }
        Ok(created)
    }

    /// Deletes both namespaces (their links go with them) and the host's end of the VM's link.
    /// Missing ones are fine.
    pub(crate) fn delete(&self) {
        for name in [self.vm_netns(), self.services_netns()] {
            if Self::netns_path(&name).exists() {
                let _ = run_checked(Command::new("ip").args(["netns", "del", &name]));
            }
        }
        let host_link = format!("cvm{}h", self.slot);
        if PathBuf::from("/sys/class/net").join(&host_link).exists() {
            let _ = run_checked(Command::new("ip").args(["link", "del", &host_link]));
        }
    }

    /// The iptables rule lines (after `iptables`) that play the cloud's firewall on the VM's
    /// link to the host: replies to the VM's own connections and TCP to `open` ports pass,
    /// every other TCP connection is reset.
    pub fn firewall_rules(&self, open: &[u16]) -> Vec<String> {
        let link = self.vm_outside_link();
        let mut rules = vec![
            "-F INPUT".to_string(),
            format!("-A INPUT -i {link} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"),
        ];
        rules.extend(
            open.iter()
                .map(|port| format!("-A INPUT -i {link} -p tcp --dport {port} -j ACCEPT")),
        );
        rules.push(format!(
            "-A INPUT -i {link} -p tcp -j REJECT --reject-with tcp-reset"
        ));
        rules
    }
}

/// A [`VmNetwork`] this process created: dropping it deletes the namespaces.
pub(crate) struct Created(VmNetwork);

impl Deref for Created {
    type Target = VmNetwork;

    fn deref(&self) -> &VmNetwork {
        &self.0
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        self.0.delete();
    }
}

/// Routes the test range nowhere on the host (idempotent): only a booted VM's /30 is reachable.
pub(crate) fn ensure_unroutable_range() -> io::Result<()> {
    let routes = Command::new("ip")
        .args(["route", "show", "type", "unreachable", RANGE])
        .output()?;
    if String::from_utf8_lossy(&routes.stdout).contains(RANGE) {
        return Ok(());
    }
    run_checked(Command::new("ip").args(["route", "replace", "unreachable", RANGE]))
        .map_err(|e| other_error(format!("cannot make {RANGE} unreachable on the host: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_map_to_addresses_and_back() {
        assert_eq!(vm_address(7), Ipv4Addr::new(198, 18, 7, 2));
        assert_eq!(slot_of(vm_address(7)), Some(7));
        assert_eq!(slot_of(Ipv4Addr::new(127, 0, 0, 7)), None);
        assert_eq!(slot_of(Ipv4Addr::new(198, 18, 7, 1)), None);
        let net = VmNetwork::for_slot(254);
        assert!(net.vm_outside_link().len() <= 15);
        assert_eq!(net.services_address(), Ipv4Addr::new(198, 19, 254, 1));
    }

    #[test]
    fn the_firewall_opens_only_the_given_ports_on_the_outside_link() {
        let rules = VmNetwork::for_slot(3).firewall_rules(&[22, 443]);
        assert_eq!(
            rules,
            [
                "-F INPUT",
                "-A INPUT -i cvm3v -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
                "-A INPUT -i cvm3v -p tcp --dport 22 -j ACCEPT",
                "-A INPUT -i cvm3v -p tcp --dport 443 -j ACCEPT",
                "-A INPUT -i cvm3v -p tcp -j REJECT --reject-with tcp-reset",
            ]
        );
    }
}
