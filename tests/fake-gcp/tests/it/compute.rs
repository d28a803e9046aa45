//! Compute against the fake over HTTP: catalogue reads, the create -> get -> delete -> get(404)
//! cycle of addresses, firewalls and instances (with their boot disk), operations progressing
//! over polls, and the instance insert checks.

use crate::common::Says::{Any, Has, Is};
use crate::common::{
    Case, Fake, REGION, ZONE, address_body, check, get, instance_body, labels, post, reason, with,
};
use carto_fake_gcp::Config;
use serde_json::{Value, json};

fn config() -> Config {
    Config {
        address_ip: "127.0.0.7".into(),
        ..Config::default()
    }
}

#[tokio::test]
async fn catalogue_reads_and_their_404s() {
    let fake = Fake::default().await;
    let (status, zone) = fake.get(&Fake::compute(&format!("zones/{ZONE}"))).await;
    assert_eq!(status, 200, "{zone}");
    assert!(
        zone["region"]
            .as_str()
            .is_some_and(|r| r.ends_with("/regions/us-central1"))
    );

    let mt = |name: &str| Fake::compute(&format!("zones/{ZONE}/machineTypes/{name}"));
    let (status, small) = fake.get(&mt("e2-small")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (small["guestCpus"].clone(), small["memoryMb"].clone()),
        (json!(2), json!(2048))
    );
    assert_eq!(small["architecture"], "X86_64");
    let (_, arm) = fake.get(&mt("c4a-standard-8")).await;
    assert_eq!(arm["architecture"], "ARM64");

    let path = "/compute/v1/projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts";
    let (status, image) = fake.get(path).await;
    assert_eq!(status, 200);
    assert_eq!(
        (image["architecture"].clone(), image["family"].clone()),
        (json!("X86_64"), json!("ubuntu-2204-lts"))
    );
    let family = "/compute/v1/projects/ubuntu-os-cloud/global/images/family/ubuntu-2004-lts";
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("no such zone", get(Fake::compute("zones/mars-north1-a")), 404, "notFound", Any),
        ("no such machine type", get(mt("n1-imaginary-64")), 404, "notFound", Is("The resource \
            'projects/test-proj/zones/us-central1-a/machineTypes/n1-imaginary-64' was not found")),
        ("no such image family", get(family), 404, "notFound", Any),
    ];
    check(&fake, cases).await;
}

#[tokio::test]
async fn address_cycle_hands_out_the_configured_ip() {
    let fake = Fake::start(config()).await;
    let collection = Fake::compute(&format!("regions/{REGION}/addresses"));
    let (status, op) = fake.post(&collection, &address_body("env-1-ip")).await;
    assert_eq!(status, 200, "{op}");
    assert_eq!(
        (op["kind"].clone(), op["status"].clone()),
        (json!("compute#operation"), json!("PENDING"))
    );
    assert!(op["region"].as_str().is_some_and(|r| r.ends_with(REGION)));
    let path = format!("{collection}/env-1-ip");
    let (_, reserving) = fake.get(&path).await;
    assert_eq!(reserving["status"], "RESERVING");
    let (polls, done) = fake.wait_done(&op).await;
    assert_eq!((polls, done["progress"].clone()), (2, json!(100)));
    let (status, address) = fake.get(&path).await;
    assert_eq!(status, 200);
    assert_eq!(address["address"], "127.0.0.7");
    assert_eq!(address["status"], "RESERVED");
    assert_eq!(address["labels"], labels());

    let (status, op) = fake.delete(&path).await;
    assert_eq!(
        (status, op["operationType"].clone()),
        (200, json!("delete"))
    );
    assert_eq!(
        fake.get(&path).await.0,
        200,
        "gone only when the delete is DONE"
    );
    fake.wait_done(&op).await;
    let (status, body) = fake.get(&path).await;
    assert_eq!((status, reason(&body)), (404, "notFound"));
    assert_eq!(fake.delete(&path).await.0, 404);
}

#[tokio::test]
async fn firewall_cycle_uses_global_operations() {
    let fake = Fake::default().await;
    let body = json!({"name": "env-1-https", "network": "global/networks/default",
        "direction": "INGRESS", "priority": 1000, "targetTags": ["env-1"],
        "allowed": [{"IPProtocol": "tcp", "ports": ["443", "80"]}], "sourceRanges": ["0.0.0.0/0"]});
    let (status, op) = fake.post(&Fake::compute("global/firewalls"), &body).await;
    assert_eq!(status, 200, "{op}");
    assert!(
        op["selfLink"]
            .as_str()
            .is_some_and(|l| l.contains("/global/operations/"))
    );
    fake.wait_done(&op).await;
    let path = Fake::compute("global/firewalls/env-1-https");
    let (status, rule) = fake.get(&path).await;
    assert_eq!(status, 200);
    assert_eq!(rule["allowed"], body["allowed"]);
    assert!(
        rule["network"]
            .as_str()
            .is_some_and(|n| n.ends_with("/global/networks/default"))
    );
    let (_, op) = fake.delete(&path).await;
    fake.wait_done(&op).await;
    assert_eq!(fake.get(&path).await.0, 404);
}

#[tokio::test]
async fn instance_cycle_takes_its_disk_and_frees_its_address() {
    let fake = Fake::start(config()).await;
    let (_, op) = fake
        .post(
            &Fake::compute(&format!("regions/{REGION}/addresses")),
            &address_body("env-1-ip"),
        )
        .await;
    fake.wait_done(&op).await;
    let (status, op) = fake
        .post(
            &Fake::compute(&format!("zones/{ZONE}/instances")),
            &instance_body("env-1-vm", Some("127.0.0.7"), true),
        )
        .await;
    assert_eq!(status, 200, "{op}");
    assert!(op["zone"].as_str().is_some_and(|z| z.ends_with(ZONE)));
    let vm = Fake::compute(&format!("zones/{ZONE}/instances/env-1-vm"));
    assert_eq!(fake.get(&vm).await.1["status"], "PROVISIONING");
    fake.wait_done(&op).await;
    let (status, instance) = fake.get(&vm).await;
    assert_eq!(
        (status, instance["status"].clone()),
        (200, json!("RUNNING"))
    );
    assert_eq!(instance["labels"], labels());
    assert_eq!(
        instance["networkInterfaces"][0]["accessConfigs"][0]["natIP"],
        "127.0.0.7"
    );
    assert!(
        instance["machineType"]
            .as_str()
            .is_some_and(|m| m.ends_with("/machineTypes/e2-standard-8"))
    );
    let disk_link = instance["disks"][0]["source"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(disk_link.ends_with("/disks/env-1-vm"), "{disk_link}");

    let disk = Fake::compute(&format!("zones/{ZONE}/disks/env-1-vm"));
    let (status, d) = fake.get(&disk).await;
    assert_eq!(
        (status, d["sizeGb"].clone(), d["status"].clone()),
        (200, json!("60"), json!("READY"))
    );
    assert!(
        d["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/diskTypes/pd-ssd"))
    );
    let address = Fake::compute(&format!("regions/{REGION}/addresses/env-1-ip"));
    let (_, a) = fake.get(&address).await;
    assert_eq!(a["status"], "IN_USE");
    let (status, body) = fake.delete(&address).await;
    assert_eq!(
        (status, reason(&body)),
        (400, "resourceInUseByAnotherResource")
    );

    let (_, op) = fake.delete(&vm).await;
    assert_eq!(fake.get(&vm).await.1["status"], "STOPPING");
    fake.wait_done(&op).await;
    assert_eq!(fake.get(&vm).await.0, 404);
    assert_eq!(
        fake.get(&disk).await.0,
        404,
        "autoDelete disk goes with the VM"
    );
    assert_eq!(fake.get(&address).await.1["status"], "RESERVED");
    assert!(fake.server.state().resources("disks").is_empty());
}

#[tokio::test]
async fn a_disk_without_auto_delete_outlives_its_instance() {
    let fake = Fake::start(Config {
        polls_to_done: 0,
        ..config()
    })
    .await;
    let (status, op) = fake
        .post(
            &Fake::compute(&format!("zones/{ZONE}/instances")),
            &instance_body("keep", None, false),
        )
        .await;
    assert_eq!((status, op["status"].clone()), (200, json!("DONE")), "{op}");
    let (_, instance) = fake
        .get(&Fake::compute(&format!("zones/{ZONE}/instances/keep")))
        .await;
    assert_eq!(
        instance["networkInterfaces"][0]["accessConfigs"][0]["natIP"], "127.0.0.7",
        "ephemeral IP"
    );
    fake.delete(&Fake::compute(&format!("zones/{ZONE}/instances/keep")))
        .await;
    let (status, disk) = fake
        .get(&Fake::compute(&format!("zones/{ZONE}/disks/keep")))
        .await;
    assert_eq!((status, disk["users"].clone()), (200, json!([])));
}

#[tokio::test]
async fn operations_go_pending_running_done_over_polls() {
    let fake = Fake::start(Config {
        polls_to_done: 3,
        ..config()
    })
    .await;
    let (_, op) = fake
        .post(
            &Fake::compute(&format!("regions/{REGION}/addresses")),
            &address_body("ip"),
        )
        .await;
    assert_eq!(op["status"], "PENDING");
    let name = op["name"].as_str().unwrap_or_default();
    let get = Fake::compute(&format!("regions/{REGION}/operations/{name}"));
    assert_eq!(fake.get(&get).await.1["status"], "RUNNING");
    let (status, waited) = fake.post(&format!("{get}/wait"), &json!({})).await;
    assert_eq!((status, waited["status"].clone()), (200, json!("RUNNING")));
    let (_, done) = fake.get(&get).await;
    assert_eq!(done["status"], "DONE");
    assert!(done["endTime"].is_string() && done["error"].is_null());
    assert_eq!(fake.get(&get).await.1["status"], "DONE");
    let wrong_scope = Fake::compute(&format!("zones/{ZONE}/operations/{name}"));
    assert_eq!(fake.get(&wrong_scope).await.0, 404);
}

#[tokio::test]
async fn instance_insert_checks_what_gce_checks() {
    let fake = Fake::start(config()).await;
    let instances = Fake::compute(&format!("zones/{ZONE}/instances"));
    let vm = instance_body("vm", None, true);
    let vm_with = |at: &str, value: Value| post(&instances, with(&vm, at, value));
    let machine = |name: &str| json!(format!("zones/{ZONE}/machineTypes/{name}"));
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("an unknown machine type", vm_with("/machineType", machine("e2-imaginary")), 400,
            "invalid", Has(&["'resource.machineType'",
                "Machine type with name 'e2-imaginary' does not exist"])),
        ("an x86 image on an Arm machine", vm_with("/machineType", machine("t2a-standard-8")), 400,
            "invalid", Has(&["disks[0].initializeParams.sourceImage",
                "does not match machine type t2a-standard-8"])),
        ("no boot disk", vm_with("/disks/0/boot", json!(false)), 400, "invalid",
            Has(&["'resource.disks'", "Exactly one boot disk"])),
        ("a disk smaller than its image",
            vm_with("/disks/0/initializeParams/diskSizeGb", json!("5")), 400, "invalid",
            Has(&["initializeParams.diskSizeGb': '5'", "smaller than the image size"])),
        ("an unreserved natIP", post(&instances, instance_body("vm", Some("127.0.0.99"), true)),
            400, "invalid", Has(&["accessConfigs[0].natIP': '127.0.0.99'",
                "was not found in region 'us-central1'"])),
        ("no such image family", vm_with("/disks/0/initializeParams/sourceImage",
            json!("projects/debian-cloud/global/images/family/debian-12")), 404, "notFound", Any),
        ("no such zone", post(Fake::compute("zones/mars-north1-a/instances"), vm.clone()), 404,
            "notFound", Any),
    ];
    check(&fake, cases).await;
    assert!(fake.server.state().resources("instances").is_empty());
    assert!(fake.server.state().resources("disks").is_empty());
}
