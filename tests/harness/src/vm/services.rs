//! What a test VM reaches outside itself, set up before it boots and torn down after it stops:
//! its network namespaces (`network.rs`), the harness registry in its services namespace
//! (`registry.rs`) and the apt proxy beside it (`apt_proxy.rs`). Dropping it stops the
//! registry by PID, stops the proxy and deletes the namespaces.

use std::fs;
use std::io;
use std::net::SocketAddrV4;
use std::path::Path;

use super::apt_proxy::{self, AptProxy};
use super::network::VmNetwork;
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
    network: VmNetwork,
    // Dropped before the namespaces go (fields drop in order).
    registry: Option<Registry>,
    proxy: Option<AptProxy>,
}

impl Services {
    /// Creates slot `slot`'s namespaces and starts the registry and the apt proxy, recording
    /// the slot and the registry's PID in `workdir`. `root` is the VM's rootfs copy (its apt
    /// sources name the hosts the proxy allows).
    pub(crate) fn start(slot: u8, workdir: &Path, root: &Path) -> io::Result<(Services, Outside)> {
        let images = registry::ensure_images()?;
        let network = VmNetwork::for_slot(slot);
        fs::write(workdir.join(SLOT_FILE), slot.to_string())?;
        network.create()?;
        let mut services = Services {
            network,
            registry: None,
            proxy: None,
        };
        let net = &services.network;
        let address = net.services_address();
        services.registry = Some(Registry::start(
            workdir,
            &net.services_netns(),
            address,
            &images,
        )?);
        services.proxy = Some(AptProxy::start(
            &VmNetwork::netns_path(&net.services_netns()),
            SocketAddrV4::new(address, apt_proxy::PORT),
            apt_proxy::source_hosts(root),
        )?);
        let outside = Outside {
            hosts: format!("{address} {}\n", registry::HOST),
            registry_ca: registry::ca_certificate(&images)?,
            apt_proxy: format!("http://{address}:{}", apt_proxy::PORT),
        };
        Ok((services, outside))
    }

    pub(crate) fn network(&self) -> &VmNetwork {
        &self.network
    }

    pub(crate) fn registry(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.registry.take();
        self.proxy.take();
        self.network.delete();
    }
}
