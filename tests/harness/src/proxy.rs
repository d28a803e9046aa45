//! A fault-injecting HTTP proxy in front of moto, on 127.0.0.1: for chosen actions it answers
//! the first N calls with an error (EC2 XML, e.g. `RequestLimitExceeded`, `DependencyViolation`;
//! or JSON for JSON-protocol services such as SSM, e.g. `ParameterNotFound`); it can also
//! throttle a fixed share of all calls (each service's own throttling error, chosen by a seeded
//! generator so a run is repeatable) and delay every call. Everything else is forwarded
//! unchanged. It counts calls per action: the EC2 `Action=` of the form body, the operation
//! named by the `X-Amz-Target` header (`GetParameter`), or `route53 <METHOD> <path>`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Answer the first `times` calls of `action` with HTTP `status` and error `code`.
#[derive(Clone, Debug)]
pub struct Fault {
    pub action: &'static str,
    pub code: &'static str,
    pub status: u16,
    pub times: usize,
}

/// What the proxy does besides forwarding.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Errors for the first calls of chosen actions.
    pub rules: Vec<Fault>,
    /// Share of all other calls answered with the service's throttling error, in percent.
    pub throttle_percent: u64,
    /// Delay before every answer.
    pub latency: Duration,
    /// Seed of the throttling choice.
    pub seed: u64,
}

/// Counters shared with the serving threads.
#[derive(Default)]
struct Counters {
    calls: Mutex<HashMap<String, usize>>,
    throttled: AtomicUsize,
    total: AtomicUsize,
    rng: AtomicU64,
}

/// The running proxy; its threads end with the test process.
pub struct FaultProxy {
    pub port: u16,
    counters: Arc<Counters>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to moto on `upstream`.
    pub fn start(upstream: u16, faults: Vec<Fault>) -> FaultProxy {
        FaultProxy::start_with(
            upstream,
            Faults {
                rules: faults,
                ..Faults::default()
            },
        )
    }

    /// Listens on a free loopback port and forwards to moto on `upstream`, with `faults`.
    pub fn start_with(upstream: u16, faults: Faults) -> FaultProxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let counters = Arc::new(Counters {
            rng: AtomicU64::new(faults.seed | 1),
            ..Counters::default()
        });
        let shared = counters.clone();
        let faults = Arc::new(faults);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let counters = shared.clone();
                let faults = faults.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, &faults, &counters);
                });
            }
        });
        FaultProxy { port, counters }
    }

    /// How many calls were answered with an injected throttling error.
    pub fn throttled(&self) -> usize {
        self.counters.throttled.load(Ordering::SeqCst)
    }

    /// How many calls arrived in all.
    pub fn total(&self) -> usize {
        self.counters.total.load(Ordering::SeqCst)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many calls arrived in all.
    pub fn total_calls(&self) -> usize {
        self.counters.calls.lock().expect("lock").values().sum()
    }

    /// How many calls of `action` arrived (answered with a fault or forwarded).
    pub fn calls(&self, action: &str) -> usize {
        self.counters
            .calls
            .lock()
            .expect("lock")
            .get(action)
            .copied()
            .unwrap_or(0)
    }
}

/// Serves one request on `conn` (then closes it: every answer says `Connection: close`).
fn serve(
    conn: TcpStream,
    upstream: u16,
    faults: &Faults,
    counters: &Counters,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    let mut target = None;
    let mut request_line = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if request_line.is_empty() {
            request_line = line.trim_end().to_string();
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if let Some(v) = lower.strip_prefix("x-amz-target:") {
            let op = line[line.len() - v.len()..].trim();
            target = Some(op.rsplit('.').next().unwrap_or(op).to_string());
        }
        if line == "\r\n" {
            break;
        }
        if !lower.starts_with("connection:") {
            head.push(line);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let text = String::from_utf8_lossy(&body);
    // Route53 is REST: its calls are named by method and path.
    let route53 = request_line.contains(" /2013-04-01/");
    let action = match &target {
        Some(op) => op.clone(),
        None if route53 => {
            let mut parts = request_line.split(' ');
            let method = parts.next().unwrap_or("");
            let path = parts.next().unwrap_or("").split('?').next().unwrap_or("");
            format!("route53 {method} {path}")
        }
        None => text
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or("")
            .to_string(),
    };
    let seen = {
        let mut calls = counters.calls.lock().expect("lock");
        let n = calls.entry(action.clone()).or_insert(0);
        *n += 1;
        *n
    };
    counters.total.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(faults.latency);
    let mut out = conn;
    if faults.throttle_percent > 0 && next_percent(&counters.rng) < faults.throttle_percent {
        counters.throttled.fetch_add(1, Ordering::SeqCst);
        let (status, kind, body) = if target.is_some() {
            (
                400,
                "application/x-amz-json-1.1",
                "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded (test proxy)\"}"
                    .to_string(),
            )
        } else if route53 {
            (
                400,
                "text/xml",
                format!(
                    "<?xml version=\"1.0\"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded (test proxy)</Message></Error><RequestId>proxy-{seen}</RequestId></ErrorResponse>"
                ),
            )
        } else {
            (
                503,
                "text/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded (test proxy)</Message></Error></Errors><RequestID>proxy-{seen}</RequestID></Response>"
                ),
            )
        };
        write!(
            out,
            "HTTP/1.1 {status} Throttled\r\nContent-Type: {kind}\r\nx-amzn-RequestId: proxy-{seen}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return out.flush();
    }
    if let Some(f) = faults
        .rules
        .iter()
        .find(|f| f.action == action && seen <= f.times)
    {
        let (kind, body) = if target.is_some() {
            (
                "application/x-amz-json-1.1",
                format!(
                    "{{\"__type\":\"{}\",\"message\":\"injected by the test proxy\"}}",
                    f.code
                ),
            )
        } else {
            (
                "text/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>injected by the test proxy</Message></Error></Errors><RequestID>proxy-{seen}</RequestID></Response>",
                    f.code
                ),
            )
        };
        write!(
            out,
            "HTTP/1.1 {} Injected\r\nContent-Type: {kind}\r\nx-amzn-RequestId: proxy-{seen}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            f.status,
            body.len()
        )?;
        return out.flush();
    }
    let mut up = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream))?;
    for line in &head {
        up.write_all(line.as_bytes())?;
    }
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    out.write_all(&answer)?;
    out.flush()
}

/// The next number in 0..100 from a shared xorshift generator.
fn next_percent(state: &AtomicU64) -> u64 {
    let mut x = state.load(Ordering::SeqCst);
    loop {
        let mut next = x;
        next ^= next << 13;
        next ^= next >> 7;
        next ^= next << 17;
        match state.compare_exchange(x, next, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return next % 100,
            Err(now) => x = now,
        }
    }
}
