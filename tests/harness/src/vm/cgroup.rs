//! Per-VM cgroups on the host (cgroup v1 hybrid, no systemd as PID 1). Without them every
//! `systemd-nspawn --keep-unit` started from the root cgroup puts its VM at the same
//! `/payload` of the name=systemd and unified hierarchies, so parallel VMs' systemds would
//! share unit cgroups, and Docker in every VM would use the same `/docker` parent. Each VM
//! gets `/carto-test-vm/<id>` instead: nspawn is started inside it (systemd, unified), Docker
//! is pointed at it (`cgroup-parent` in the VM's daemon.json, v1 controllers), and the
//! trees are removed when the VM is gone. Touches only directories under `carto-test-vm/`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const PARENT: &str = "carto-test-vm";
/// Hierarchies systemd-nspawn places its payload and supervisor in.
const NSPAWN_HIERARCHIES: &[&str] = &["systemd", "unified"];

/// The VM's cgroup path relative to each hierarchy's root, e.g. `/carto-test-vm/ssh-7-1234-0`.
pub(crate) fn relative_path(id: &str) -> String {
    format!("/{PARENT}/{id}")
}

/// Creates the VM's cgroup in the hierarchies nspawn uses and returns their `cgroup.procs`
/// files (the spawner writes nspawn's PID there before it starts).
pub(crate) fn prepare(id: &str) -> io::Result<Vec<PathBuf>> {
    let mut procs = Vec::new();
    for hierarchy in NSPAWN_HIERARCHIES {
        let base = Path::new(CGROUP_ROOT).join(hierarchy);
        if !base.join("cgroup.procs").exists() {
            continue;
        }
        let dir = base.join(PARENT).join(id);
        fs::create_dir_all(&dir)?;
        procs.push(dir.join("cgroup.procs"));
    }
    Ok(procs)
}

/// Removes the VM's cgroup trees in every hierarchy, deepest first. A cgroup that still holds
/// processes cannot be removed; those are reported, not forced.
pub(crate) fn remove(id: &str) -> Vec<String> {
    // Processes of a VM that was killed can take a moment to leave their cgroups.
    for _ in 0..30 {
        let left = remove_once(id);
        if left.is_empty() {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    remove_once(id)
}

fn remove_once(id: &str) -> Vec<String> {
    let mut left = Vec::new();
    let Ok(hierarchies) = fs::read_dir(CGROUP_ROOT) else {
        return left;
    };
    for hierarchy in hierarchies.flatten() {
        let dir = hierarchy.path().join(PARENT).join(id);
        if dir.is_dir() {
            remove_tree(&dir, &mut left);
        }
    }
    left
}

fn remove_tree(dir: &Path, left: &mut Vec<String>) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_tree(&entry.path(), left);
            }
        }
    }
    // rmdir on a cgroup removes it with its control files; it fails while processes remain.
    if let Err(err) = fs::remove_dir(dir) {
        left.push(format!("{}: {err}", dir.display()));
    }
}
