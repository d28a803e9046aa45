//! A fake Azure Resource Manager for tests: an in-process HTTP server on 127.0.0.1 that maps
//! each request to its operation in the Azure OpenAPI contracts, checks api-version, query and
//! body against them, keeps resources in memory, and answers in ARM's shapes (long-running
//! operations, 404s, throttling, bearer tokens). It never talks to anything off this machine.
//! It refuses to start on contracts it could not fully check against (patterns its regex
//! engine cannot compile, served operations whose parameters do not resolve); what it
//! validates and what the contract files lack is listed in the crate's README.md.
//!
//! ```no_run
//! # async fn demo() -> Result<(), carto_fake_azure::StartError> {
//! let fake = carto_fake_azure::FakeServer::start(Default::default()).await?;
//! let arm_endpoint = fake.url(); // point the provider's ARM and token endpoints here
//! let token = fake.state().issue_token();
//! # let _ = (arm_endpoint, token); Ok(()) }
//! ```

pub mod auth;
pub mod catalog;
pub mod config;
pub mod contracts;
pub mod dispatch;
pub mod errors;
pub mod filter;
pub mod ids;
pub mod lro;
pub mod patterns;
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
    /// Patterns in the contracts that the regex engine cannot compile (file: pattern).
    #[error("contract patterns the fake cannot compile, so cannot check: {0:?}")]
    Patterns(Vec<String>),
    /// `$ref`s of served operations' parameters that do not resolve.
    #[error("served operations whose parameters do not resolve: {0:?}")]
    Unresolved(Vec<String>),
    /// Binding 127.0.0.1 failed.
    #[error("binding 127.0.0.1: {0}")]
    Bind(#[from] std::io::Error),
}

/// A running fake ARM server; stops when dropped.
#[derive(Debug)]
pub struct FakeServer {
    url: String,
    state: FakeState,
    app: Arc<dispatch::App>,
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
        let bad_patterns = patterns::uncompilable(&contracts);
        if !bad_patterns.is_empty() {
            return Err(StartError::Patterns(bad_patterns));
        }
        let unresolved = routes.unresolved(&contracts);
        if !unresolved.is_empty() {
            return Err(StartError::Unresolved(unresolved));
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
        let task = tokio::spawn(server::accept_loop(listener, app.clone()));
        Ok(Self {
            url,
            state,
            app,
            task,
        })
    }

    /// Base URL (`http://127.0.0.1:port`), for both ARM and the token endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends one request in-process, exactly as if it came over HTTP with a valid token
    /// (contract checks included): for tests that seed or read the fake. Returns the status
    /// and the JSON body (`Null` when empty).
    pub fn call(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let req = dispatch::Incoming {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            query: query.to_string(),
            authorization: Some(format!("Bearer {}", self.state.issue_token())),
            content_type: body.map(|_| "application/json".to_string()),
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            ..Default::default()
        };
        let reply = self.app.dispatch(&req);
        (reply.status, reply.body.unwrap_or(serde_json::Value::Null))
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
