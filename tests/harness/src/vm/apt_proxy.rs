//! The VM's way to its package mirror: the VM's namespace has no route off this machine, so
//! apt in the VM (which the product runs to install Docker) goes through this HTTP proxy. The
//! proxy listens in the VM's services namespace (its listening socket is made by a thread that
//! entered that namespace) and connects out from the host's. It forwards only to the hosts the
//! VM image's own apt sources name (read from the rootfs, so no host name is written here) and
//! answers 403 to anything else.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::other_error;

/// The proxy's port in the services namespace.
pub(crate) const PORT: u16 = 3142;
const IO_TIMEOUT: Duration = Duration::from_secs(120);

/// A running proxy; dropping it stops accepting (open transfers end on their own).
pub(crate) struct AptProxy {
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl AptProxy {
    /// Listens on `addr` inside the namespace at `netns` and forwards to `allowed` hosts.
    pub(crate) fn start(
        netns: &Path,
        addr: SocketAddrV4,
        allowed: Vec<String>,
    ) -> io::Result<AptProxy> {
        let listener = listen_in(netns, addr)?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let allowed = Arc::new(allowed);
        let accept = thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let allowed = allowed.clone();
                        thread::spawn(move || {
                            let _ = forward(client, &allowed);
                        });
                    }
                    // Nothing to accept yet (or a failed accept): look again shortly.
                    Err(_) => thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        Ok(AptProxy {
            stop,
            accept: Some(accept),
        })
    }
}

impl Drop for AptProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Binds `addr` in the namespace at `netns`: a short-lived thread enters the namespace (only
/// that thread's) and makes the socket, which stays in that namespace.
fn listen_in(netns: &Path, addr: SocketAddrV4) -> io::Result<TcpListener> {
    let netns = netns.to_path_buf();
    thread::spawn(move || {
        let ns = File::open(&netns)?;
        // SAFETY: setns on a namespace fd we hold open; affects only this thread.
        if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        TcpListener::bind(addr)
    })
    .join()
    .map_err(|_| other_error("the namespace thread panicked".into()))?
}

/// The apt sources' hosts of the rootfs at `root` (one-line `deb URL …` and deb822 `URIs:`).
pub(crate) fn source_hosts(root: &Path) -> Vec<String> {
    let mut files = vec![root.join("etc/apt/sources.list")];
    if let Ok(dir) = std::fs::read_dir(root.join("etc/apt/sources.list.d")) {
        files.extend(dir.flatten().map(|e| e.path()));
    }
    let mut hosts: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| {
            text.lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .flat_map(|l| l.split_whitespace())
                .filter_map(|word| {
                    let rest = word
                        .strip_prefix("http://")
                        .or(word.strip_prefix("https://"))?;
                    Some(rest.split('/').next()?.to_ascii_lowercase())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// Serves one client connection: reads the request line, checks the host, connects and then
/// copies both ways until either side closes.
fn forward(mut client: TcpStream, allowed: &[String]) -> io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    let is_connect = |h: &[u8]| h.starts_with(b"CONNECT ");
    loop {
        let done = if is_connect(&head) {
            head.windows(4).any(|w| w == b"\r\n\r\n")
        } else {
            head.windows(2).any(|w| w == b"\r\n")
        };
        if done {
            break;
        }
        let n = client.read(&mut chunk)?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let line =
        String::from_utf8_lossy(&head[..head.windows(2).position(|w| w == b"\r\n").unwrap_or(0)])
            .into_owned();
    let Some((host, port)) = target(&line) else {
        return refuse(client, "400 Bad Request");
    };
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&host)) {
        return refuse(client, "403 Forbidden");
    }
    let Some(remote) = (host.as_str(), port).to_socket_addrs()?.next() else {
        return refuse(client, "502 Bad Gateway");
    };
    let mut upstream = match TcpStream::connect_timeout(&remote, Duration::from_secs(15)) {
        Ok(s) => s,
        Err(_) => return refuse(client, "502 Bad Gateway"),
    };
    upstream.set_read_timeout(Some(IO_TIMEOUT))?;
    if is_connect(&head) {
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    } else {
        // Absolute-form request lines are forwarded as they are: HTTP/1.1 origin servers
        // accept them.
        upstream.write_all(&head)?;
    }
    let (mut c2, mut u2) = (client.try_clone()?, upstream.try_clone()?);
    let up = thread::spawn(move || {
        let _ = io::copy(&mut c2, &mut u2);
        let _ = u2.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.join();
    Ok(())
}

fn refuse(mut client: TcpStream, status: &str) -> io::Result<()> {
    let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    client.write_all(reply.as_bytes())
}

/// `(host, port)` of a proxy request line: `GET http://host[:port]/path HTTP/1.1` or
/// `CONNECT host:port HTTP/1.1`.
fn target(line: &str) -> Option<(String, u16)> {
    let mut words = line.split_whitespace();
    let method = words.next()?;
    let uri = words.next()?;
    let (authority, default_port) = if method == "CONNECT" {
        (uri, 443)
    } else {
        (uri.strip_prefix("http://")?.split('/').next()?, 80)
    };
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((authority.to_string(), default_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_name_their_target() {
        assert_eq!(
            target("GET http://mirror.test/debian/dists/x HTTP/1.1"),
            Some(("mirror.test".into(), 80))
        );
        assert_eq!(
            target("GET http://mirror.test:8080/x HTTP/1.1"),
            Some(("mirror.test".into(), 8080))
        );
        assert_eq!(
            target("CONNECT repo.test:443 HTTP/1.1"),
            Some(("repo.test".into(), 443))
        );
        assert_eq!(target("GET /relative HTTP/1.1"), None);
    }

    #[test]
    fn sources_name_the_allowed_hosts() {
        let root = tempfile::tempdir().unwrap();
        let apt = root.path().join("etc/apt/sources.list.d");
        std::fs::create_dir_all(&apt).unwrap();
        std::fs::write(
            root.path().join("etc/apt/sources.list"),
            "deb http://Mirror.test/debian trixie main\n# deb http://commented.test/x y\n",
        )
        .unwrap();
        std::fs::write(
            apt.join("extra.sources"),
            "Types: deb\nURIs: https://repo.test/linux\nSuites: trixie\n",
        )
        .unwrap();
        assert_eq!(source_hosts(root.path()), ["mirror.test", "repo.test"]);
    }
}
