//! The per-environment state file and the files kept beside it.
//!
//! This module owns the state directory layout (`NAME.json`, `NAME.lock`, `NAME.ssh[.pub]`,
//! `NAME.hostkey[.pub]`, `NAME.logs/`), the [`EnvState`] record with its schema version, the
//! per-environment exclusive lock, and atomic 0600 writes. It stores ids and non-secret
//! settings only: no customer.env value, key.json content, password or private key is ever put
//! in [`EnvState`]. Private keys go to their own 0600 files through [`write_secret_file`].

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use carto_core::{Cloud, EnvName, ResourceKind, ResourceRef};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Schema version this build writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Why the state directory or a state file could not be used.
#[derive(Debug, Error)]
pub enum StateError {
    /// Neither `$XDG_STATE_HOME` nor `$HOME` is set.
    #[error(
        "cannot find a state directory: set HOME or XDG_STATE_HOME (or pass the state directory explicitly)"
    )]
    NoHome,
    /// A file operation (`action`, e.g. "writing") on `path` failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// The state file is not valid JSON of the expected shape.
    #[error(
        "state file {} is damaged ({source}); fix or move it away, then check the cloud for resources tagged carto-env",
        path.display()
    )]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// The state file was written by a newer carto-provision.
    #[error(
        "state file {} has schema version {found}, but this carto-provision reads up to {SCHEMA_VERSION}; upgrade carto-provision",
        path.display()
    )]
    NewerSchema { path: PathBuf, found: u64 },
    /// Another run holds the environment's lock.
    #[error(
        "environment {env} is in use by another carto-provision run (lock {}); wait for it to finish",
        lock.display()
    )]
    Locked { env: EnvName, lock: PathBuf },
}

type Result<T, E = StateError> = std::result::Result<T, E>;

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Io {
        action,
        path,
        source,
    }
}

/// What carto-provision remembers about one environment between runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvState {
    /// Format version of this record ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The environment's name.
    pub name: EnvName,
    /// Cloud it lives in.
    pub cloud: Cloud,
    /// Region (or zone) it lives in.
    pub region: String,
    /// The domain CARTO answers on.
    pub domain: String,
    /// Random hex made at creation, distinguishing this environment from an earlier one of
    /// the same name.
    pub nonce: String,
    /// When the environment was first recorded.
    pub created_at: DateTime<Utc>,
    /// When it expires (`--ttl` from `created_at`), if it was given a time to live; every
    /// resource carries it as its `carto-expires` tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the record was last changed.
    pub updated_at: DateTime<Utc>,
    /// The last step completed (empty before the first).
    pub step: String,
    /// Every resource created and not yet deleted.
    pub resources: Vec<ResourceRef>,
    /// The VM's public address, once known.
    pub public_ip: Option<String>,
    /// `SHA256:…` fingerprint of the VM's pinned host key.
    pub host_key_fingerprint: Option<String>,
    /// The host key generated on the VM to replace the one from user-data (OpenSSH public
    /// line), recorded before it goes live; pinned from then on.
    #[serde(default)]
    pub host_key_public: Option<String>,
    /// True once the rotated key is live, verified by a new connection, and the local copy
    /// of the user-data host key is deleted.
    #[serde(default)]
    pub host_key_rotated: bool,
    /// True once the provider closed the ways to the VM's user-data after the rotation
    /// (`Provider::forget_user_data`).
    #[serde(default)]
    pub user_data_forgotten: bool,
    /// The login user on the VM.
    pub ssh_user: Option<String>,
    /// Other non-secret settings (e.g. the carto-selfhosted version).
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

impl EnvState {
    /// A fresh record with a new random nonce and no resources.
    pub fn new(
        name: EnvName,
        cloud: Cloud,
        region: impl Into<String>,
        domain: impl Into<String>,
    ) -> EnvState {
        let now = Utc::now();
        EnvState {
            schema_version: SCHEMA_VERSION,
            name,
            cloud,
            region: region.into(),
            domain: domain.into(),
            nonce: format!("{:016x}", fastrand::u64(..)),
            created_at: now,
            expires_at: None,
            updated_at: now,
            step: String::new(),
            resources: Vec::new(),
            public_ip: None,
            host_key_fingerprint: None,
            host_key_public: None,
            host_key_rotated: false,
            user_data_forgotten: false,
            ssh_user: None,
            extra: BTreeMap::new(),
        }
    }

    /// Records `r`, replacing a resource of the same kind and name.
    pub fn record(&mut self, r: ResourceRef) {
        match self.resources.iter().position(|old| same(old, &r)) {
            Some(i) => self.resources[i] = r,
            None => self.resources.push(r),
        }
    }

    /// Forgets the host key rotation and the user-data removal: they belonged to a VM that was
    /// replaced by a new one, which boots with the user-data host key again.
    pub fn reset_host_key(&mut self) {
        self.host_key_public = None;
        self.host_key_rotated = false;
        self.user_data_forgotten = false;
    }

    /// Forgets the resource with `r`'s kind and name (after it was deleted).
    pub fn forget(&mut self, r: &ResourceRef) {
        self.resources.retain(|old| !same(old, r));
    }

    /// The first resource of `kind`, if any.
    pub fn find(&self, kind: ResourceKind) -> Option<&ResourceRef> {
        self.resources.iter().find(|r| r.kind == kind)
    }

    /// Every resource of `kind`, in recording order.
    pub fn resources_of(&self, kind: ResourceKind) -> impl Iterator<Item = &ResourceRef> {
        self.resources.iter().filter(move |r| r.kind == kind)
    }
}

fn same(a: &ResourceRef, b: &ResourceRef) -> bool {
    a.kind == b.kind && a.name == b.name
}

/// The directory holding every environment's state, lock and key files.
#[derive(Clone, Debug)]
pub struct StateStore {
    dir: PathBuf,
}

/// An environment's exclusive lock; released when dropped.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateStore {
    /// A store in `dir` (created 0700 on first write).
    pub fn new(dir: impl Into<PathBuf>) -> StateStore {
        StateStore { dir: dir.into() }
    }

    /// `$XDG_STATE_HOME/carto-provision`, else `$HOME/.local/state/carto-provision`.
    pub fn default_dir() -> Result<PathBuf> {
        default_dir_from(std::env::var_os("XDG_STATE_HOME"), std::env::var_os("HOME"))
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `NAME.json`.
    pub fn state_path(&self, env: &EnvName) -> PathBuf {
        self.file(env, "json")
    }
    /// `NAME.lock`.
    pub fn lock_path(&self, env: &EnvName) -> PathBuf {
        self.file(env, "lock")
    }
    /// `NAME.ssh`: the login private key.
    pub fn ssh_key_path(&self, env: &EnvName) -> PathBuf {
        self.file(env, "ssh")
    }
    /// `NAME.ssh.pub`.
    pub fn ssh_pub_path(&self, env: &EnvName) -> PathBuf {
        self.file(env, "ssh.pub")
    }
    /// `NAME.hostkey`: the VM's host private key.
    pub fn host_key_path(&self, env: &EnvName) -> PathBuf {
        self.file(env, "hostkey")
    }
    /// `NAME.hostkey.pub`.
    pub fn host_pub_path(&self, env: &EnvName) -> PathBuf {
        self.file(env, "hostkey.pub")
    }
    /// `NAME.logs/`: collected remote logs. Callers create it with [`ensure_dir`] (0700).
    pub fn logs_dir(&self, env: &EnvName) -> PathBuf {
        self.file(env, "logs")
    }

    fn file(&self, env: &EnvName, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", env.as_str()))
    }

    /// Takes the environment's exclusive lock without waiting.
    pub fn lock(&self, env: &EnvName) -> Result<StateLock> {
        ensure_dir(&self.dir)?;
        let path = self.lock_path(env);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io_err("opening lock file", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    env: env.clone(),
                    lock: path,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_err("locking", &path)(e)),
        }
        // The pid is for a person wondering who holds the lock; failing to write it is harmless.
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(StateLock { _file: file })
    }

    /// The environment's state, or `None` if it has no state file.
    pub fn load(&self, env: &EnvName) -> Result<Option<EnvState>> {
        let path = self.state_path(env);
        match fs::read(&path) {
            Ok(bytes) => parse_state(&path, &bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("reading", &path)(e)),
        }
    }

    /// Writes the state atomically (temp file 0600, fsync, rename, fsync of the directory).
    pub fn save(&self, state: &EnvState) -> Result<()> {
        let path = self.state_path(&state.name);
        let mut json = serde_json::to_vec_pretty(state)
            .map_err(|e| io_err("serialising", &path)(io::Error::other(e)))?;
        json.push(b'\n');
        write_atomic(&path, &json)
    }

    /// Removes the environment's state, key and lock files (after everything was destroyed).
    /// The log folder is kept for diagnosis.
    pub fn remove(&self, env: &EnvName) -> Result<()> {
        if !self.dir.is_dir() {
            return Ok(());
        }
        for ext in ["json", "ssh", "ssh.pub", "hostkey", "hostkey.pub", "lock"] {
            let path = self.file(env, ext);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("removing", &path)(e)),
            }
        }
        sync_dir(&self.dir)
    }

    /// Every environment with a state file, sorted by name.
    pub fn list(&self) -> Result<Vec<EnvState>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("listing", &self.dir)(e)),
        };
        let mut states = Vec::new();
        for entry in entries {
            let path = entry.map_err(io_err("listing", &self.dir))?.path();
            let is_state = path.extension().is_some_and(|e| e == "json")
                && path
                    .file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'));
            if is_state {
                let bytes = fs::read(&path).map_err(io_err("reading", &path))?;
                states.push(parse_state(&path, &bytes)?);
            }
        }
        states.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(states)
    }
}

/// [`StateStore::default_dir`] over given values of `XDG_STATE_HOME` and `HOME`; a relative or
/// empty `XDG_STATE_HOME` is ignored, as the XDG spec says.
fn default_dir_from(xdg: Option<OsString>, home: Option<OsString>) -> Result<PathBuf> {
    if let Some(xdg) = xdg.map(PathBuf::from)
        && xdg.is_absolute()
    {
        return Ok(xdg.join("carto-provision"));
    }
    let home = home.filter(|h| !h.is_empty()).ok_or(StateError::NoHome)?;
    Ok(PathBuf::from(home).join(".local/state/carto-provision"))
}

/// Checks the schema version before the shape, so a newer file gets the clear message.
fn parse_state(path: &Path, bytes: &[u8]) -> Result<EnvState> {
    let parse_err = |source| StateError::Parse {
        path: path.to_path_buf(),
        source,
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(parse_err)?;
    if let Some(found) = value.get("schema_version").and_then(|v| v.as_u64())
        && found > u64::from(SCHEMA_VERSION)
    {
        return Err(StateError::NewerSchema {
            path: path.to_path_buf(),
            found,
        });
    }
    serde_json::from_value(value).map_err(parse_err)
}

/// Writes `bytes` to `path` atomically with mode 0600, creating the parent directory 0700 if
/// it is missing. Used for private keys and the state file.
pub fn write_secret_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, bytes).map_err(|e| match e {
        StateError::Io { source, .. } => source,
        other => io::Error::other(other.to_string()),
    })
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    ensure_dir(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{:08x}", fastrand::u32(..)));
    let written = (|| -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("writing", path)(e));
    }
    sync_dir(dir)
}

/// Creates `dir` (and its parents) 0700, or tightens an existing one to 0700: it holds keys,
/// state and logs that only this user may read.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err("creating directory", dir));
    }
    let mode = fs::metadata(dir)
        .map_err(io_err("reading", dir))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err("tightening", dir))?;
    }
    Ok(())
}

/// Opens `path` for appending, created 0600 (an existing file is tightened to 0600).
pub fn append_private(path: &Path) -> std::io::Result<File> {
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loose_state_dir_and_log_file_are_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        let logs = dir.join("e.logs");
        fs::create_dir_all(&logs).unwrap();
        for d in [&dir, &logs] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let log = logs.join("remote.log");
        fs::write(&log, "old\n").unwrap();
        fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
        ensure_dir(&dir).unwrap();
        ensure_dir(&logs).unwrap();
        drop(append_private(&log).unwrap());
        assert_eq!((mode(&dir), mode(&logs), mode(&log)), (0o700, 0o700, 0o600));
        let fresh = dir.join("f.logs");
        ensure_dir(&fresh).unwrap();
        drop(append_private(&fresh.join("remote.log")).unwrap());
        assert_eq!(
            (mode(&fresh), mode(&fresh.join("remote.log"))),
            (0o700, 0o600)
        );
    }

    fn env(name: &str) -> EnvName {
        EnvName::parse(name).unwrap()
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let entries = fs::read_dir(dir).unwrap();
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn fw(id: &str, name: &str) -> ResourceRef {
        ResourceRef::new(ResourceKind::Firewall, id, name, "eu-west-1")
    }

    fn sample() -> EnvState {
        let mut s = EnvState::new(env("my-env"), Cloud::Aws, "eu-west-1", "my.example.com");
        s.record(fw("sg-1", "carto-my-env-sg"));
        let dns = ResourceRef::new(ResourceKind::DnsRecord, "Z1/my", "my.example.com", "global");
        s.record(dns.with_ip("192.0.2.1"));
        s.public_ip = Some("192.0.2.1".into());
        s.extra
            .insert("selfhosted_version".into(), "2026.7.16".into());
        s
    }

    #[test]
    fn round_trip_and_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path().join("state"));
        assert_eq!(store.load(&env("my-env")).unwrap(), None);
        let state = sample();
        store.save(&state).unwrap();
        let back = store.load(&state.name).unwrap().unwrap();
        assert_eq!(back, state);
        assert_eq!(
            (back.schema_version, back.nonce.len()),
            (SCHEMA_VERSION, 16)
        );
        assert_eq!(mode(&store.state_path(&state.name)), 0o600);
        assert_eq!(mode(store.dir()), 0o700);
        let text = fs::read_to_string(store.state_path(&state.name)).unwrap();
        assert!(text.contains("\"cloud\": \"aws\""), "{text}");
        let created = state
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        assert!(text.contains(&created), "{text}");
    }

    #[test]
    fn record_replaces_same_kind_and_name() {
        let mut s = sample();
        s.record(fw("sg-2", "carto-my-env-sg"));
        assert_eq!(s.resources.len(), 2);
        assert_eq!(s.find(ResourceKind::Firewall).unwrap().id, "sg-2");
        s.record(fw("sg-3", "other"));
        assert_eq!(s.resources_of(ResourceKind::Firewall).count(), 2);
        let dns = s.find(ResourceKind::DnsRecord).unwrap().clone();
        s.forget(&dns);
        assert!(s.find(ResourceKind::DnsRecord).is_none());
        assert_eq!(s.resources.len(), 2);
        let fresh = || EnvState::new(env("a"), Cloud::Gcp, "r", "d.e").nonce;
        assert_ne!(fresh(), fresh());
    }

    #[test]
    fn lock_is_exclusive_until_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path());
        let name = env("locked");
        let first = store.lock(&name).unwrap();
        assert!(store.lock_path(&name).is_file());
        let err = store.lock(&name).unwrap_err();
        assert!(matches!(err, StateError::Locked { .. }));
        let msg = err.to_string();
        let want = "environment locked is in use by another carto-provision run (lock ";
        assert!(msg.starts_with(want), "{msg}");
        assert!(
            msg.ends_with("locked.lock); wait for it to finish"),
            "{msg}"
        );
        let _other = store.lock(&env("other")).unwrap(); // other environments are not blocked
        drop(first);
        let _again = store.lock(&name).unwrap();
    }

    #[test]
    fn newer_schema_is_refused_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path());
        let mut value = serde_json::to_value(sample()).unwrap();
        value["schema_version"] = 2.into();
        value["some_future_field"] = "x".into();
        let path = store.state_path(&env("my-env"));
        fs::write(&path, value.to_string()).unwrap();
        let err = store.load(&env("my-env")).unwrap_err();
        assert!(
            matches!(err, StateError::NewerSchema { found: 2, .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("schema version 2") && msg.ends_with("upgrade carto-provision"));
        fs::write(&path, "{not json").unwrap();
        let err = store.load(&env("my-env")).unwrap_err();
        assert!(matches!(err, StateError::Parse { .. }), "{err:?}");
    }

    #[test]
    fn atomic_writes_leave_no_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path());
        let mut state = sample();
        for step in ["infra", "dns", "bootstrap"] {
            state.step = step.into();
            store.save(&state).unwrap();
        }
        assert_eq!(names_in(tmp.path()), ["my-env.json"]);
        assert_eq!(store.load(&state.name).unwrap().unwrap().step, "bootstrap");
    }

    #[test]
    fn secret_file_is_0600_and_parent_created_0700() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path().join("nested/state"));
        let path = store.ssh_key_path(&env("k"));
        write_secret_file(&path, b"PRIVATE").unwrap();
        assert_eq!((mode(&path), mode(store.dir())), (0o600, 0o700));
        write_secret_file(&path, b"PRIVATE2").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"PRIVATE2");
        assert_eq!(names_in(store.dir()), ["k.ssh"]);
    }

    #[test]
    fn list_and_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path());
        assert!(
            StateStore::new(tmp.path().join("no"))
                .list()
                .unwrap()
                .is_empty()
        );
        let a = sample();
        store
            .save(&EnvState::new(
                env("b-env"),
                Cloud::Azure,
                "westeurope",
                "b.ex.com",
            ))
            .unwrap();
        store.save(&a).unwrap();
        let listed = store.list().unwrap();
        let names: Vec<&str> = listed.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["b-env", "my-env"]);
        write_secret_file(&store.ssh_key_path(&a.name), b"k").unwrap();
        write_secret_file(&store.host_key_path(&a.name), b"h").unwrap();
        fs::write(store.ssh_pub_path(&a.name), "pub").unwrap();
        drop(store.lock(&a.name).unwrap());
        assert_eq!(names_in(tmp.path()).len(), 6);
        store.remove(&a.name).unwrap();
        assert_eq!(names_in(tmp.path()), ["b-env.json"]);
        store.remove(&a.name).unwrap(); // removing again is fine
        StateStore::new(tmp.path().join("no"))
            .remove(&a.name)
            .unwrap();
    }

    #[test]
    fn default_dir_prefers_xdg_then_home() {
        let os = |s: &str| Some(OsString::from(s));
        let home = Path::new("/home/u/.local/state/carto-provision");
        let xdg = default_dir_from(os("/x/state"), os("/home/u")).unwrap();
        assert_eq!(xdg, Path::new("/x/state/carto-provision"));
        assert_eq!(default_dir_from(None, os("/home/u")).unwrap(), home);
        assert_eq!(
            default_dir_from(os("relative"), os("/home/u")).unwrap(),
            home
        );
        assert_eq!(default_dir_from(os(""), os("/home/u")).unwrap(), home);
        assert!(matches!(
            default_dir_from(None, os("")),
            Err(StateError::NoHome)
        ));
        assert!(matches!(
            default_dir_from(None, None),
            Err(StateError::NoHome)
        ));
    }
}
