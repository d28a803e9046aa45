//! The `carto-provision` binary: parse flags, run the chosen command, map the error to an
//! exit code (see `exit.rs`). All the work lives in the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    carto_provision::tls_roots::prefer_bundle();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = carto_provision::cli::Cli::parse();
    carto_provision::logging::init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("carto-provision: starting the async runtime failed: {e}");
            return carto_provision::exit::Code::Other.into();
        }
    };
    match runtime.block_on(carto_provision::commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("carto-provision: {e:#}");
            carto_provision::exit::Code::of(&e).into()
        }
    }
}
