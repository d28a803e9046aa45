//! The fixed, read-only part of the fake cloud: zones, machine types and the Ubuntu 22.04 image,
//! plus helpers to build self links and to read resource references (full URL or partial path).

use serde_json::{Value, json};

/// Zones the fake knows; each zone's region is its name without the last `-x`.
pub const ZONES: &[&str] = &[
    "us-central1-a",
    "us-central1-b",
    "us-central1-c",
    "us-central1-f",
    "us-east1-b",
    "us-east1-c",
    "us-east1-d",
    "us-west1-a",
    "us-west1-b",
    "europe-west1-b",
    "europe-west1-c",
    "europe-west1-d",
    "europe-west4-a",
    "europe-west4-b",
    "asia-southeast1-a",
];

/// (name, vCPUs, memory MB, architecture)
pub const MACHINE_TYPES: &[(&str, i64, i64, &str)] = &[
    ("e2-small", 2, 2048, "X86_64"),
    ("e2-standard-4", 4, 16384, "X86_64"),
    ("e2-standard-8", 8, 32768, "X86_64"),
    ("n2-standard-4", 4, 16384, "X86_64"),
    ("n2-standard-8", 8, 32768, "X86_64"),
    ("t2a-standard-8", 8, 32768, "ARM64"),
    ("c4a-standard-8", 8, 32768, "ARM64"),
];

/// The project and family of the only public image served.
pub const IMAGE_PROJECT: &str = "ubuntu-os-cloud";
/// Image family served by `images.getFromFamily`.
pub const IMAGE_FAMILY: &str = "ubuntu-2204-lts";
/// The image the family currently points at.
pub const IMAGE_NAME: &str = "ubuntu-2204-jammy-v20261118";

/// The region a known zone belongs to.
pub fn region_of(zone: &str) -> Option<&'static str> {
    let known = ZONES.iter().find(|z| **z == zone)?;
    known.rsplit_once('-').map(|(region, _)| region)
}

/// Whether any known zone lies in `region`.
pub fn region_known(region: &str) -> bool {
    ZONES.iter().any(|z| region_of(z) == Some(region))
}

/// The `Zone` resource.
pub fn zone(base: &str, project: &str, name: &str) -> Option<Value> {
    let region = region_of(name)?;
    let index = ZONES.iter().position(|z| *z == name).unwrap_or(0) as u64;
    Some(json!({
        "kind": "compute#zone",
        "id": (2000 + index).to_string(),
        "name": name,
        "description": name,
        "status": "UP",
        "region": link(base, project, &format!("regions/{region}")),
        "selfLink": link(base, project, &format!("zones/{name}")),
        "availableCpuPlatforms": ["Intel Cascade Lake", "AMD Milan", "Ampere Altra"],
        "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
    }))
}

/// The `MachineType` resource, if the type is in the catalogue and the zone is known.
pub fn machine_type(base: &str, project: &str, zone: &str, name: &str) -> Option<Value> {
    region_of(zone)?;
    let index = MACHINE_TYPES.iter().position(|m| m.0 == name)?;
    let (_, cpus, memory, arch) = MACHINE_TYPES[index];
    Some(json!({
        "kind": "compute#machineType",
        "id": (801_000 + index as u64).to_string(),
        "name": name,
        "description": format!("{cpus} vCPUs, {} GB RAM", memory / 1024),
        "guestCpus": cpus,
        "memoryMb": memory,
        "architecture": arch,
        "isSharedCpu": name == "e2-small",
        "maximumPersistentDisks": 128,
        "maximumPersistentDisksSizeGb": "263168",
        "zone": zone,
        "selfLink": link(base, project, &format!("zones/{zone}/machineTypes/{name}")),
        "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
    }))
}

/// The Ubuntu 22.04 `Image`.
pub fn image(base: &str) -> Value {
    json!({
        "kind": "compute#image",
        "id": "6091650364830375001",
        "name": IMAGE_NAME,
        "family": IMAGE_FAMILY,
        "description": "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image",
        "architecture": "X86_64",
        "diskSizeGb": "10",
        "archiveSizeBytes": "2330265408",
        "status": "READY",
        "sourceType": "RAW",
        "labels": {},
        "selfLink": link(base, IMAGE_PROJECT, &format!("global/images/{IMAGE_NAME}")),
        "creationTimestamp": "2026-11-18T10:00:00.000-08:00",
    })
}

/// Whether a `sourceImage` reference names the served image (by name or by family).
pub fn is_served_image(reference: &str) -> bool {
    let path = relative(reference);
    path == format!("projects/{IMAGE_PROJECT}/global/images/{IMAGE_NAME}")
        || path == format!("projects/{IMAGE_PROJECT}/global/images/family/{IMAGE_FAMILY}")
}

/// A self link: `{base}/compute/v1/projects/{project}/{rest}`.
pub fn link(base: &str, project: &str, rest: &str) -> String {
    format!("{base}/compute/v1/projects/{project}/{rest}")
}

/// A reference with any `http(s)://host/compute/v1/` prefix removed.
pub fn relative(reference: &str) -> &str {
    match reference.find("/compute/v1/") {
        Some(i) => &reference[i + "/compute/v1/".len()..],
        None => reference.trim_start_matches('/'),
    }
}

/// The last path segment of a reference (`zones/z/machineTypes/e2-small` -> `e2-small`).
pub fn last_segment(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_know_their_regions() {
        assert_eq!(region_of("europe-west1-b"), Some("europe-west1"));
        assert_eq!(region_of("mars-north1-a"), None);
        assert!(region_known("us-central1") && !region_known("us-central2"));
    }

    #[test]
    fn arm_types_say_so() {
        let t = machine_type("http://h", "p", "us-central1-a", "t2a-standard-8");
        assert_eq!(t.map(|t| t["architecture"].clone()), Some(json!("ARM64")));
        assert!(machine_type("http://h", "p", "us-central1-a", "n1-huge").is_none());
    }

    #[test]
    fn image_references_resolve_by_name_or_family() {
        assert!(is_served_image(
            "https://x/compute/v1/projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts"
        ));
        assert!(is_served_image(&format!(
            "projects/ubuntu-os-cloud/global/images/{IMAGE_NAME}"
        )));
        assert!(!is_served_image(
            "projects/debian-cloud/global/images/family/debian-12"
        ));
    }
}
