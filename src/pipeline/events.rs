//! Step names and the events a run emits. The CLI layer turns them into progress lines or
//! JSON; the pipeline only emits them.

use std::fmt;
use std::time::Duration;

/// A step of the deployment (see the table in `pipeline/mod.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Check every input against the cloud; create nothing.
    Preflight,
    /// SSH key, firewall, static address, VM.
    Infra,
    /// The A record.
    Dns,
    /// SSH in; carto-selfhosted checkout and package upload while cloud-init installs Docker;
    /// cloud-init done, Docker confirmed, docker group; host key rotation.
    Bootstrap,
    /// install.sh, compose up.
    Install,
    /// Wait until every service is up and migrations exited 0.
    Healthy,
    /// HTTPS answers through the VM's address.
    Verify,
    /// Delete everything recorded.
    Destroy,
}

/// A deployment's steps, in the pipeline's order (`destroy` is a command of its own).
pub const DEPLOY_STEPS: [Step; 7] = [
    Step::Preflight,
    Step::Infra,
    Step::Dns,
    Step::Bootstrap,
    Step::Install,
    Step::Healthy,
    Step::Verify,
];

impl Step {
    /// The step's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Preflight => "preflight",
            Step::Infra => "infra",
            Step::Dns => "dns",
            Step::Bootstrap => "bootstrap",
            Step::Install => "install",
            Step::Healthy => "healthy",
            Step::Verify => "verify",
            Step::Destroy => "destroy",
        }
    }

    /// Whether the step calls the cloud to change something: such a step is never cut short
    /// by a signal, it stops at the next safe point instead.
    pub fn changes_cloud(self) -> bool {
        matches!(self, Step::Infra | Step::Dns | Step::Destroy)
    }

    /// What we were doing, for the error context.
    pub fn failure(self) -> String {
        let doing = match self {
            Step::Preflight => "checking the inputs",
            Step::Infra => "creating the cloud resources",
            Step::Dns => "creating the DNS record",
            Step::Bootstrap => "preparing the VM",
            Step::Install => "installing CARTO",
            Step::Healthy => "waiting for CARTO's services",
            Step::Verify => "verifying HTTPS",
            Step::Destroy => "destroying the environment",
        };
        format!("{} failed while {doing}", self.as_str())
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Receives what a run does. Implementations must be cheap and never fail.
pub trait Events: Send + Sync {
    /// A step began.
    fn step_started(&self, step: Step);
    /// A step ended; `error` is the one-line cause when it failed.
    fn step_finished(&self, step: Step, elapsed: Duration, error: Option<String>);
    /// Something worth a line (a resource created, a remote step skipped).
    fn note(&self, step: Step, message: &str);
    /// The latest output line of a command running on the VM (shown, not kept; the full
    /// output goes to the environment's log file).
    fn output(&self, _step: Step, _line: &str) {}
}
