//! SSH transport only (russh): connect with a pinned host key, run commands, upload files.
//!
//! `Session::connect` retries while the VM is still coming up (refused, reset, no TCP connection
//! within [`TCP_CONNECT_TIMEOUT`], timed out, closed early) after a pause of [`FIRST_PAUSE`]
//! doubling to [`MAX_PAUSE`], until the deadline: an attempt on a VM still booting costs one
//! refused connection, while each second of pause after sshd comes up is a second added to the
//! deployment (the cap was 10 s). The server's host key must equal the pinned one; any other key
//! aborts the connection before authentication and is never retried (`SshError::HostKeyMismatch`).
//! No code path accepts an unknown key.
//! `Session` implements `remote::Runner`; what to run is decided in `remote` and `pipeline`.

mod lines;
mod sftp;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use russh::ChannelMsg;
use russh::client::{self, Handle};
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};

use crate::remote::{Cmd, LineSink, Output, RemoteError, Runner, Stream};
use lines::{Lines, signal_number};

/// The host to reach and the keys to trust and use.
#[derive(Clone)]
pub struct SshTarget {
    /// IP address (or loopback name in tests).
    pub host: String,
    /// TCP port (22).
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Our ed25519 private key.
    pub key: PrivateKey,
    /// The server's host key, pinned: nothing else is accepted.
    pub host_key: PublicKey,
}

impl std::fmt::Debug for SshTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("key", &"[REDACTED]")
            .field("host_key", &fingerprint(&self.host_key))
            .finish()
    }
}

/// How long to keep trying, and how often to ping an idle connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    /// Give up connecting after this long (default 10 minutes).
    pub timeout: Duration,
    /// Keepalive interval on an established session (default 30 s).
    pub keepalive: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            timeout: Duration::from_secs(600),
            keepalive: Duration::from_secs(30),
        }
    }
}

/// Why no session could be made.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// The server presented another host key: a security error, never retried.
    #[error(
        "{host}: the SSH host key is not the one this environment pinned (expected {expected_fingerprint}, got {got_fingerprint}); refusing to connect"
    )]
    HostKeyMismatch {
        /// host:port.
        host: String,
        /// SHA256 fingerprint of the pinned key.
        expected_fingerprint: String,
        /// SHA256 fingerprint of the key the server showed.
        got_fingerprint: String,
    },
    /// The server refused our key for this user.
    #[error("{host}: SSH login as {user} with the environment's key was refused")]
    AuthRejected {
        /// host:port.
        host: String,
        /// The login user.
        user: String,
    },
    /// The host never answered SSH before the deadline.
    #[error("{host}: no SSH session after {attempts} attempts over {waited:?}; last error: {last}")]
    Unreachable {
        /// host:port.
        host: String,
        /// How many connections were tried.
        attempts: u32,
        /// How long we tried.
        waited: Duration,
        /// The last error seen.
        last: String,
    },
    /// A protocol failure that retrying would not fix.
    #[error("{host}: SSH failed: {message}")]
    Protocol {
        /// host:port.
        host: String,
        /// The error.
        message: String,
    },
}

/// SHA256 fingerprint, as OpenSSH prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The russh handler: accepts exactly the pinned key.
struct Pinned {
    expected: PublicKey,
    /// The fingerprint of a rejected key, kept in case russh reports the abort generically.
    rejected: Arc<Mutex<Option<String>>>,
}

#[derive(Debug)]
enum HandlerError {
    Russh(russh::Error),
    HostKey { got: String },
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        HandlerError::Russh(e)
    }
}

impl client::Handler for Pinned {
    type Error = HandlerError;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let got = match key {
            PublicKeyOrCertificate::PublicKey { key, .. }
                if key.key_data() == self.expected.key_data() =>
            {
                return Ok(true);
            }
            PublicKeyOrCertificate::PublicKey { key, .. } => fingerprint(key),
            PublicKeyOrCertificate::Certificate(_) => "a host certificate".to_string(),
        };
        if let Ok(mut slot) = self.rejected.lock() {
            *slot = Some(got.clone());
        }
        Err(HandlerError::HostKey { got })
    }
}

/// One authenticated SSH connection.
pub struct Session {
    handle: Handle<Pinned>,
    host: String,
}

/// How one connection attempt ended.
enum Attempt {
    Fatal(SshError),
    Retry(String),
}

/// The pause after the first failed attempt; it doubles after each one, up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// The longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// The longest single attempt (TCP + key exchange + auth) before it counts as timed out.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest wait for a TCP connection. A cloud drops the packets to a VM that is not up
/// yet instead of refusing them, and the kernel resends an unanswered SYN only after 1, 3, 7,
/// 15 and 31 s: without this bound, sshd coming up during an attempt would be met up to 16 s
/// late. A new attempt after it starts a fresh SYN.
pub const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(4);

impl Session {
    /// Connect and authenticate, retrying while the host is not answering yet.
    pub async fn connect(target: &SshTarget, opts: ConnectOptions) -> Result<Session, SshError> {
        let host = format!("{}:{}", target.host, target.port);
        let start = Instant::now();
        let mut delay = FIRST_PAUSE;
        let mut attempts = 0;
        let mut last = String::new();
        loop {
            let left = opts.timeout.saturating_sub(start.elapsed());
            if left.is_zero() && attempts > 0 {
                return Err(SshError::Unreachable {
                    host,
                    attempts,
                    waited: start.elapsed(),
                    last,
                });
            }
            attempts += 1;
            let attempt = tokio::time::timeout(
                left.min(ATTEMPT_TIMEOUT),
                connect_once(target, &opts, &host),
            )
            .await;
            last = match attempt {
                Ok(Ok(session)) => return Ok(session),
                Ok(Err(Attempt::Fatal(e))) => return Err(e),
                Ok(Err(Attempt::Retry(why))) => why,
                Err(_) => format!("no answer within {:?}", left.min(ATTEMPT_TIMEOUT)),
            };
            tracing::debug!(%host, attempts, "SSH not ready: {last}");
            // Pause, at most until the deadline: then the last error is the one reported.
            let remaining = opts.timeout.saturating_sub(start.elapsed());
            tokio::time::sleep(delay.min(remaining)).await;
            delay = (delay * 2).min(MAX_PAUSE);
        }
    }

    /// Say goodbye to the server.
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }

    fn transport(&self, what: String, e: impl std::fmt::Display) -> RemoteError {
        RemoteError::transport(format!("{what} on {}", self.host), e)
    }
}

async fn connect_once(
    target: &SshTarget,
    opts: &ConnectOptions,
    host: &str,
) -> Result<Session, Attempt> {
    let config = Arc::new(client::Config {
        keepalive_interval: Some(opts.keepalive),
        keepalive_max: 4,
        ..Default::default()
    });
    let rejected = Arc::new(Mutex::new(None));
    let handler = Pinned {
        expected: target.host_key.clone(),
        rejected: rejected.clone(),
    };
    let mismatch = |got: String| {
        Attempt::Fatal(SshError::HostKeyMismatch {
            host: host.to_string(),
            expected_fingerprint: fingerprint(&target.host_key),
            got_fingerprint: got,
        })
    };
    let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port));
    let stream = match tokio::time::timeout(TCP_CONNECT_TIMEOUT, tcp).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(Attempt::Retry(e.to_string())),
        Err(_) => {
            return Err(Attempt::Retry(format!(
                "no TCP connection within {TCP_CONNECT_TIMEOUT:?}"
            )));
        }
    };
    let connected = client::connect_stream(config, stream, handler).await;
    let mut handle = match connected {
        Ok(h) => h,
        Err(HandlerError::HostKey { got }) => return Err(mismatch(got)),
        Err(HandlerError::Russh(e)) => {
            // A rejected key always wins over whatever russh reports afterwards.
            if let Some(got) = rejected.lock().ok().and_then(|s| s.clone()) {
                return Err(mismatch(got));
            }
            return Err(classify(host, e));
        }
    };
    let key = PrivateKeyWithHashAlg::new(Arc::new(target.key.clone()), None);
    match handle
        .authenticate_publickey(target.user.clone(), key)
        .await
    {
        Ok(r) if r.success() => Ok(Session {
            handle,
            host: host.to_string(),
        }),
        Ok(_) => Err(Attempt::Fatal(SshError::AuthRejected {
            host: host.to_string(),
            user: target.user.clone(),
        })),
        Err(e) => Err(classify(host, e)),
    }
}

/// Errors of a host that is still booting are retried; the rest are final.
fn classify(host: &str, e: russh::Error) -> Attempt {
    use russh::Error as E;
    match e {
        E::IO(_)
        | E::Disconnect
        | E::HUP
        | E::ConnectionTimeout
        | E::Elapsed(_)
        | E::SendError
        | E::RecvError => Attempt::Retry(e.to_string()),
        other => Attempt::Fatal(SshError::Protocol {
            host: host.to_string(),
            message: other.to_string(),
        }),
    }
}

#[async_trait]
impl Runner for Session {
    async fn exec(&mut self, cmd: &Cmd, sink: &mut dyn LineSink) -> Result<Output, RemoteError> {
        let what = || format!("running `{}`", cmd.display());
        let mut ch = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| self.transport(what(), e))?;
        ch.exec(true, cmd.to_shell())
            .await
            .map_err(|e| self.transport(what(), e))?;
        let mut out = Lines::new(Stream::Stdout);
        let mut err = Lines::new(Stream::Stderr);
        let mut exit = None;
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.push(&data, sink),
                ChannelMsg::ExtendedData { data, ext: 1 } => err.push(&data, sink),
                ChannelMsg::ExitStatus { exit_status } => exit = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    exit = Some(128 + signal_number(&signal_name))
                }
                _ => {}
            }
        }
        let stdout = out.finish(sink);
        let stderr = err.finish(sink);
        let exit = exit
            .ok_or_else(|| self.transport(what(), "the channel closed without an exit status"))?;
        Ok(Output {
            exit,
            stdout,
            stderr,
        })
    }

    async fn upload(&mut self, path: &str, contents: &[u8], mode: u32) -> Result<(), RemoteError> {
        let what = format!("uploading {path}");
        let ch = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| self.transport(what.clone(), e))?;
        ch.request_subsystem(true, "sftp")
            .await
            .map_err(|e| self.transport(what.clone(), e))?;
        sftp::put(ch.into_stream(), path, contents, mode)
            .await
            .map_err(|e| self.transport(what, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_errors_are_retried() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            classify("h", russh::Error::IO(io)),
            Attempt::Retry(_)
        ));
        assert!(matches!(
            classify("h", russh::Error::HUP),
            Attempt::Retry(_)
        ));
        assert!(matches!(
            classify("h", russh::Error::UnknownKey),
            Attempt::Fatal(_)
        ));
        assert!(matches!(
            classify("h", russh::Error::Kex),
            Attempt::Fatal(_)
        ));
    }
}
