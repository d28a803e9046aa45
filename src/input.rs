//! Bad input: the error for it, on its own so that every module that checks input (the spec,
//! the provider settings, the commands) can name it without depending on the others; and the
//! one table from the providers' [`Input`]s to the flags and environment variables of `cli.rs`.
//! Providers refuse an input as data ([`carto_core::InvalidInput`]); the sentence the user
//! sees is rendered here, so renaming a flag touches `cli.rs` and this file only.

use carto_core::{Form, Input, ProviderError};

/// Bad input: one sentence naming the input and the fix. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// The flag that sets `input`.
pub fn flag(input: Input) -> &'static str {
    match input {
        Input::Domain => "--domain",
        Input::Region => "--region",
        Input::Location => "--location",
        Input::Zone => "--zone",
        Input::Project => "--project",
        Input::Subscription => "--subscription",
        Input::InstanceType => "--instance-type",
        Input::MachineType => "--machine-type",
        Input::VmSize => "--vm-size",
        Input::Profile => "--profile",
        Input::DiskType => "--disk-type",
        Input::DiskGb => "--disk-gb",
        Input::Network => "--network",
        Input::DnsZone => "--dns-zone",
        Input::DnsResourceGroup => "--dns-resource-group",
        Input::SshCidr => "--ssh-cidr",
        Input::EndpointUrl => "--endpoint-url",
    }
}

/// The environment variable that stands for `input`'s flag, where messages name one.
pub fn env_var(input: Input) -> Option<&'static str> {
    match input {
        Input::Project => Some("CLOUDSDK_CORE_PROJECT"),
        Input::Subscription => Some("AZURE_SUBSCRIPTION_ID"),
        _ => None,
    }
}

/// How the CLI names `input` in a sentence: its flag, or its environment variable.
pub fn name(input: Input, form: Form) -> String {
    match form {
        Form::Env => env_var(input).unwrap_or(flag(input)).to_string(),
        Form::Option => flag(input).to_string(),
    }
}

/// `e` with any refused input worded with the CLI's flags.
pub fn with_flags(e: ProviderError) -> ProviderError {
    e.name_inputs(&name)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every input maps to a long flag the CLI has, and the environment variable named for it
    /// is that flag's own.
    #[test]
    fn every_input_is_a_flag_of_the_cli() {
        let cli = crate::cli::Cli::command();
        let mut args = Vec::new();
        let mut stack = vec![&cli];
        while let Some(cmd) = stack.pop() {
            args.extend(cmd.get_arguments());
            stack.extend(cmd.get_subcommands());
        }
        for input in Input::ALL {
            let long = flag(input).trim_start_matches("--");
            let found: Vec<_> = args.iter().filter(|a| a.get_long() == Some(long)).collect();
            assert!(!found.is_empty(), "{input:?}: no flag --{long}");
            if let Some(var) = env_var(input) {
                assert!(
                    found.iter().any(|a| a.get_env().is_some_and(|e| e == var)),
                    "{input:?}: --{long} does not read {var}"
                );
            }
        }
    }
}
