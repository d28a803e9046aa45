//! The AWS provider keeps the provider contract (`carto_core::contract`) against moto, and
//! what only AWS has: the security group's exact rules, the instance's image, type, key,
//! user-data and gp3 root volume, the Elastic IP's association, and tags on every resource.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use async_trait::async_trait;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use base64::Engine as _;
use carto_core::InfraSpec;
use carto_core::contract::{self, Made, Observe};

use crate::common::{self, Env, OPERATOR_CIDR, spec};

const VM_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 77);

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

/// moto as the contract sees it, with the hosted zone the environment's records go in.
struct Moto<'a> {
    env: &'a Env,
    zone: String,
}

impl Moto<'_> {
    /// The record sets of the zone (NS and SOA left out).
    async fn records(&self) -> Vec<ResourceRecordSet> {
        let out = self
            .env
            .r53
            .list_resource_record_sets()
            .hosted_zone_id(&self.zone)
            .send()
            .await
            .expect("list records");
        out.resource_record_sets()
            .iter()
            .filter(|r| !matches!(r.r#type().as_str(), "NS" | "SOA"))
            .cloned()
            .collect()
    }

    async fn values(&self, name: &str, rtype: &str) -> Option<Vec<String>> {
        self.records()
            .await
            .iter()
            .find(|r| r.name().trim_end_matches('.') == name && r.r#type().as_str() == rtype)
            .map(|r| {
                r.resource_records()
                    .iter()
                    .map(|v| v.value().to_string())
                    .collect()
            })
    }
}

#[async_trait]
impl Observe for Moto<'_> {
    async fn inventory(&self) -> Vec<String> {
        let (live, sgs, eips, keys) = self.env.counts().await;
        let mut all = vec![format!(
            "instances {live} security groups {sgs} eips {eips} key pairs {keys}"
        )];
        let volumes = self
            .env
            .ec2
            .describe_volumes()
            .send()
            .await
            .expect("volumes");
        all.extend(
            volumes
                .volumes()
                .iter()
                .map(|v| format!("volume {:?}", v.volume_id())),
        );
        all.extend(
            self.records()
                .await
                .iter()
                .map(|r| format!("{} {}", r.r#type().as_str(), r.name())),
        );
        all
    }

    async fn a_record(&self, name: &str) -> Option<Vec<String>> {
        self.values(name, "A").await
    }

    async fn cname(&self, name: &str) -> Option<Vec<String>> {
        self.values(name, "CNAME").await
    }

    async fn seed_cname(&self, name: &str, target: &str) {
        let set = ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::Cname)
            .ttl(300)
            .resource_records(ResourceRecord::builder().value(target).build().unwrap())
            .build()
            .unwrap();
        let change = Change::builder()
            .action(ChangeAction::Create)
            .resource_record_set(set)
            .build()
            .unwrap();
        self.env
            .r53
            .change_resource_record_sets()
            .hosted_zone_id(&self.zone)
            .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
            .send()
            .await
            .expect("their record");
    }

    async fn check_made(&self, spec: &InfraSpec, made: &Made) {
        // Security group: exactly 22 from the operator, 443 and 80 from the world.
        let sgs = self
            .env
            .ec2
            .describe_security_groups()
            .group_ids(&made.firewall[0].id)
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
        let out = self
            .env
            .ec2
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
        let vols = self
            .env
            .ec2
            .describe_volumes()
            .volume_ids(volume_id)
            .send()
            .await
            .expect("volume");
        let volume = &vols.volumes()[0];
        assert_eq!(volume.volume_type().map(|t| t.as_str()), Some("gp3"));
        assert!(volume.size().unwrap_or(0) >= 60, "{volume:?}");
        assert_tagged("volume", volume.tags());
        let attr = self
            .env
            .ec2
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
        assert_eq!(String::from_utf8(decoded).expect("utf8"), spec.user_data);

        // Elastic IP: tagged, associated with the instance, and the address moto was told to hand out.
        assert_eq!(made.address.ip, VM_IP.to_string());
        let eips = self
            .env
            .ec2
            .describe_addresses()
            .allocation_ids(&made.address.resource.id)
            .send()
            .await
            .expect("eip");
        assert_eq!(eips.addresses()[0].instance_id(), Some(made.vm.id.as_str()));
        assert_tagged("elastic ip", eips.addresses()[0].tags());

        // Key pair: tagged.
        let keys = self
            .env
            .ec2
            .describe_key_pairs()
            .key_names("carto-life-key")
            .send()
            .await
            .expect("key");
        assert_tagged("key pair", keys.key_pairs()[0].tags());
        assert_eq!(
            made.key.as_ref().map(|k| k.name.as_str()),
            Some("carto-life-key")
        );

        // DNS: the ref carries what delete needs (the contract checks the record itself).
        assert_eq!(made.dns.dns_zone.as_ref(), Some(&self.zone));
        assert_eq!(made.dns.ip, Some(VM_IP.to_string()));
    }
}

/// An expiry (Unix seconds) the lifecycle test's environment is given: 8 h after its creation.
const EXPIRES: i64 = 1_795_739_222;

#[tokio::test]
async fn keeps_the_provider_contract() {
    let env = common::start(VM_IP).await;
    let zone = env.create_zone("sub.example.com.").await;
    env.create_zone("example.com.").await;
    let s = InfraSpec {
        expires: Some(EXPIRES),
        ..spec("life", "carto.sub.example.com")
    };
    contract::provider_contract(&env.provider, &Moto { env: &env, zone }, &s).await;
}

#[tokio::test]
async fn a_foreign_record_is_refused_and_a_taken_over_one_comes_back_on_delete() {
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    let zone = env.create_zone("example.com.").await;
    let s = spec("dnstake", "shop.example.com");
    contract::foreign_record_contract(&env.provider, &Moto { env: &env, zone }, &s).await;
}
