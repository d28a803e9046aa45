//! Diagnostic logs (`tracing`), off unless `CARTO_PROVISION_LOG` asks for them (e.g.
//! `CARTO_PROVISION_LOG=debug`). A bare level applies to this tool's own crates only: the cloud
//! SDKs' wire tracing prints request bodies (the VM's user-data among them) and is switched on
//! only by naming its target explicitly (`CARTO_PROVISION_LOG=debug,aws_smithy_runtime=trace`),
//! which makes the output unsafe to share. Logs go to stderr and never carry secrets; progress
//! for the user goes through `progress.rs`, not here.

/// The crates a bare level applies to.
const OURS: [&str; 5] = [
    "carto_provision",
    "carto_core",
    "carto_aws",
    "carto_gcp",
    "carto_azure",
];

/// Installs the subscriber once.
pub fn init() {
    let filter = std::env::var("CARTO_PROVISION_LOG")
        .ok()
        .and_then(|v| tracing_subscriber::EnvFilter::try_new(directives(&v)).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// `CARTO_PROVISION_LOG` as filter directives: a bare level (`debug`) becomes that level for
/// each of [`OURS`]; a `target=level` directive is kept as written.
fn directives(value: &str) -> String {
    value
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            if d.contains('=') {
                d.to_string()
            } else {
                OURS.map(|c| format!("{c}={d}")).join(",")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_level_covers_only_our_crates_and_sdk_targets_must_be_named() {
        let d = directives("debug");
        assert!(d.contains("carto_aws=debug") && d.contains("carto_provision=debug"));
        assert!(!d.split(',').any(|x| x == "debug"), "{d}");
        let d = directives("info, aws_smithy_runtime=trace");
        assert!(d.ends_with(",aws_smithy_runtime=trace") && d.contains("carto_gcp=info"));
        assert_eq!(directives(""), "");
    }
}
