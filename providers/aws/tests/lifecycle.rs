//! The whole environment through the trait against moto: create, check every property that
//! matters in moto itself, ensure again (nothing new), delete in pipeline order (nothing
//! tagged left), delete again (still fine).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use base64::Engine as _;
use carto_core::{InfraSpec, Provider, ResourceRef};

use crate::common::{self, Env, OPERATOR_CIDR, spec};

const VM_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 77);
const WAIT: Duration = Duration::from_secs(60);

struct Made {
    key: ResourceRef,
    sg: ResourceRef,
    address: carto_core::Address,
    vm: ResourceRef,
    dns: ResourceRef,
}

async fn create(env: &Env, s: &carto_core::InfraSpec) -> Made {
    let p = &env.provider;
    let resolved = p.preflight(s).await.expect("preflight");
    let key = p
        .ensure_ssh_key(s, &resolved)
        .await
        .expect("key")
        .expect("AWS has key pairs");
    let sg = p
        .ensure_firewall(s, &resolved)
        .await
        .expect("firewall")
        .remove(0);
    let address = p.ensure_address(s, &resolved).await.expect("address");
    let vm = p
        .ensure_vm(s, &resolved, std::slice::from_ref(&sg), &address)
        .await
        .expect("vm");
    p.wait_vm_ready(&vm, &address, WAIT)
        .await
        .expect("vm ready");
    let dns = p
        .ensure_dns_record(s, &resolved, &address, &[], WAIT)
        .await
        .expect("dns");
    Made {
        key,
        sg,
        address,
        vm,
        dns,
    }
}

fn tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

fn assert_tagged(what: &str, tags: &[aws_sdk_ec2::types::Tag]) {
    assert_eq!(
        tag(tags, "managed-by"),
        Some("carto-provision"),
        "{what} tags: {tags:?}"
    );
    assert_eq!(
        tag(tags, "carto-env"),
        Some("life"),
        "{what} tags: {tags:?}"
    );
    assert!(
        tag(tags, "Name").is_some_and(|n| n.starts_with("carto-life-")),
        "{what} tags: {tags:?}"
    );
}

async fn a_record(env: &Env, zone: &str, name: &str) -> Option<Vec<String>> {
    let out = env
        .r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("list records");
    out.resource_record_sets()
        .iter()
        .find(|r| r.name().trim_end_matches('.') == name && r.r#type().as_str() == "A")
        .map(|r| {
            r.resource_records()
                .iter()
                .map(|v| v.value().to_string())
                .collect()
        })
}

/// An expiry (Unix seconds) the lifecycle test's environment is given: 8 h after its creation.
const EXPIRES: i64 = 1_795_739_222;
#[tokio::test]
async fn create_ensure_again_delete_and_delete_again() {
    let env = common::start(VM_IP).await;
    let zone = env.create_zone("sub.example.com.").await;
    env.create_zone("example.com.").await;
    // With a ttl, every resource carries its expiry and list_tagged reads it back.
    let s = InfraSpec {
        expires: Some(EXPIRES),
        ..spec("life", "carto.sub.example.com")
    };
    let made = create(&env, &s).await;
    let ec2 = &env.ec2;

    // Security group: exactly 22 from the operator, 443 and 80 from the world.
    let sgs = ec2
        .describe_security_groups()
        .group_ids(&made.sg.id)
        .send()
        .await
        .expect("sg");
    let group = &sgs.security_groups()[0];
    assert_tagged("security group", group.tags());
    let mut rules = BTreeSet::new();
    for p in group.ip_permissions() {
        for r in p.ip_ranges() {
            rules.insert((
                p.ip_protocol().unwrap_or("").to_string(),
                p.from_port(),
                p.to_port(),
                r.cidr_ip().unwrap_or("").to_string(),
            ));
        }
        for r in p.ipv6_ranges() {
            rules.insert((
                p.ip_protocol().unwrap_or("").to_string(),
                p.from_port(),
                p.to_port(),
                r.cidr_ipv6().unwrap_or("").to_string(),
            ));
        }
        assert!(p.user_id_group_pairs().is_empty() && p.prefix_list_ids().is_empty());
    }
    let rule =
        |port: i32, cidr: &str| ("tcp".to_string(), Some(port), Some(port), cidr.to_string());
    let expected: BTreeSet<_> = [
        rule(22, OPERATOR_CIDR),
        rule(443, "0.0.0.0/0"),
        rule(443, "::/0"),
        rule(80, "0.0.0.0/0"),
        rule(80, "::/0"),
    ]
    .into();
    assert_eq!(rules, expected);

    // Instance: image, type, key, user-data, tags; root volume gp3, >= 60 GiB, deleted with it.
    let out = ec2
        .describe_instances()
        .instance_ids(&made.vm.id)
        .send()
        .await
        .expect("vm");
    let instance = &out.reservations()[0].instances()[0];
    assert_eq!(instance.image_id(), Some("ami-0c0ffee0jammy0001"));
    assert_eq!(
        instance.instance_type().map(|t| t.as_str()),
        Some("m6i.2xlarge")
    );
    assert_eq!(instance.key_name(), Some("carto-life-key"));
    assert_tagged("instance", instance.tags());
    let root = instance
        .block_device_mappings()
        .iter()
        .find(|b| b.device_name() == Some("/dev/sda1"))
        .expect("root mapping");
    let root = root.ebs().expect("ebs");
    assert_eq!(root.delete_on_termination(), Some(true));
    let volume_id = root.volume_id().expect("volume id");
    let vols = ec2
        .describe_volumes()
        .volume_ids(volume_id)
        .send()
        .await
        .expect("volume");
    let volume = &vols.volumes()[0];
    assert_eq!(volume.volume_type().map(|t| t.as_str()), Some("gp3"));
    assert!(volume.size().unwrap_or(0) >= 60, "{volume:?}");
    assert_tagged("volume", volume.tags());
    let attr = ec2
        .describe_instance_attribute()
        .instance_id(&made.vm.id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .expect("user data");
    let encoded = attr
        .user_data()
        .and_then(|u| u.value())
        .expect("user data set");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    assert_eq!(String::from_utf8(decoded).expect("utf8"), s.user_data);

    // Elastic IP: tagged, associated with the instance, and the address moto was told to hand out.
    assert_eq!(made.address.ip, VM_IP.to_string());
    let eips = ec2
        .describe_addresses()
        .allocation_ids(&made.address.resource.id)
        .send()
        .await
        .expect("eip");
    assert_eq!(eips.addresses()[0].instance_id(), Some(made.vm.id.as_str()));
    assert_tagged("elastic ip", eips.addresses()[0].tags());

    // Key pair: tagged.
    let keys = ec2
        .describe_key_pairs()
        .key_names("carto-life-key")
        .send()
        .await
        .expect("key");
    assert_tagged("key pair", keys.key_pairs()[0].tags());
    assert_eq!(made.key.name, "carto-life-key");

    // DNS: the A record points at the Elastic IP; the ref carries what delete needs.
    assert_eq!(
        a_record(&env, &zone, "carto.sub.example.com").await,
        Some(vec![VM_IP.to_string()])
    );
    assert_eq!(made.dns.dns_zone, Some(zone.clone()));
    assert_eq!(made.dns.ip, Some(VM_IP.to_string()));

    // Ensure again: the same ids, no new resource.
    let before = env.counts().await;
    assert_eq!(before, (1, 1, 1, 1));
    let again = create(&env, &s).await;
    assert_eq!(env.counts().await, before);
    assert_eq!(
        (
            &again.vm.id,
            &again.sg.id,
            &again.address.resource.id,
            &again.key.id
        ),
        (
            &made.vm.id,
            &made.sg.id,
            &made.address.resource.id,
            &made.key.id
        )
    );

    // list_tagged sees the four EC2 resources of the environment, and the A record its
    // address's domain tag names (it points at the address).
    let env_name = s.env.clone();
    let tagged = env
        .provider
        .list_tagged(Some(&env_name))
        .await
        .expect("list");
    let mut kinds: Vec<_> = tagged.iter().map(|t| t.resource.kind).collect();
    kinds.sort();
    use carto_core::ResourceKind::*;
    assert_eq!(kinds, [SshKey, Firewall, Address, Vm, DnsRecord]);
    assert!(tagged.iter().all(|t| t.env == "life"));
    let record = tagged
        .iter()
        .find(|t| t.resource.kind == DnsRecord)
        .unwrap();
    assert_eq!(
        record.resource, made.dns,
        "the record as the pipeline recorded it"
    );
    assert!(
        tagged
            .iter()
            .all(|t| t.created.map(|c| c.to_rfc3339()).as_deref()
                == Some("2026-11-26T16:27:02+00:00")
                && t.expires == Some(EXPIRES)
                && t.nonce.as_deref() == Some(s.nonce.as_str())),
        "creation time, expiry and nonce from the carto-created, carto-expires and carto-nonce tags: {tagged:?}"
    );

    // Delete in pipeline order, then again: both fine; nothing tagged remains.
    let order = [
        &made.dns,
        &made.vm,
        &made.address.resource,
        &made.sg,
        &made.key,
    ];
    for pass in 0..2 {
        for r in order {
            env.provider
                .delete(r, WAIT)
                .await
                .unwrap_or_else(|e| panic!("delete {r} (pass {pass}): {e}"));
        }
    }
    assert!(
        env.provider
            .list_tagged(Some(&env_name))
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(env.counts().await, (0, 0, 0, 0));
    assert_eq!(a_record(&env, &zone, "carto.sub.example.com").await, None);
}

#[tokio::test]
async fn dns_delete_leaves_a_record_someone_repointed() {
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    let zone = env.create_zone("example.com.").await;
    let s = spec("dnsguard", "carto.example.com");
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    let address = env
        .provider
        .ensure_address(&s, &resolved)
        .await
        .expect("address");
    let record = env
        .provider
        .ensure_dns_record(&s, &resolved, &address, &[], WAIT)
        .await
        .expect("dns");
    let mut moved = record.clone();
    moved.ip = Some("127.0.0.99".into());
    env.provider
        .delete(&moved, WAIT)
        .await
        .expect("delete is Ok");
    assert_eq!(
        a_record(&env, &zone, "carto.example.com").await,
        Some(vec!["127.0.0.2".to_string()]),
        "a record not pointing at the recorded ip was deleted"
    );
    env.provider.delete(&record, WAIT).await.expect("delete");
    assert_eq!(a_record(&env, &zone, "carto.example.com").await, None);
}

/// Someone else's CNAME at the domain (the hazard): preflight reads it, a CREATE without
/// taking it over is refused by Route53 and changes nothing, a take-over replaces it in one
/// batch, and delete puts it back exactly.
#[tokio::test]
async fn a_foreign_record_is_refused_and_a_taken_over_one_comes_back_on_delete() {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    let zone = env.create_zone("example.com.").await;
    let theirs = ResourceRecordSet::builder()
        .name("shop.example.com.")
        .r#type(RrType::Cname)
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value("shop.elsewhere.example.net.")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    env.r53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Create)
                        .resource_record_set(theirs)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("their record");
    let cname = |env: &common::Env| {
        let zone = zone.clone();
        let r53 = env.r53.clone();
        async move {
            let out = r53
                .list_resource_record_sets()
                .hosted_zone_id(&zone)
                .send()
                .await
                .unwrap();
            out.resource_record_sets()
                .iter()
                .filter(|r| r.r#type().as_str() == "CNAME")
                .map(|r| (r.ttl(), r.resource_records()[0].value().to_string()))
                .collect::<Vec<_>>()
        }
    };
    let s = spec("dnstake", "shop.example.com");
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    let found = env
        .provider
        .find_dns_records(&s, &resolved)
        .await
        .expect("records");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rtype, "CNAME");
    assert_eq!(found[0].values, ["shop.elsewhere.example.net."]);
    let address = env
        .provider
        .ensure_address(&s, &resolved)
        .await
        .expect("address");

    let refused = env
        .provider
        .ensure_dns_record(&s, &resolved, &address, &[], WAIT)
        .await
        .expect_err("created beside someone else's CNAME");
    assert!(
        refused.message.contains("changed after preflight"),
        "{refused}"
    );
    // Route53 refuses the DELETE of a set whose values changed: the batch fails as a whole.
    let mut stale = found.clone();
    stale[0].values = vec!["old.example.net.".into()];
    env.provider
        .ensure_dns_record(&s, &resolved, &address, &stale, WAIT)
        .await
        .expect_err("replaced a set other than the one read");
    assert_eq!(a_record(&env, &zone, "shop.example.com").await, None);
    assert_eq!(
        cname(&env).await,
        [(Some(300), "shop.elsewhere.example.net.".to_string())]
    );

    let record = env
        .provider
        .ensure_dns_record(&s, &resolved, &address, &found, WAIT)
        .await
        .expect("take over");
    assert_eq!(
        a_record(&env, &zone, "shop.example.com").await,
        Some(vec!["127.0.0.2".to_string()])
    );
    assert!(cname(&env).await.is_empty());
    assert_eq!(carto_core::dns::replaced(&record).unwrap(), found);

    env.provider.delete(&record, WAIT).await.expect("delete");
    assert_eq!(a_record(&env, &zone, "shop.example.com").await, None);
    assert_eq!(
        cname(&env).await,
        [(Some(300), "shop.elsewhere.example.net.".to_string())]
    );
}
