//! What a test VM reaches outside itself, set up before it boots and torn down after it stops:
//! its network namespaces (`network.rs`), the harness registry in its services namespace
//! (`registry.rs`) and the apt proxy beside it (`apt_proxy.rs`). Dropping it stops the
//! registry by PID, stops the proxy and deletes the namespaces, in that order.

use std::fs;
use std::io;
use std::net::SocketAddrV4;
use std::path::Path;

use super::apt_proxy::{self, AptProxy};
use super::network::{Created, VmNetwork};
use super::registry::{self, Registry};

/// File in the VM's work dir naming its network slot (for the sweep).
pub(crate) const SLOT_FILE: &str = "slot";

/// What the VM's seed needs to know about its outside.
pub(crate) struct Outside {
    /// `address host` lines for the VM's /etc/hosts (the registry host name).
    pub hosts: String,
    /// The registry's CA certificate, for Docker's certs.d.
    pub registry_ca: Vec<u8>,
    /// The apt proxy's URL.
    pub apt_proxy: String,
}

pub(crate) struct Services {
    // Fields drop in order: the registry and the proxy stop before the namespaces go.
    registry: Registry,
    _proxy: AptProxy,
    network: Created,
}

impl Services {
    /// Creates slot `slot`'s namespaces and starts the registry and the apt proxy, recording
    /// the slot and the registry's PID in `workdir`. `root` is the VM's rootfs copy (its apt
    /// sources name the hosts the proxy allows). On failure what was started is stopped again.
    pub(crate) fn start(slot: u8, workdir: &Path, root: &Path) -> io::Result<(Services, Outside)> {
        let images = registry::ensure_images()?;
        fs::write(workdir.join(SLOT_FILE), slot.to_string())?;
        let network = VmNetwork::for_slot(slot).create()?;
        let address = network.services_address();
        let registry = Registry::start(workdir, &network.services_netns(), address, &images)?;
        let proxy = AptProxy::start(
            &VmNetwork::netns_path(&network.services_netns()),
            SocketAddrV4::new(address, apt_proxy::PORT),
            apt_proxy::source_hosts(root),
        )?;
        let outside = Outside {
            hosts: format!("{address} {}\n", registry::HOST),
            registry_ca: registry::ca_certificate(&images)?,
            apt_proxy: format!("http://{address}:{}", apt_proxy::PORT),
        };
        let services = Services {
            registry,
            _proxy: proxy,
            network,
        };
        Ok((services, outside))
    }

    pub(crate) fn network(&self) -> &VmNetwork {
        &self.network
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }
}
