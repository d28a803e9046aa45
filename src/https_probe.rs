//! HTTPS verification: `https://DOMAIN/…` answered by the VM's IP, before DNS is trusted.
//!
//! Connects to the given IP with SNI and Host set to the domain (reqwest's `resolve`), so the
//! check works while DNS propagates. The certificate is verified unless the caller says it is
//! CARTO's default self-signed one. Every path must answer 200; retried until the deadline.
//! Every request carries `Carto-Monitoring: True`, which asks CARTO's APIs for their deep
//! check (static pages ignore it).
//! Redirects are followed only within the same domain, so the check never leaves the VM.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::time::Instant;

/// Why the site did not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTPS client: {0}")]
    Client(String),
    /// Not every path answered 200 before the deadline.
    #[error("https://{domain} (via {addr}) not ready after {waited:?}: {last}")]
    NotReady {
        /// The domain.
        domain: String,
        /// The address connected to.
        addr: SocketAddr,
        /// How long we tried.
        waited: Duration,
        /// The last failure: status or error with its causes.
        last: String,
    },
}

/// Install rustls' aws-lc-rs provider as the process default; "already installed" is fine.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Which certificates to accept.
enum Trust<'a> {
    /// The usual public roots.
    Public,
    /// Anything (CARTO's default self-signed certificate).
    Any,
    /// Public roots plus this PEM root (tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Extra(&'a [u8]),
}

/// Each request's own limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between rounds.
const RETRY_EVERY: Duration = Duration::from_secs(5);

/// GET each of `paths` on `https://DOMAIN` through `ip:port` until all answer 200; returns
/// each path with its status.
pub async fn https(
    domain: &str,
    ip: IpAddr,
    port: u16,
    paths: &[&str],
    verify_cert: bool,
    timeout: Duration,
) -> Result<Vec<(String, u16)>, VerifyError> {
    let trust = if verify_cert {
        Trust::Public
    } else {
        Trust::Any
    };
    check(
        domain,
        SocketAddr::new(ip, port),
        paths,
        trust,
        timeout,
        RETRY_EVERY,
    )
    .await
}

async fn check(
    domain: &str,
    addr: SocketAddr,
    paths: &[&str],
    trust: Trust<'_>,
    timeout: Duration,
    retry_every: Duration,
) -> Result<Vec<(String, u16)>, VerifyError> {
    let client = client(domain, addr, &trust)?;
    let base = match addr.port() {
        443 => format!("https://{domain}"),
        p => format!("https://{domain}:{p}"),
    };
    let start = Instant::now();
    loop {
        let last = match round(&client, &base, paths).await {
            Ok(statuses) => return Ok(statuses),
            Err(why) => why,
        };
        tracing::debug!("https://{domain} not ready: {last}");
        if start.elapsed() + retry_every >= timeout {
            return Err(VerifyError::NotReady {
                domain: domain.to_string(),
                addr,
                waited: start.elapsed(),
                last,
            });
        }
        tokio::time::sleep(retry_every).await;
    }
}

/// One GET per path; the first non-200 or error ends the round.
async fn round(
    client: &reqwest::Client,
    base: &str,
    paths: &[&str],
) -> Result<Vec<(String, u16)>, String> {
    let mut statuses = Vec::new();
    for path in paths {
        let url = format!("{base}/{}", path.trim_start_matches('/'));
        let resp = client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {}", chain(&e)))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(format!("GET {url}: HTTP {status}"));
        }
        statuses.push((path.to_string(), status));
    }
    Ok(statuses)
}

fn client(
    domain: &str,
    addr: SocketAddr,
    trust: &Trust<'_>,
) -> Result<reqwest::Client, VerifyError> {
    let same_host = domain.to_string();
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .resolve(domain, addr)
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .default_headers(monitoring())
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() < 5 && attempt.url().host_str() == Some(same_host.as_str())
            {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }));
    match trust {
        Trust::Public => {}
        Trust::Any => b = b.danger_accept_invalid_certs(true),
        Trust::Extra(pem) => {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| VerifyError::Client(e.to_string()))?;
            b = b.add_root_certificate(cert);
        }
    }
    b.build().map_err(|e| VerifyError::Client(chain(&e)))
}

/// `Carto-Monitoring: True`: CARTO's APIs then answer `/health` with their deep check.
fn monitoring() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "carto-monitoring",
        reqwest::header::HeaderValue::from_static("True"),
    );
    headers
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
#[path = "https_probe/tests.rs"]
mod tests;
