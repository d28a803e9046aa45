//! Re-running `ensure_firewall` after the group drifted (an extra port, SSH opened to the
//! world, a new operator address) puts the ingress back to exactly the spec; a key pair of
//! the environment's name holding another key is a conflict, not silently reused.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use aws_sdk_ec2::types::{IpPermission, IpRange};
use carto_core::{ErrorKind, Provider, firewall_rules};

use carto_harness::proxy::FaultProxy;

use crate::common::{self, spec};

fn open(port: i32, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

/// The group's ingress as (port, CIDR).
async fn ingress(env: &common::Env, group_id: &str) -> BTreeSet<(Option<i32>, String)> {
    let out = env
        .ec2
        .describe_security_groups()
        .group_ids(group_id)
        .send()
        .await
        .expect("sg");
    let mut rules = BTreeSet::new();
    for p in out.security_groups()[0].ip_permissions() {
        for r in p.ip_ranges() {
            rules.insert((p.from_port(), r.cidr_ip().unwrap_or("").to_string()));
        }
        for r in p.ipv6_ranges() {
            rules.insert((p.from_port(), r.cidr_ipv6().unwrap_or("").to_string()));
        }
    }
    rules
}

#[tokio::test]
async fn a_new_group_is_one_lookup_one_create_one_authorize_and_matches_the_spec() {
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    env.create_zone("example.com.").await;
    let s = spec("fresh-sg", "carto.example.com");
    let proxy = FaultProxy::start(env.moto.port, vec![]);
    let provider = common::provider_at(&proxy.endpoint()).await;
    let resolved = provider.preflight(&s).await.expect("preflight");
    provider.find_existing(&s, &resolved).await.expect("find");
    let sg = provider
        .ensure_firewall(&s, &resolved)
        .await
        .expect("firewall")
        .remove(0);
    // The default VPC is asked once (preflight); the group is looked up, made and given its
    // rules, with nothing read back in between (a new group has no ingress).
    assert_eq!(proxy.calls("DescribeVpcs"), 1);
    assert_eq!(proxy.calls("CreateSecurityGroup"), 1);
    assert_eq!(proxy.calls("AuthorizeSecurityGroupIngress"), 1);
    assert_eq!(proxy.calls("RevokeSecurityGroupIngress"), 0);
    let expected: BTreeSet<_> = [
        (Some(22), common::OPERATOR_CIDR.to_string()),
        (Some(80), "0.0.0.0/0".to_string()),
        (Some(80), "::/0".to_string()),
        (Some(443), "0.0.0.0/0".to_string()),
        (Some(443), "::/0".to_string()),
    ]
    .into();
    assert_eq!(ingress(&env, &sg.id).await, expected);
}

#[tokio::test]
async fn ensure_firewall_repairs_drifted_ingress() {
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    env.create_zone("example.com.").await;
    let mut s = spec("drift", "carto.example.com");
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    let sg = env
        .provider
        .ensure_firewall(&s, &resolved)
        .await
        .expect("firewall")
        .remove(0);

    env.ec2
        .authorize_security_group_ingress()
        .group_id(&sg.id)
        .ip_permissions(open(5447, "0.0.0.0/0"))
        .ip_permissions(open(22, "0.0.0.0/0"))
        .send()
        .await
        .expect("drift the group");
    s.firewall = firewall_rules("198.51.100.9/32");
    let again = env
        .provider
        .ensure_firewall(&s, &resolved)
        .await
        .expect("firewall again")
        .remove(0);
    assert_eq!(again.id, sg.id);

    let rules = ingress(&env, &sg.id).await;
    let expected: BTreeSet<_> = [
        (Some(22), "198.51.100.9/32".to_string()),
        (Some(80), "0.0.0.0/0".to_string()),
        (Some(80), "::/0".to_string()),
        (Some(443), "0.0.0.0/0".to_string()),
        (Some(443), "::/0".to_string()),
    ]
    .into();
    assert_eq!(rules, expected);
}

#[tokio::test]
async fn key_pair_with_another_key_is_a_conflict() {
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    env.create_zone("example.com.").await;
    let s = spec("keyclash", "carto.example.com");
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    let first = env
        .provider
        .ensure_ssh_key(&s, &resolved)
        .await
        .expect("key")
        .expect("ref");
    let same = env
        .provider
        .ensure_ssh_key(&s, &resolved)
        .await
        .expect("key")
        .expect("ref");
    assert_eq!(first.id, same.id);

    let mut other = s.clone();
    other.ssh_public_key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm7Yb6mGz8b3Cq0m0v0qSxlFv9d1c9nX2l5p0S2w3Xz other"
            .into();
    let err = env
        .provider
        .ensure_ssh_key(&other, &resolved)
        .await
        .expect_err("conflict");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    assert!(err.message.contains("carto-keyclash-key"), "{err}");
}

/// What `find_existing` reports for the names of an environment: a security group of its name
/// made by hand (no tags), and an Elastic IP tagged with its name by a twin environment (same
/// name, another nonce); each is foreign to the environment, while what it made itself is not.
#[tokio::test]
async fn names_held_by_others_are_found_with_who_made_them() {
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    env.create_zone("example.com.").await;
    let s = spec("twin", "carto.example.com");
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    assert!(
        env.provider
            .find_existing(&s, &resolved)
            .await
            .expect("find")
            .is_empty(),
        "a fresh account holds nothing of ours"
    );
    let vpc = env.ec2.describe_vpcs().send().await.expect("vpcs").vpcs()[0]
        .vpc_id()
        .expect("vpc id")
        .to_string();
    let by_hand = env
        .ec2
        .create_security_group()
        .group_name("carto-twin-sg")
        .description("someone else's")
        .vpc_id(vpc)
        .send()
        .await
        .expect("their group")
        .group_id()
        .expect("id")
        .to_string();
    let twin = carto_core::InfraSpec {
        nonce: "the-other-one".into(),
        ..s.clone()
    };
    let their_ip = env
        .provider
        .ensure_address(&twin, &resolved)
        .await
        .expect("twin ip");
    let key = env
        .provider
        .ensure_ssh_key(&s, &resolved)
        .await
        .expect("our key")
        .expect("ref");

    let found = env
        .provider
        .find_existing(&s, &resolved)
        .await
        .expect("find");
    let who = |id: &str| {
        found
            .iter()
            .find(|t| t.resource.id == id)
            .map(|t| (t.env.clone(), t.nonce.clone()))
    };
    assert_eq!(who(&by_hand), Some((String::new(), None)), "{found:?}");
    assert_eq!(
        who(&their_ip.resource.id),
        Some(("twin".into(), Some("the-other-one".into())))
    );
    assert_eq!(who(&key.id), Some(("twin".into(), Some(s.nonce.clone()))));
    let foreign: Vec<&str> = carto_core::ownership::foreign(&found, &s.nonce, &[])
        .iter()
        .map(|t| t.resource.id.as_str())
        .collect();
    assert_eq!(foreign.len(), 2, "{foreign:?}");
    assert!(
        foreign.contains(&by_hand.as_str()) && foreign.contains(&their_ip.resource.id.as_str())
    );
}
