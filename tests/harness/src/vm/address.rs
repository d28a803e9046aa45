//! Addresses for test VMs: hands out slot N (1..=254) as the VM address 198.18.N.2 (see
//! `network.rs`), unique per process and call, with lease files (holding the leaser's PID,
//! reclaimed once that process is gone) so parallel test processes never share one, skipping
//! slots whose network namespace still exists. Never connects anywhere.

use std::fs;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use super::network::{VmNetwork, vm_address};
use super::other_error;

static ADDRESS_COUNTER: AtomicU32 = AtomicU32::new(0);

/// The next free address, leased in `leases` (a directory of one file per address).
pub(crate) fn next_address(leases: &Path) -> io::Result<Ipv4Addr> {
    fs::create_dir_all(leases)?;
    let pid = std::process::id();
    for _ in 0..253 {
        let n = ADDRESS_COUNTER.fetch_add(1, Ordering::SeqCst);
        let slot = 1 + ((pid.wrapping_mul(7).wrapping_add(n)) % 254) as u8;
        let addr = vm_address(slot);
        if take_lease(leases, addr, pid)? && !slot_in_use(slot) {
            return Ok(addr);
        }
    }
    Err(other_error(
        "no free test VM address 198.18.N.2 (all leased or their namespaces left)".into(),
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

/// True if the slot's VM namespace exists (a VM of a dead process the sweep has not reached).
fn slot_in_use(slot: u8) -> bool {
    VmNetwork::netns_path(&VmNetwork::for_slot(slot).vm_netns()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_unique_test_range() {
        let dir = std::env::temp_dir().join(format!("vm-leases-{}", std::process::id()));
        let a = next_address(&dir).unwrap();
        let b = next_address(&dir).unwrap();
        assert_ne!(a, b);
        for addr in [a, b] {
            assert_eq!(addr.octets()[..2], [198, 18]);
            assert_eq!(addr.octets()[3], 2);
            let holder = fs::read_to_string(dir.join(addr.to_string())).unwrap();
            assert_eq!(holder, std::process::id().to_string());
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
