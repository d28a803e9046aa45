//! The steps that run on the VM: bootstrap (SSH in with the pinned host key, cloud-init,
//! Docker, docker group), install (checkout, package upload, install.sh, compose up) and the
//! wait until every service is healthy. The step lists themselves are pure functions in
//! `bootstrap.rs` and `install.rs`; this file connects them to a session and to the events.

use anyhow::Context;

use super::events::{Events, Step};
use super::infra::Infra;
use super::install::{self, HealthOptions};
use super::preflight::Ready;
use super::{bootstrap, record::Recorder};
use crate::remote::{self, FileSink, LineSink, RemoteSpec, Stream, UploadFile};
use crate::spec::Spec;
use crate::ssh::{ConnectOptions, Session, SshTarget};
use crate::state::StateStore;

/// The `RemoteSpec` for `spec` when the VM's login user is `ssh_user`.
pub fn remote_spec(spec: &Spec, ssh_user: &str) -> RemoteSpec {
    let certs = spec
        .package
        .certs()
        .iter()
        .map(|c| (format!("certs/{}", c.name), c.bytes.as_slice()));
    let files = [
        (
            "customer.env".to_string(),
            spec.package.customer_env_text().as_bytes(),
        ),
        ("key.json".to_string(), spec.package.key_json_bytes()),
    ]
    .into_iter()
    .chain(certs)
    // The names are ours or were checked by the package module, so none is refused here.
    .filter_map(|(path, bytes)| UploadFile::new(&path, bytes.to_vec()).ok())
    .collect();
    RemoteSpec {
        ssh_user: ssh_user.to_string(),
        domain: spec.domain.to_string(),
        docker_source: spec.docker_source,
        docker_apt_url: spec.docker_apt_url.clone().unwrap_or_default(),
        selfhosted_repo: spec.selfhosted_repo.clone(),
        selfhosted_version: spec.selfhosted_version.clone(),
        selfhosted_source: spec.selfhosted_source.clone(),
        files,
        checkout_dir: RemoteSpec::default_checkout_dir(ssh_user),
        verify_cert: !spec.package.self_signed_tls(),
    }
}

/// Connects to the VM, accepting only the host key generated for it.
async fn connect(spec: &Spec, ready: &Ready, infra: &Infra) -> anyhow::Result<Session> {
    let target = SshTarget {
        host: infra.address.ip.clone(),
        port: 22,
        user: ready.resolved.ssh_user.clone(),
        key: ready.keys.ssh.clone(),
        host_key: ready.keys.host.public_key().clone(),
    };
    let opts = ConnectOptions {
        timeout: spec.ssh_timeout,
        ..ConnectOptions::default()
    };
    Ok(Session::connect(&target, opts).await?)
}

/// Forwards remote step progress to the run's events and every output line to the
/// environment's log file (`NAME.logs/remote.log`).
struct Forward<'a> {
    step: Step,
    events: &'a dyn Events,
    log: Option<FileSink>,
}

impl<'a> Forward<'a> {
    fn new(step: Step, events: &'a dyn Events, store: &StateStore, spec: &Spec) -> Self {
        let dir = store.logs_dir(&spec.env);
        let log = crate::state::ensure_dir(&dir)
            .ok()
            .and_then(|_| FileSink::append(&dir.join("remote.log")).ok());
        Forward { step, events, log }
    }
}

impl LineSink for Forward<'_> {
    fn line(&mut self, stream: Stream, line: &str) {
        if let Some(log) = &mut self.log {
            log.line(stream, line);
        }
        self.events.output(self.step, line);
    }
}

impl remote::StepEvents for Forward<'_> {
    fn skipped(&mut self, step: &str) {
        self.events
            .note(self.step, &format!("{step}: already done"));
    }
    fn done(&mut self, step: &str) {
        self.events.note(self.step, &format!("{step}: done"));
    }
}

/// What the steps on the VM share: the request, what preflight prepared, where the state
/// and logs go, and who hears about progress.
pub struct OnVm<'a> {
    /// The validated request.
    pub spec: &'a Spec,
    /// Keys and resolved settings from preflight.
    pub ready: &'a Ready,
    /// State and log folder.
    pub store: &'a StateStore,
    /// The run's state file.
    pub recorder: &'a Recorder<'a>,
    /// Progress.
    pub events: &'a dyn Events,
}

impl OnVm<'_> {
    fn remote_spec(&self) -> RemoteSpec {
        remote_spec(self.spec, &self.ready.resolved.ssh_user)
    }

    /// Runs `steps` as pipeline step `step` and records it as reached.
    async fn run(
        &self,
        step: Step,
        session: &mut Session,
        steps: &[remote::RemoteStep],
    ) -> anyhow::Result<()> {
        let mut forward = Forward::new(step, self.events, self.store, self.spec);
        remote::run_steps(session, steps, &mut forward).await?;
        self.recorder.reached(step)
    }

    /// SSH in and prepare the VM; returns the session for the install.
    pub async fn bootstrap(&self, infra: &Infra) -> anyhow::Result<Session> {
        let mut session = connect(self.spec, self.ready, infra).await?;
        self.run(
            Step::Bootstrap,
            &mut session,
            &bootstrap::steps(&self.remote_spec()),
        )
        .await?;
        Ok(session)
    }

    /// Put carto-selfhosted and the package on the VM, run install.sh and start the services.
    pub async fn install(&self, mut session: Session) -> anyhow::Result<Session> {
        let remote = self.remote_spec();
        let mut steps = Vec::new();
        if let Some(dir) = &self.spec.selfhosted_source {
            let tar = install::tar_source(dir)
                .with_context(|| format!("packing --selfhosted-source {}", dir.display()))?;
            steps.push(install::source_step(&remote, &tar));
        }
        steps.extend(install::steps(&remote));
        self.run(Step::Install, &mut session, &steps).await?;
        Ok(session)
    }

    /// Wait until every CARTO service is up and migrations exited 0.
    pub async fn wait_healthy(&self, mut session: Session) -> anyhow::Result<()> {
        let opts = HealthOptions {
            timeout: self.spec.healthy_timeout,
            log_dir: Some(self.store.logs_dir(&self.spec.env)),
            ..HealthOptions::default()
        };
        install::wait_healthy(&mut session, &self.remote_spec(), &opts).await?;
        session.close().await;
        self.recorder.reached(Step::Healthy)
    }
}
