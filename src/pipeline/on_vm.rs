//! The steps that run on the VM: bootstrap (SSH in with the pinned host key; the checkout and
//! the package upload while cloud-init installs Docker; cloud-init done, Docker confirmed,
//! docker group; the host key rotation), install (install.sh, compose up) and the wait until
//! every service is healthy. The step lists themselves are pure functions in
//! `bootstrap.rs` and `install.rs`; this file connects them to a session and to the events.

use anyhow::Context;

use super::events::{Events, Step};
use super::infra::Infra;
use super::install::{self, HealthOptions};
use super::preflight::Ready;
use super::{bootstrap, hostkey, record::Recorder};
use crate::keys::{fingerprint, public_path};
use crate::remote::{self, FileSink, LineSink, RemoteSpec, Stream, UploadFile};
use crate::spec::Spec;
use crate::ssh::{ConnectOptions, Session, SshError, SshTarget};
use crate::state::{EnvState, StateStore};
use russh::keys::PublicKey;

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
        selfhosted_version: spec.selfhosted_version.clone().unwrap_or_default(),
        selfhosted_source: spec.selfhosted_source.clone(),
        files,
        checkout_dir: RemoteSpec::default_checkout_dir(ssh_user),
        verify_cert: !spec.package.self_signed_tls(),
    }
}

/// Connects to the VM pinned to `host_key`: nothing else is accepted.
async fn connect_pinned(
    spec: &Spec,
    ready: &Ready,
    infra: &Infra,
    host_key: PublicKey,
) -> Result<Session, SshError> {
    let target = SshTarget {
        host: infra.address.ip.clone(),
        port: 22,
        user: ready.resolved.ssh_user.clone(),
        key: ready.keys.ssh.clone(),
        host_key,
    };
    let opts = ConnectOptions {
        timeout: spec.ssh_timeout,
        ..ConnectOptions::default()
    };
    Session::connect(&target, opts).await
}

/// Connects to the VM pinned to its rotated host key once one is recorded. While the rotation
/// is unfinished the user-data key is the fallback (both are keys we know, never trust on first
/// use); once it finished, only the rotated key is accepted.
async fn connect(
    spec: &Spec,
    ready: &Ready,
    infra: &Infra,
    state: &EnvState,
) -> anyhow::Result<Session> {
    let original = ready.keys.host.public_key().clone();
    let Some(rotated) = rotated_key(state)? else {
        return Ok(connect_pinned(spec, ready, infra, original).await?);
    };
    match connect_pinned(spec, ready, infra, rotated).await {
        Err(SshError::HostKeyMismatch { .. }) if !state.host_key_rotated => {
            Ok(connect_pinned(spec, ready, infra, original).await?)
        }
        other => Ok(other?),
    }
}

/// The rotated host key recorded in the state file, if any.
fn rotated_key(state: &EnvState) -> anyhow::Result<Option<PublicKey>> {
    state
        .host_key_public
        .as_deref()
        .map(PublicKey::from_openssh)
        .transpose()
        .with_context(|| {
            format!(
                "the state file of {} holds an unreadable host_key_public; restore it or destroy the environment",
                state.name
            )
        })
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

    /// Deletes the local copy of the user-data host key (`NAME.hostkey[.pub]`).
    fn delete_local_host_key(&self) -> anyhow::Result<()> {
        let old = self.store.host_key_path(&self.spec.env);
        for path in [public_path(&old), old] {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("deleting the old host key {}", path.display())));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// SSH in, put carto-selfhosted and the package on the VM while cloud-init installs Docker
    /// (its user-data runs the Docker step during boot), confirm Docker and the docker group,
    /// and rotate the host key; returns the session for the install.
    pub async fn bootstrap(&self, infra: &Infra) -> anyhow::Result<Session> {
        let mut session = connect(self.spec, self.ready, infra, &self.recorder.snapshot()).await?;
        if self.spec.docker_source == remote::DockerSource::DistroV1 {
            tracing::warn!("{}", bootstrap::COMPOSE_V1_WARNING);
            self.events.note(
                Step::Bootstrap,
                &format!("warning: {}", bootstrap::COMPOSE_V1_WARNING),
            );
        }
        let mut steps = self.prepare_steps(&mut session).await?;
        steps.extend(bootstrap::steps(&self.remote_spec()));
        self.run(Step::Bootstrap, &mut session, &steps).await?;
        self.rotate_host_key(infra, session).await
    }

    /// What needs no Docker: carto-selfhosted at its release (or the uploaded local checkout)
    /// and the package files.
    async fn prepare_steps(
        &self,
        session: &mut Session,
    ) -> anyhow::Result<Vec<remote::RemoteStep>> {
        let mut remote = self.remote_spec();
        let mut steps = Vec::new();
        match &self.spec.selfhosted_source {
            Some(dir) => {
                let tar = install::tar_source(dir)
                    .with_context(|| format!("packing --selfhosted-source {}", dir.display()))?;
                steps.push(install::source_step(&remote, &tar));
            }
            None => remote.selfhosted_version = self.release(session).await?,
        }
        steps.extend(install::prepare_steps(&remote));
        Ok(steps)
    }

    /// Replaces the host key that travelled in user-data by one made on the VM (after
    /// cloud-init finished, so it cannot write the old one back), then reconnects pinned to
    /// the new key only and deletes the local copy of the old private key.
    async fn rotate_host_key(
        &self,
        infra: &Infra,
        mut session: Session,
    ) -> anyhow::Result<Session> {
        let state = self.recorder.snapshot();
        if state.host_key_rotated {
            // This run's preflight wrote a host key for a VM it might have had to create.
            self.delete_local_host_key()?;
            return Ok(session);
        }
        let record = |key: &PublicKey| {
            let line = key.to_openssh()?;
            self.recorder.update(|s| {
                s.host_key_public = Some(line);
                s.host_key_fingerprint = Some(fingerprint(key));
            })
        };
        let new = hostkey::rotate(&mut session, rotated_key(&state)?.as_ref(), record)
            .await
            .context("rotating the VM's SSH host key")?;
        session.close().await;
        crate::interrupt::die_at("hostkey:restarted");
        let session = connect_pinned(self.spec, self.ready, infra, new)
            .await
            .context("connecting to the VM with its new host key")?;
        self.delete_local_host_key()?;
        self.events
            .note(Step::Bootstrap, "host key rotated on the VM");
        self.recorder.update(|s| s.host_key_rotated = true)?;
        Ok(session)
    }

    /// The carto-selfhosted tag of this run: `--selfhosted-version`, else the tag the state
    /// file recorded (a re-run never moves to another release on its own), else the newest
    /// release of the repository, asked on the VM. Printed, and recorded once resolved.
    async fn release(&self, session: &mut Session) -> anyhow::Result<String> {
        if let Some(tag) = &self.spec.selfhosted_version {
            return Ok(tag.clone());
        }
        if let Some(tag) = self
            .recorder
            .snapshot()
            .extra
            .get(install::release::STATE_KEY)
        {
            self.events.note(
                Step::Bootstrap,
                &format!("carto-selfhosted {tag}: the release this environment has (--selfhosted-version changes it)"),
            );
            return Ok(tag.clone());
        }
        let repo = &self.spec.selfhosted_repo;
        let mut log = Forward::new(Step::Bootstrap, self.events, self.store, self.spec);
        let out = remote::Runner::exec(session, &install::release::ls_remote_tags(repo), &mut log)
            .await?;
        let tag = install::release::judge(repo, &out)?.to_string();
        self.recorder.update(|s| {
            s.extra
                .insert(install::release::STATE_KEY.into(), tag.clone());
        })?;
        self.events.note(
            Step::Bootstrap,
            &format!("carto-selfhosted {tag}: the newest release of {repo}"),
        );
        Ok(tag)
    }

    /// Run install.sh and start the services (carto-selfhosted and the package are on the VM
    /// since the bootstrap).
    pub async fn install(&self, mut session: Session) -> anyhow::Result<Session> {
        let steps = install::steps(&self.remote_spec());
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
