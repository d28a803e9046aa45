//! Diagnostic logs (`tracing`), off unless `CARTO_PROVISION_LOG` asks for them (e.g.
//! `CARTO_PROVISION_LOG=debug`). Logs go to stderr and never carry secrets; progress for the
//! user goes through `progress.rs`, not here.

/// Installs the subscriber once.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CARTO_PROVISION_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
