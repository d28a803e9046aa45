//! A network the user names (`InfraSpec::network`, the CLI's `--network`): the project's
//! `default` network is refused in preflight for its world-open SSH rule, as is a network
//! with any rule opening a port other than 80/443 to the world on the VM; a clean network is
//! used as it is (nothing network-wise created or deleted) and the VM and its rules go in it.

use std::time::Duration;

use carto_core::{ErrorKind, InfraSpec, Provider};
use serde_json::json;

use crate::common::{self, Env, spec};

const WAIT: Duration = Duration::from_secs(30);

async fn refused(env: &Env, s: &InfraSpec) -> String {
    let err = env
        .provider
        .preflight(s)
        .await
        .expect_err("preflight refuses");
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
    assert_eq!(env.inserts(), 0, "preflight created something");
    err.to_string()
}

fn on(network: &str, env: &str) -> InfraSpec {
    InfraSpec {
        network: Some(network.into()),
        ..spec(env, "carto.example.com")
    }
}

#[tokio::test]
async fn the_default_network_is_refused_for_its_world_open_ssh() {
    let env = common::start().await;
    let e = refused(&env, &on("default", "dflt")).await;
    assert!(
        e.starts_with("network default has firewall rules that open"),
        "{e}"
    );
    assert!(
        e.contains("default-allow-ssh") && e.contains("tcp:22"),
        "{e}"
    );
    let e = refused(&env, &on("nope", "dflt")).await;
    assert!(e.starts_with("network nope names no such network"), "{e}");
    let e = refused(&env, &on("Bad_Name", "dflt")).await;
    assert!(e.starts_with("network \"Bad_Name\""), "{e}");
}

#[tokio::test]
async fn a_clean_network_is_used_as_it_is_and_left_behind() {
    let env = common::start().await;
    let p = &env.provider;
    // A clean custom network with a subnetwork: another environment's own.
    let shared = spec("shared", "shared.example.com");
    let resolved = p.preflight(&shared).await.expect("preflight");
    let made = p.ensure_network(&shared, &resolved).await.expect("network");
    let inside = p.ensure_subnet(&shared, &resolved).await.expect("subnet");
    assert_eq!((made.len(), inside.len()), (1, 1));

    let s = on("carto-shared-net", "guest");
    let resolved = p.preflight(&s).await.expect("a clean network passes");
    assert!(
        p.ensure_network(&s, &resolved)
            .await
            .expect("none")
            .is_empty()
    );
    assert!(
        p.ensure_subnet(&s, &resolved)
            .await
            .expect("none")
            .is_empty()
    );
    let firewall = p.ensure_firewall(&s, &resolved).await.expect("firewall");
    let address = p.ensure_address(&s, &resolved).await.expect("address");
    let vm = p
        .ensure_vm(&s, &resolved, &firewall, &address)
        .await
        .expect("vm");
    let instance = env.resources("instances")[0].clone();
    let nic = &instance["networkInterfaces"][0];
    let shared_net = env
        .resources("networks")
        .into_iter()
        .find(|n| n["name"] == "carto-shared-net");
    let shared_sub = env.resources("subnetworks")[0].clone();
    assert_eq!(
        nic["network"],
        shared_net.expect("shared network")["selfLink"],
        "{nic}"
    );
    assert_eq!(nic["subnetwork"], shared_sub["selfLink"], "{nic}");
    for rule in env.rules() {
        assert!(
            rule["network"]
                .as_str()
                .is_some_and(|n| n.ends_with("/networks/carto-shared-net")),
            "{rule}"
        );
    }
    // The guest environment's rules are its own; a rule opening 8080 to the world on every
    // VM of the network is refused, one for other VMs' tag is not.
    let tagged = p.list_tagged(Some(&s.env)).await.expect("list");
    assert!(
        tagged
            .iter()
            .all(|t| t.resource.kind != carto_core::ResourceKind::Network)
    );
    let rule = |name: &str, tags: serde_json::Value| {
        json!({"kind": "compute#firewall", "id": "77", "name": name, "direction": "INGRESS",
            "network": format!("{}/compute/v1/projects/{}/global/networks/carto-shared-net", env.fake.url(), common::PROJECT),
            "allowed": [{"IPProtocol": "tcp", "ports": ["8080"]}], "sourceRanges": ["0.0.0.0/0"],
            "targetTags": tags})
    };
    let key = |name: &str| format!("projects/{}/global/firewalls/{name}", common::PROJECT);
    let state = env.fake.state();
    state.put_resource(
        "firewalls",
        &key("bastion-8080"),
        rule("bastion-8080", json!(["bastion"])),
    );
    p.preflight(&s).await.expect("a rule for other VMs passes");
    state.put_resource("firewalls", &key("all-8080"), rule("all-8080", json!([])));
    let e = p
        .preflight(&s)
        .await
        .expect_err("world-open 8080 refused")
        .to_string();
    assert!(
        e.starts_with("network carto-shared-net has firewall rules that open more than 80/443 to the whole Internet on the VM (all-8080 tcp:8080)"),
        "{e}"
    );

    // Deleting the guest leaves the network it was given.
    p.delete(&vm, WAIT).await.expect("vm");
    for r in &firewall {
        p.delete(r, WAIT).await.expect("rule");
    }
    assert_eq!(
        env.resources("networks").len(),
        2,
        "default and the shared network"
    );
    assert_eq!(env.resources("subnetworks").len(), 1);
}
