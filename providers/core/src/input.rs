//! Bad input as data: which input is wrong, its value, why, and the fix. Providers build an
//! [`InvalidInput`] and never name a command-line flag or print a command; the binary renders
//! it with its own flag and environment-variable names (its `input` module), so a renamed flag
//! touches one file there. [`fmt::Display`] here renders a neutral sentence for other callers.

use std::fmt;

/// The inputs a provider can refuse. Where clouds call the same thing differently (region,
/// location, zone; instance type, machine type, VM size) each has its own variant, in the
/// cloud's own words, so the name a user typed is the one the message shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    /// The fully qualified domain of the deployment.
    Domain,
    /// AWS region.
    Region,
    /// Azure location.
    Location,
    /// GCP zone.
    Zone,
    /// GCP project.
    Project,
    /// Azure subscription.
    Subscription,
    /// AWS instance type.
    InstanceType,
    /// GCP machine type.
    MachineType,
    /// Azure VM size.
    VmSize,
    /// The size profile (min, default).
    Profile,
    /// GCP boot disk type.
    DiskType,
    /// Root or OS disk size in GB.
    DiskGb,
    /// An existing GCP network to deploy into.
    Network,
    /// The DNS zone for the A record.
    DnsZone,
    /// The Azure resource group holding the DNS zone.
    DnsResourceGroup,
    /// The source range allowed to reach SSH.
    SshCidr,
    /// The cloud API's endpoint (an emulator's).
    EndpointUrl,
}

impl Input {
    /// Every input, for tables that must cover them all.
    pub const ALL: [Input; 17] = [
        Input::Domain,
        Input::Region,
        Input::Location,
        Input::Zone,
        Input::Project,
        Input::Subscription,
        Input::InstanceType,
        Input::MachineType,
        Input::VmSize,
        Input::Profile,
        Input::DiskType,
        Input::DiskGb,
        Input::Network,
        Input::DnsZone,
        Input::DnsResourceGroup,
        Input::SshCidr,
        Input::EndpointUrl,
    ];

    /// The input in plain words, for the neutral rendering.
    pub fn name(self) -> &'static str {
        match self {
            Input::Domain => "domain",
            Input::Region => "region",
            Input::Location => "location",
            Input::Zone => "zone",
            Input::Project => "project",
            Input::Subscription => "subscription",
            Input::InstanceType => "instance type",
            Input::MachineType => "machine type",
            Input::VmSize => "VM size",
            Input::Profile => "profile",
            Input::DiskType => "disk type",
            Input::DiskGb => "disk size (GB)",
            Input::Network => "network",
            Input::DnsZone => "DNS zone",
            Input::DnsResourceGroup => "DNS resource group",
            Input::SshCidr => "SSH source range",
            Input::EndpointUrl => "endpoint URL",
        }
    }
}

/// How an input is named inside a sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// As the user passes it (a flag, for the CLI).
    Option,
    /// As the environment variable that can stand for it.
    Env,
}

/// One piece of a [`Phrase`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Words as they are.
    Text(String),
    /// An input, named in the given form by whoever renders the phrase.
    Input(Input, Form),
}

/// Words that may name inputs, rendered by the caller's names for them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Phrase(pub Vec<Part>);

impl Phrase {
    /// Appends words.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.0.push(Part::Text(text.into()));
        self
    }

    /// Appends the name of `input` (its flag, for the CLI).
    pub fn input(mut self, input: Input) -> Self {
        self.0.push(Part::Input(input, Form::Option));
        self
    }

    /// Appends the environment variable that stands for `input`.
    pub fn env(mut self, input: Input) -> Self {
        self.0.push(Part::Input(input, Form::Env));
        self
    }

    /// The phrase with each input named by `name`.
    pub fn render(&self, name: &dyn Fn(Input, Form) -> String) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.clone(),
                Part::Input(i, form) => name(*i, *form),
            })
            .collect()
    }
}

impl From<&str> for Phrase {
    fn from(text: &str) -> Self {
        Phrase::default().text(text)
    }
}

impl From<String> for Phrase {
    fn from(text: String) -> Self {
        Phrase::default().text(text)
    }
}

/// An input the cloud cannot work with. Rendered as `{input} {value} {reason}; hint: {hint}`,
/// or `{reason}; hint: {hint}` when there is no value (the input is missing, or was picked by a
/// default the reason names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidInput {
    /// Which input.
    pub input: Input,
    /// The value given, if any.
    pub value: Option<String>,
    /// Why it cannot work.
    pub reason: Phrase,
    /// The fix, when one is known.
    pub hint: Option<Phrase>,
}

impl InvalidInput {
    /// `input` given as `value` cannot work because of `reason`.
    pub fn new(input: Input, value: impl Into<String>, reason: impl Into<Phrase>) -> Self {
        InvalidInput {
            input,
            value: Some(value.into()),
            reason: reason.into(),
            hint: None,
        }
    }

    /// `input` has no usable value; `reason` is the whole sentence.
    pub fn unnamed(input: Input, reason: impl Into<Phrase>) -> Self {
        InvalidInput {
            input,
            value: None,
            reason: reason.into(),
            hint: None,
        }
    }

    /// Adds the fix.
    pub fn hint(mut self, hint: impl Into<Phrase>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The sentence, with each input named by `name`.
    pub fn render(&self, name: &dyn Fn(Input, Form) -> String) -> String {
        let mut out = match &self.value {
            Some(value) => format!(
                "{} {value} {}",
                name(self.input, Form::Option),
                self.reason.render(name)
            ),
            None => self.reason.render(name),
        };
        if let Some(hint) = &self.hint {
            out.push_str("; hint: ");
            out.push_str(&hint.render(name));
        }
        out
    }
}

/// Names inputs in plain words (`the environment variable for project`).
pub fn plain_name(input: Input, form: Form) -> String {
    match form {
        Form::Option => input.name().to_string(),
        Form::Env => format!("the environment variable for {}", input.name()),
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&plain_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_value_reason_hint_and_the_inputs_it_names() {
        let flag = |i: Input, form: Form| match form {
            Form::Option => format!("<{}>", i.name()),
            Form::Env => "ENV".into(),
        };
        let e = InvalidInput::new(Input::Zone, "mars-1a", "is not a zone").hint(
            Phrase::default()
                .text("pass ")
                .input(Input::Zone)
                .text(" or set ")
                .env(Input::Zone),
        );
        assert_eq!(
            e.render(&flag),
            "<zone> mars-1a is not a zone; hint: pass <zone> or set ENV"
        );
        let missing = InvalidInput::unnamed(
            Input::Project,
            Phrase::from("no project: pass ").input(Input::Project),
        );
        assert_eq!(missing.render(&flag), "no project: pass <project>");
        assert_eq!(missing.to_string(), "no project: pass project");
    }
}
