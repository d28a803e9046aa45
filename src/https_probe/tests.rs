//! Tests of `verify` against a local HTTPS server on 127.0.0.1 (rustls over std threads),
//! with a test CA and a certificate for `carto.test` made by the openssl CLI in a temp dir.

use super::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const DOMAIN: &str = "carto.test";

fn openssl(dir: &Path, args: &[&str]) {
    let st = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(st.success(), "openssl {args:?}");
}

/// A CA and a leaf for `name` signed by it; returns the CA's PEM.
fn make_certs(dir: &Path, name: &str) -> Vec<u8> {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=test-ca",
        "-days",
        "2",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    let subj = format!("/CN={name}");
    csr.extend(["-keyout", "leaf.key", "-out", "leaf.csr", "-subj", &subj]);
    openssl(dir, &csr);
    let ext = format!(
        "subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    );
    std::fs::write(dir.join("ext.cnf"), ext).expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    std::fs::read(dir.join("ca.pem")).expect("ca")
}

/// Each request's SNI, Host header and path.
type Seen = Arc<Mutex<Vec<(Option<String>, String, String)>>>;

/// What the server saw and how it answers.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Seen,
    /// Requests that carried `Carto-Monitoring: True`.
    monitored: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
    ca: Vec<u8>,
}

impl Server {
    /// `answer(path, request_number)` gives the status.
    fn start(answer: fn(&str, usize) -> u16) -> Server {
        install_crypto_provider();
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = make_certs(dir.path(), DOMAIN);
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(dir.path().join("leaf.pem"))
                .expect("pem")
                .collect::<Result<_, _>>()
                .expect("certs");
        let key = PrivateKeyDer::from_pem_file(dir.path().join("leaf.key")).expect("key");
        let config = Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .expect("server config"),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Seen = Arc::new(Mutex::new(Vec::new()));
        let count = AtomicUsize::new(0);
        let monitored = Arc::new(AtomicUsize::new(0));
        let (stop2, seen2, monitored2) = (stop.clone(), seen.clone(), monitored.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let Ok(tls) = rustls::ServerConnection::new(config.clone()) else {
                    continue;
                };
                let mut s = rustls::StreamOwned::new(tls, tcp);
                let mut lines = Vec::new();
                let mut reader = BufReader::new(&mut s);
                loop {
                    let mut l = String::new();
                    match reader.read_line(&mut l) {
                        Ok(n) if n > 0 && l != "\r\n" => lines.push(l.trim_end().to_string()),
                        _ => break,
                    }
                }
                let Some(first) = lines.first() else { continue };
                let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
                let host = lines
                    .iter()
                    .find_map(|l| {
                        l.strip_prefix("host: ")
                            .or_else(|| l.strip_prefix("Host: "))
                    })
                    .unwrap_or("")
                    .to_string();
                if lines
                    .iter()
                    .any(|l| l.eq_ignore_ascii_case("carto-monitoring: True"))
                {
                    monitored2.fetch_add(1, Ordering::SeqCst);
                }
                let sni = s.conn.server_name().map(str::to_string);
                seen2.lock().expect("lock").push((sni, host, path.clone()));
                let status = answer(&path, count.fetch_add(1, Ordering::SeqCst));
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
                let _ = s.flush();
                s.conn.send_close_notify();
                let _ = s.flush();
            }
        });
        Server {
            addr,
            stop,
            seen,
            monitored,
            _dir: dir,
            ca,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr); // wake the accept loop
    }
}

const PATHS: [&str; 2] = ["/", "/acc/config.yaml"];

#[tokio::test]
async fn self_signed_is_accepted_when_verification_is_off_and_sni_host_are_the_domain() {
    let srv = Server::start(|_, _| 200);
    let got = https(
        DOMAIN,
        srv.addr.ip(),
        srv.addr.port(),
        &PATHS,
        false,
        Duration::from_secs(10),
    )
    .await
    .expect("verifies");
    assert_eq!(
        got,
        [
            ("/".to_string(), 200),
            ("/acc/config.yaml".to_string(), 200)
        ]
    );
    let seen = srv.seen.lock().expect("lock").clone();
    let want_host = format!("{DOMAIN}:{}", srv.addr.port());
    for (sni, host, _) in &seen {
        assert_eq!(sni.as_deref(), Some(DOMAIN));
        assert_eq!(host, &want_host);
    }
    assert_eq!(seen.iter().map(|s| s.2.as_str()).collect::<Vec<_>>(), PATHS);
}

#[tokio::test]
async fn an_untrusted_certificate_fails_when_verification_is_on() {
    let srv = Server::start(|_, _| 200);
    let err = https(
        DOMAIN,
        srv.addr.ip(),
        srv.addr.port(),
        &PATHS,
        true,
        Duration::from_millis(500),
    )
    .await
    .expect_err("self-signed CA is not trusted");
    let text = err.to_string();
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}

#[tokio::test]
async fn a_trusted_certificate_verifies_but_only_for_its_own_name() {
    let srv = Server::start(|_, _| 200);
    let ok = check(
        DOMAIN,
        srv.addr,
        &PATHS,
        Trust::Extra(&srv.ca),
        Duration::from_secs(10),
        Duration::from_millis(50),
    )
    .await;
    assert!(ok.is_ok(), "{ok:?}");
    let wrong = check(
        "other.test",
        srv.addr,
        &PATHS,
        Trust::Extra(&srv.ca),
        Duration::from_millis(200),
        Duration::from_millis(50),
    )
    .await
    .expect_err("name mismatch");
    assert!(
        wrong.to_string().to_lowercase().contains("certificate"),
        "{wrong}"
    );
}

#[tokio::test]
async fn retries_until_every_path_answers_200() {
    // The first three requests get 503, as while the router starts.
    let srv = Server::start(|_, n| if n < 3 { 503 } else { 200 });
    let got = check(
        DOMAIN,
        srv.addr,
        &PATHS,
        Trust::Any,
        Duration::from_secs(10),
        Duration::from_millis(20),
    )
    .await
    .expect("eventually ready");
    assert_eq!(got.len(), 2);
    assert!(srv.seen.lock().expect("lock").len() >= 5);
}

#[tokio::test]
async fn a_path_that_never_answers_200_times_out_naming_it() {
    let srv = Server::start(|p, _| if p == "/acc/config.yaml" { 404 } else { 200 });
    let err = check(
        DOMAIN,
        srv.addr,
        &PATHS,
        Trust::Any,
        Duration::from_millis(300),
        Duration::from_millis(50),
    )
    .await
    .expect_err("404 is not ready");
    let text = err.to_string();
    assert!(text.contains("/acc/config.yaml: HTTP 404"), "{text}");
}

/// The API's deep check: a dead backend behind a live router (502 on the API path while the
/// static pages answer) fails verification naming the path, and every request asks the deep
/// check (`Carto-Monitoring: True`).
#[tokio::test]
async fn a_dead_api_behind_a_live_router_fails_verification() {
    let paths = crate::pipeline::verify::PATHS;
    assert!(paths.contains(&"/workspace-api/health"), "{paths:?}");
    let srv = Server::start(|p, _| {
        if p == "/workspace-api/health" {
            502
        } else {
            200
        }
    });
    let err = check(
        DOMAIN,
        srv.addr,
        paths,
        Trust::Any,
        Duration::from_millis(300),
        Duration::from_millis(50),
    )
    .await
    .expect_err("a 502 from the API is not ready");
    let text = err.to_string();
    assert!(text.contains("/workspace-api/health: HTTP 502"), "{text}");
    let seen = srv.seen.lock().expect("lock").len();
    assert_eq!(
        srv.monitored.load(Ordering::SeqCst),
        seen,
        "a request without the header"
    );
}
