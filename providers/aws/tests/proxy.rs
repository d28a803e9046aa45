//! A fault-injecting HTTP proxy in front of moto, on 127.0.0.1: for chosen actions it answers
//! the first N calls with an error (EC2 XML, e.g. `RequestLimitExceeded`, `DependencyViolation`;
//! or JSON for JSON-protocol services such as SSM, e.g. `ParameterNotFound`) and forwards
//! everything else unchanged. It counts calls per action: the EC2 `Action=` of the form body,
//! or the operation named by the `X-Amz-Target` header (`GetParameter`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// Answer the first `times` calls of `action` with HTTP `status` and error `code`.
#[derive(Clone, Debug)]
pub struct Fault {
    pub action: &'static str,
    pub code: &'static str,
    pub status: u16,
    pub times: usize,
}

/// The running proxy; its threads end with the test process.
pub struct FaultProxy {
    pub port: u16,
    calls: Arc<Mutex<HashMap<String, usize>>>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to moto on `upstream`.
    pub fn start(upstream: u16, faults: Vec<Fault>) -> FaultProxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let calls = Arc::new(Mutex::new(HashMap::new()));
        let shared = calls.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let calls = shared.clone();
                let faults = faults.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, &faults, &calls);
                });
            }
        });
        FaultProxy { port, calls }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many calls of `action` arrived (answered with a fault or forwarded).
    pub fn calls(&self, action: &str) -> usize {
        self.calls
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
    faults: &[Fault],
    calls: &Mutex<HashMap<String, usize>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    let mut target = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
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
    let action = target.clone().unwrap_or_else(|| {
        text.split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or("")
            .to_string()
    });
    let seen = {
        let mut calls = calls.lock().expect("lock");
        let n = calls.entry(action.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let mut out = conn;
    if let Some(f) = faults
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
