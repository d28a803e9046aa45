//! The moto server (emulated EC2, Route53 and SSM) for tests: started from
//! `tests/harness/moto/server.py` on 127.0.0.1 with a free port, reset over its HTTP API, and
//! stopped by PID when dropped. The wrapper seeds a jammy AMI and the Canonical SSM parameter
//! and makes every public IP moto hands out equal to the test VM's loopback address.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long moto may take to import and start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running moto server, stopped (SIGTERM, then wait) when dropped.
pub struct Moto {
    /// Process id of the Python server.
    pub pid: u32,
    /// Port it listens on, on 127.0.0.1.
    pub port: u16,
    child: Child,
    // Held open: the server exits by itself when this closes (the test process died).
    _stdin: Option<ChildStdin>,
    log: PathBuf,
}

impl Moto {
    /// Starts moto on 127.0.0.1 (a free port), handing out `vm_ip` as every public IP.
    /// Fails with "moto is not installed: run .ci/install" when Python cannot import moto.
    pub fn start(vm_ip: Ipv4Addr) -> io::Result<Moto> {
        let script = script_path();
        let log = std::env::temp_dir().join(format!(
            "carto-moto-{}-{}.log",
            std::process::id(),
            next_serial()
        ));
        let log_file = std::fs::File::create(&log)?;
        let mut child = Command::new("python3")
            .arg(&script)
            .arg("0")
            .env("CARTO_TEST_VM_IP", vm_ip.to_string())
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run python3 {script:?}: {e}")))?;
        let pid = child.id();
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("moto's stdout was not captured"))?;

        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line.strip_prefix("READY ") {
                    let _ = tx.send(port.trim().parse::<u16>().ok());
                    return;
                }
            }
            let _ = tx.send(None);
        });

        let mut moto = Moto {
            pid,
            port: 0,
            child,
            _stdin: stdin,
            log,
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(port)) => {
                moto.port = port;
                Ok(moto)
            }
            Ok(None) => {
                let _ = moto.child.wait();
                let log = moto.log_text();
                if log.contains("moto is not installed") {
                    Err(io::Error::other("moto is not installed: run .ci/install"))
                } else {
                    Err(io::Error::other(format!(
                        "moto server exited before it was ready; its log:\n{log}"
                    )))
                }
            }
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("moto did not print READY within {START_TIMEOUT:?}"),
            )),
        }
    }

    /// The endpoint every SDK client of the test points at.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Clears every resource in every region (moto's reset API).
    pub fn reset(&self) -> io::Result<()> {
        let (status, body) = self.request("POST", "/moto-api/reset", "")?;
        if status != 200 {
            return Err(io::Error::other(format!(
                "moto reset answered {status}: {body}"
            )));
        }
        Ok(())
    }

    /// One plain HTTP/1.1 request to the server (unsigned: moto's own API, not AWS calls);
    /// returns the status code and body.
    pub fn request(&self, method: &str, path: &str, body: &str) -> io::Result<(u16, String)> {
        self.request_with(method, path, "", body)
    }

    /// An unsigned AWS API call to `service` (moto tells services apart by the credential
    /// scope of the Authorization header, which it does not verify).
    pub fn aws_request(
        &self,
        service: &str,
        method: &str,
        path: &str,
        body: &str,
    ) -> io::Result<(u16, String)> {
        let headers = format!(
            "Content-Type: text/xml\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n"
        );
        self.request_with(method, path, &headers, body)
    }

    fn request_with(
        &self,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> io::Result<(u16, String)> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )?;
        let mut raw = String::new();
        stream.read_to_string(&mut raw)?;
        let status = raw
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other(format!("not an HTTP answer: {raw:.80}")))?;
        let body = raw
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// The server's stderr so far (Python tracebacks), for failure messages.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // SIGTERM by PID; the server exits cleanly on it. Fall back to SIGKILL (child.kill,
        // also by PID) if it has not gone within two seconds.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        for _ in 0..20 {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_file(&self.log);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// `tests/harness/moto/server.py`, found from this crate's manifest directory.
fn script_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("moto")
        .join("server.py")
}

/// A per-call suffix so parallel servers in one test process get distinct log files.
fn next_serial() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_resets_and_stops() {
        let moto = Moto::start(Ipv4Addr::new(127, 0, 0, 2)).expect("moto starts");
        assert!(moto.endpoint().starts_with("http://127.0.0.1:"));
        moto.reset().expect("reset works");
        let pid = moto.pid;
        drop(moto);
        // Drop waited for the child, so its /proc entry is gone (reaped), not a zombie.
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "moto {pid} still running after drop"
        );
    }
}
