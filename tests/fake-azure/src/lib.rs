//! A fake Azure Resource Manager for tests: an in-process HTTP server on 127.0.0.1 that maps
//! each request to its operation in the Azure OpenAPI contracts, checks api-version, query and
//! body against them, keeps resources in memory, and answers in ARM's shapes (long-running
//! operations, 404s, throttling, bearer tokens). It never talks to anything off this machine.
//!
//! ```no_run
//! # async fn demo() -> Result<(), carto_fake_azure::StartError> {
//! let fake = carto_fake_azure::FakeServer::start(Default::default()).await?;
//! let arm_endpoint = fake.url(); // point the provider's ARM and token endpoints here
//! let token = fake.state().issue_token();
//! # let _ = (arm_endpoint, token); Ok(()) }
//! ```

pub mod auth;
pub mod config;
pub mod contracts;
pub mod dispatch;
pub mod errors;
pub mod filter;
pub mod ids;
pub mod lro;
pub mod refs;
pub mod reply;
pub mod resources;
pub mod routes;
pub mod server;
pub mod shape;
pub mod skus;
pub mod state;
pub mod validate;

use std::sync::Arc;

pub use config::FakeConfig;
pub use errors::ArmError;
pub use state::{FakeState, LoggedRequest};

/// Why the fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The contracts could not be read.
    #[error(transparent)]
    Contracts(#[from] contracts::ContractError),
    /// None of the served operations was found in the contracts.
    #[error("no served operation found in the contracts under {0}")]
    NoRoutes(String),
    /// Binding 127.0.0.1 failed.
    #[error("binding 127.0.0.1: {0}")]
    Bind(#[from] std::io::Error),
}

/// A running fake ARM server; stops when dropped.
#[derive(Debug)]
pub struct FakeServer {
    url: String,
    state: FakeState,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Loads the contracts, binds `127.0.0.1:0` and serves on the current tokio runtime.
    pub async fn start(config: FakeConfig) -> Result<Self, StartError> {
        let contracts = contracts::Contracts::load(&config.contracts_dir)?;
        let routes = routes::Routes::build(&contracts);
        if routes.is_empty() {
            return Err(StartError::NoRoutes(
                config.contracts_dir.display().to_string(),
            ));
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = FakeState::new(config.lro_polls, config.public_ip);
        let app = Arc::new(dispatch::App {
            contracts,
            routes,
            state: state.clone(),
            config,
            base: url.clone(),
        });
        let task = tokio::spawn(server::accept_loop(listener, app));
        Ok(Self { url, state, task })
    }

    /// Base URL (`http://127.0.0.1:port`), for both ARM and the token endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Handle on the fake's memory.
    pub fn state(&self) -> &FakeState {
        &self.state
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
