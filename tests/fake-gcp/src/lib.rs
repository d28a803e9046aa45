//! A fake Google Compute Engine + Cloud DNS REST server for tests, checked against Google's
//! discovery documents (`compute.v1.json`, `dns.v1.json`). It serves
//! `/compute/v1/projects/{project}/...` and `/dns/v1/projects/{project}/...` on a loopback
//! address, keeps state (addresses, firewalls, networks with their subnetworks (every project
//! has GCP's world-open `default` network), instances with their disks, operations, DNS zones,
//! changes and record sets), rejects requests the real API would reject (unknown fields, wrong
//! types, bad enums, missing required values) in Google's error shape, and can be slowed down or
//! made to throttle. `FakeServer::start` runs it as a tokio task that stops when dropped.
//!
//! Besides the per-resource calls it serves `projects.get` (for projects seeded with
//! `FakeState::add_project`), the `aggregatedList` of instances and addresses (label filters as
//! on `list`), `instances.setMetadata` conditional on the metadata fingerprint, and an OAuth 2.0 token endpoint at [`TOKEN_PATH`] handing out access tokens, so
//! clients sign in with `authorized_user` credentials whose `token_uri` points here. Every API
//! call must carry a token that endpoint issued (or one from `FakeState::issue_token`): a
//! missing or unknown token is a 401 `UNAUTHENTICATED`, as on Google. Google's client
//! libraries' `$alt` and `$apiVersion` system parameters are accepted.
//!
//! What is validated, and what the discovery documents cannot tell, is listed in the crate's
//! README.md.
//!
//! ```no_run
//! # async fn demo() -> Result<(), carto_fake_gcp::FakeError> {
//! use carto_fake_gcp::{Config, FakeServer};
//! let fake = FakeServer::start(Config { address_ip: "127.0.0.5".into(), ..Config::default() }).await?;
//! fake.state().add_project("test-proj");
//! fake.state().add_managed_zone("test-proj", "example-zone", "example.com.");
//! fake.state().inject_fault("compute.instances.insert", 429, 1);
//! // Give `fake.url()` to the client as its endpoint (with anonymous credentials), run the
//! // provider, then assert on `fake.state().resources("instances")` and `.requests()`.
//! # Ok(()) }
//! ```

mod auth;
pub mod catalogue;
mod compute;
pub mod contract;
mod dns;
pub mod errors;
mod http;
mod instances;
mod lists;
mod metadata;
mod networks;
mod operations;
mod route;
pub mod schema;
mod state;

pub use errors::{ApiError, FakeError};
pub use http::TOKEN_PATH;
pub use state::{FakeState, LoggedRequest};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use state::{Settings, State};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// How the fake starts; every knob but the contracts and the bind address can also be turned
/// later through [`FakeState`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory holding `compute.v1.json` and `dns.v1.json`.
    pub contracts_dir: PathBuf,
    /// Loopback address to listen on (any 127.0.0.0/8 address); the port is picked by the OS.
    pub bind_ip: Ipv4Addr,
    /// The address `addresses.insert` hands out (the test VM's 127.0.0.N).
    pub address_ip: String,
    /// Polls (get or wait) an operation takes from PENDING to DONE; 0 means DONE at once.
    pub polls_to_done: u32,
    /// Reads a DNS change takes from `pending` to `done`; 0 means `done` at once.
    pub dns_polls_to_done: u32,
    /// Delay before every answer.
    pub latency: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            contracts_dir: default_contracts_dir(),
            bind_ip: Ipv4Addr::LOCALHOST,
            address_ip: "127.0.0.2".to_string(),
            polls_to_done: 2,
            dns_polls_to_done: 1,
            latency: Duration::ZERO,
        }
    }
}

/// `<repo root>/../shared/contracts/gcp`, the repo root being two levels above this crate.
pub fn default_contracts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/contracts/gcp")
}

/// A running fake; dropping it stops the server and every open connection.
pub struct FakeServer {
    addr: SocketAddr,
    state: FakeState,
    task: JoinHandle<()>,
}

impl FakeServer {
    /// Load the contracts and listen on `config.bind_ip` (loopback only) at a free port.
    pub async fn start(config: Config) -> Result<FakeServer, FakeError> {
        if !config.bind_ip.is_loopback() {
            return Err(FakeError::NotLoopback(IpAddr::V4(config.bind_ip)));
        }
        let contracts = contract::Contracts::load(&config.contracts_dir)?;
        let listener = TcpListener::bind((config.bind_ip, 0)).await?;
        let addr = listener.local_addr()?;
        let settings = Settings {
            address_ip: config.address_ip,
            polls_to_done: config.polls_to_done,
            dns_polls_to_done: config.dns_polls_to_done,
        };
        let state = FakeState(Arc::new(Mutex::new(State::new(settings, config.latency))));
        let shared = Arc::new(http::Shared {
            contracts,
            state: state.clone(),
            base: format!("http://{addr}"),
        });
        let task = tokio::spawn(serve(listener, shared));
        Ok(FakeServer { addr, state, task })
    }

    /// Start with the default configuration.
    pub async fn start_default() -> Result<FakeServer, FakeError> {
        Self::start(Config::default()).await
    }

    /// `http://127.0.0.1:PORT`, the endpoint to give the client (it appends `/compute/v1/...`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state handle, for seeding DNS zones, injecting faults and assertions.
    pub fn state(&self) -> FakeState {
        self.state.clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, shared: Arc<http::Shared>) {
    // Connections live in this set: aborting the accept task drops it, which aborts them all.
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| http::handle(shared.clone(), req));
            // A client hanging up mid-request is not the fake's concern.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}
