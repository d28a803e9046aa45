//! Cleans up VMs whose test process died without dropping them (killed by a timeout, SIGKILL,
//! an abort). Each VM's work dir records its owner's PID and its nspawn PID; a dir whose owner
//! is gone is stale: its nspawn is stopped by that PID (only if that process still runs
//! systemd-nspawn on this very dir, so a reused PID is never hit), its registry likewise (only
//! if it still runs on that dir's configuration), then its namespaces, cgroups and files are
//! removed. Dirs kept on purpose (`CARTO_KEEP_VM`) are left alone.

use std::fs;
use std::io;
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::network::VmNetwork;
use super::services::SLOT_FILE;
use super::{cgroup, find_child, registry, remove_tree, signal};

/// File in a VM's work dir holding the PID of the test process that booted it.
pub(crate) const OWNER_FILE: &str = "owner.pid";
/// File in a VM's work dir holding the systemd-nspawn PID.
pub(crate) const NSPAWN_FILE: &str = "nspawn.pid";
/// Marker: the dir was kept on purpose after the VM stopped.
pub(crate) const KEPT_FILE: &str = "kept";

/// Sweeps every stale VM under `vms` (one dir per VM). Returns the dirs removed.
pub(crate) fn sweep(vms: &Path) -> io::Result<Vec<String>> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(vms) else {
        return Ok(removed);
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        if !dir.is_dir() || dir.join(KEPT_FILE).exists() {
            continue;
        }
        let Some(owner) = read_pid(&dir.join(OWNER_FILE)) else {
            continue; // being set up right now, or not ours
        };
        if running(owner) {
            continue;
        }
        if let Some(nspawn) = read_pid(&dir.join(NSPAWN_FILE)) {
            stop_stale(nspawn, &dir.join("root"));
        }
        if let Some(pid) = read_pid(&dir.join(registry::PID_FILE))
            && running(pid)
            && runs_on(pid, &dir.join(registry::CONFIG_FILE))
        {
            let _ = signal(pid, "KILL");
        }
        if let Some(slot) = read_pid(&dir.join(SLOT_FILE)).and_then(|s| u8::try_from(s).ok()) {
            VmNetwork::for_slot(slot).delete();
        }
        let id = entry.file_name().to_string_lossy().into_owned();
        let left = cgroup::remove(&id);
        if !left.is_empty() {
            eprintln!(
                "stale test VM {id}: cgroups not removed: {}",
                left.join("; ")
            );
            continue;
        }
        remove_tree(&dir)?;
        removed.push(dir.display().to_string());
    }
    Ok(removed)
}

fn read_pid(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// True if `pid` exists and is not a zombie.
pub(crate) fn running(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// True if `pid` runs a command line naming `root` (the VM's private rootfs, or a file of
/// its work dir).
fn runs_on(pid: u32, root: &Path) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let root = root.to_string_lossy();
    cmdline
        .split(|b| *b == 0)
        .any(|arg| String::from_utf8_lossy(arg) == root)
}

fn stop_stale(nspawn: u32, root: &Path) {
    if !running(nspawn) || !runs_on(nspawn, root) {
        return;
    }
    let init = find_child(nspawn).ok().flatten();
    let _ = signal(nspawn, "TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(nspawn) && Instant::now() < deadline {
        sleep(Duration::from_millis(100));
    }
    if running(nspawn) {
        if let Some(init) = init {
            let _ = signal(init, "KILL");
        }
        let _ = signal(nspawn, "KILL");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while init.is_some_and(running) && Instant::now() < deadline {
        sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    fn workdir(vms: &Path, name: &str, owner: u32, nspawn: Option<u32>) -> std::path::PathBuf {
        let dir = vms.join(name);
        fs::create_dir_all(dir.join("root/etc")).unwrap();
        fs::write(dir.join(OWNER_FILE), owner.to_string()).unwrap();
        if let Some(pid) = nspawn {
            fs::write(dir.join(NSPAWN_FILE), pid.to_string()).unwrap();
        }
        dir
    }

    #[test]
    fn stale_vms_are_stopped_and_removed_live_ones_kept() {
        let vms = std::env::temp_dir().join(format!("vm-sweep-{}", std::process::id()));
        let _ = fs::remove_dir_all(&vms);
        // A finished (and reaped) child: its PID is a dead owner.
        let mut gone = Command::new("true").spawn().unwrap();
        gone.wait().unwrap();
        let dead_owner = gone.id();

        // Stands in for a stale nspawn: a process whose command line names the VM's root.
        let stale_root = vms.join("stale-1-1-0/root");
        // /bin/sh, not python3: a python3 found on PATH may be a shim whose command line
        // changes while it execs the real interpreter.
        let mut fake = Command::new("/bin/sh")
            .args(["-c", "while :; do sleep 1; done"])
            .arg(&stale_root)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let stale = workdir(&vms, "stale-1-1-0", dead_owner, Some(fake.id()));
        let live = workdir(&vms, "live-1-1-0", std::process::id(), None);
        let kept = workdir(&vms, "kept-1-1-0", dead_owner, None);
        fs::write(kept.join(KEPT_FILE), "").unwrap();

        // A process that is not on this VM's root is never signalled, even if its PID is listed.
        let mut bystander = Command::new("sleep").arg("300").spawn().unwrap();
        let reused = workdir(&vms, "reused-1-1-0", dead_owner, Some(bystander.id()));

        let removed = sweep(&vms).unwrap();
        assert!(
            removed.contains(&stale.display().to_string()),
            "{removed:?}"
        );
        assert!(
            removed.contains(&reused.display().to_string()),
            "{removed:?}"
        );
        assert!(!stale.exists() && !reused.exists());
        assert!(live.exists() && kept.exists());
        let status = fake.wait().unwrap();
        assert!(!status.success(), "the stale process was terminated");
        assert!(
            bystander.try_wait().unwrap().is_none(),
            "bystander untouched"
        );
        bystander.kill().unwrap();
        bystander.wait().unwrap();
        fs::remove_dir_all(&vms).unwrap();
    }
}
