//! Loopback addresses for test VMs: hands out 127.0.0.N (N in 2..=254) unique per process and
//! call, with lease files (holding the leaser's PID, reclaimed once that process is gone) so
//! parallel test processes never share one, skipping addresses a TCP socket already uses.
//! Reads /proc only; never connects anywhere.

use std::fs;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use super::other_error;

static ADDRESS_COUNTER: AtomicU32 = AtomicU32::new(0);

/// The next free address, leased in `leases` (a directory of one file per address).
pub(crate) fn next_address(leases: &Path) -> io::Result<Ipv4Addr> {
    fs::create_dir_all(leases)?;
    let pid = std::process::id();
    for _ in 0..253 {
        let n = ADDRESS_COUNTER.fetch_add(1, Ordering::SeqCst);
        let octet = 2 + ((pid.wrapping_mul(7).wrapping_add(n)) % 253) as u8;
        let addr = Ipv4Addr::new(127, 0, 0, octet);
        if take_lease(leases, addr, pid)? && !address_in_use(addr)? {
            return Ok(addr);
        }
    }
    Err(other_error(
        "no free 127.0.0.N test address (all leased or listening)".into(),
    ))
}

fn take_lease(dir: &Path, addr: Ipv4Addr, pid: u32) -> io::Result<bool> {
    let path = dir.join(addr.to_string());
    for _ in 0..2 {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                use std::io::Write;
                write!(file, "{pid}")?;
                return Ok(true);
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                let alive = holder
                    .trim()
                    .parse::<u32>()
                    .map(|p| Path::new(&format!("/proc/{p}")).exists())
                    .unwrap_or(false);
                if alive {
                    return Ok(false);
                }
                // The holder is gone: reclaim the stale lease and try once more.
                let _ = fs::remove_file(&path);
            }
            Err(err) => return Err(err),
        }
    }
    Ok(false)
}

/// True if any TCP socket is bound to `addr` (or a wildcard socket listens on 22, 80 or 443,
/// which would also block the VM's services).
fn address_in_use(addr: Ipv4Addr) -> io::Result<bool> {
    let want = format!("{:08X}", u32::from_le_bytes(addr.octets()));
    let table = fs::read_to_string("/proc/net/tcp")?;
    for line in table.lines().skip(1) {
        let Some(local) = line.split_whitespace().nth(1) else {
            continue;
        };
        let Some((ip, port)) = local.split_once(':') else {
            continue;
        };
        let port = u16::from_str_radix(port, 16).unwrap_or(0);
        if ip == want || (ip == "00000000" && matches!(port, 22 | 80 | 443)) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_unique_loopback() {
        let dir = std::env::temp_dir().join(format!("vm-leases-{}", std::process::id()));
        let a = next_address(&dir).unwrap();
        let b = next_address(&dir).unwrap();
        assert_ne!(a, b);
        for addr in [a, b] {
            assert_eq!(addr.octets()[..3], [127, 0, 0]);
            assert!(addr.octets()[3] >= 2);
            let holder = fs::read_to_string(dir.join(addr.to_string())).unwrap();
            assert_eq!(holder, std::process::id().to_string());
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_listening_address_counts_as_used() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(address_in_use(Ipv4Addr::LOCALHOST).unwrap());
        drop(listener);
    }
}
