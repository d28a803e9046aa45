//! The local emulated AWS as a deployment sees it: moto handing out a test VM's address,
//! a hosted zone, and read-back helpers that talk to moto's own HTTP API (no AWS SDK here):
//! the user-data the CLI sent, every resource tagged with an environment, a zone's record
//! sets, and [`Counts`] of everything that exists at all.
//!
//! `boot_from_user_data` closes the loop a real cloud closes: once the CLI has launched its
//! instance, the test VM boots with exactly the user-data the CLI sent.

use std::io;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use base64::Engine;

use crate::cloud::{LocalCloud, ZONE, ports_of, sorted};
use crate::moto::Moto;
use crate::vm::TestVm;

/// The tag filter every resource carto-provision creates matches.
const MANAGED_BY: (&str, &str) = ("tag:managed-by", "carto-provision");
/// Instance states that count as existing (everything but `terminated`).
const LIVE_STATES: [&str; 5] = ["pending", "running", "shutting-down", "stopping", "stopped"];

/// moto plus the address it hands out.
pub struct LocalAws {
    /// The emulator.
    pub moto: Moto,
    /// The address moto gives every instance and Elastic IP: the test VM's.
    pub vm_ip: Ipv4Addr,
}

/// moto with the zone [`ZONE`]: the AWS side of a deployment.
pub struct AwsCloud {
    /// moto and the address it hands out.
    pub aws: LocalAws,
    /// The id of the hosted zone [`ZONE`].
    pub zone_id: String,
}

impl AwsCloud {
    /// Starts moto handing out a fresh test VM address, with the zone [`ZONE`].
    pub fn start() -> io::Result<AwsCloud> {
        let aws = LocalAws::start()?;
        let zone_id = aws.create_zone(ZONE)?;
        Ok(AwsCloud { aws, zone_id })
    }
}

impl LocalCloud for AwsCloud {
    fn cloud(&self) -> &'static str {
        "aws"
    }

    fn vm_ip(&self) -> Ipv4Addr {
        self.aws.vm_ip
    }

    fn cli_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("CARTO_PROVISION_AWS_ENDPOINT_URL", self.aws.moto.endpoint()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn deploy_args(&self) -> Vec<String> {
        Vec::new()
    }

    fn wait_user_data(&self, env: &str, timeout: Duration) -> io::Result<String> {
        self.aws.wait_user_data(env, timeout)
    }

    fn tagged(&self, env: &str) -> io::Result<Vec<String>> {
        self.aws.tagged(env)
    }

    fn a_records(&self) -> io::Result<Vec<(String, String)>> {
        self.aws.a_records(&self.zone_id)
    }

    fn open_ports(&self, env: &str) -> io::Result<Vec<u16>> {
        let filter = filters(&[("tag:carto-env", env)]);
        let xml = self
            .aws
            .ec2(&format!("Action=DescribeSecurityGroups{filter}"))?;
        let mut ports = Vec::new();
        // Each permission names its protocol and port range once; egress rules are under
        // another element.
        for inbound in tag_values(&xml, "ipPermissions") {
            let protocols = tag_values(&inbound, "ipProtocol");
            let (from, to) = (
                tag_values(&inbound, "fromPort"),
                tag_values(&inbound, "toPort"),
            );
            for (i, protocol) in protocols.iter().enumerate() {
                match (protocol.as_str(), from.get(i), to.get(i)) {
                    ("-1", _, _) => ports.extend(ports_of("*")),
                    ("tcp" | "6", Some(from), Some(to)) => {
                        ports.extend(ports_of(&format!("{from}-{to}")))
                    }
                    _ => {}
                }
            }
        }
        Ok(sorted(ports))
    }
}

/// What exists in moto, whoever created it (terminated instances left out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Instances not terminated.
    pub instances: usize,
    /// Security groups other than `default`.
    pub security_groups: usize,
    /// Elastic IPs.
    pub addresses: usize,
    /// Key pairs.
    pub key_pairs: usize,
    /// Record sets in the zone other than its NS and SOA.
    pub records: usize,
}

impl Counts {
    /// Whether nothing at all exists.
    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

/// One record set of a hosted zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSet {
    /// Fully qualified name, with the final dot.
    pub name: String,
    /// `A`, `NS`, `SOA`, …
    pub kind: String,
    /// Its values, in order.
    pub values: Vec<String>,
}

impl LocalAws {
    /// Starts moto handing out a fresh test VM address.
    pub fn start() -> io::Result<LocalAws> {
        LocalAws::start_with(TestVm::next_address()?)
    }

    /// Starts moto handing out `vm_ip` (for tests that choose it, e.g. one nothing listens on).
    pub fn start_with(vm_ip: Ipv4Addr) -> io::Result<LocalAws> {
        Ok(LocalAws {
            moto: Moto::start(vm_ip)?,
            vm_ip,
        })
    }

    /// Creates a public hosted zone and returns its id (`/hostedzone/…`).
    pub fn create_zone(&self, name: &str) -> io::Result<String> {
        let body = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>{name}</Name><CallerReference>{name}-{}</CallerReference></CreateHostedZoneRequest>"#,
            std::process::id()
        );
        let answer = self.route53("POST", "/2013-04-01/hostedzone", &body)?;
        tag_values(&answer, "Id")
            .into_iter()
            .find(|id| id.starts_with("/hostedzone/"))
            .ok_or_else(|| io::Error::other(format!("no zone id in {answer}")))
    }

    /// Creates one record set `name type value` (TTL 300) in a zone, as its owner would.
    pub fn create_record(
        &self,
        zone_id: &str,
        name: &str,
        kind: &str,
        value: &str,
    ) -> io::Result<()> {
        let id = zone_id.trim_start_matches("/hostedzone/");
        let body = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>{name}</Name><Type>{kind}</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>{value}</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"#
        );
        self.route53("POST", &format!("/2013-04-01/hostedzone/{id}/rrset"), &body)
            .map(drop)
    }

    /// One EC2 query API call (`Action=…&…`), returning the XML body.
    pub fn ec2(&self, query: &str) -> io::Result<String> {
        let (status, body) =
            self.moto
                .aws_request("ec2", "GET", &format!("/?{query}&Version=2016-11-15"), "")?;
        if status != 200 {
            return Err(io::Error::other(format!("ec2 {query}: {status} {body}")));
        }
        Ok(body)
    }

    /// One Route53 REST call, returning the XML body of a 2xx answer.
    fn route53(&self, method: &str, path: &str, body: &str) -> io::Result<String> {
        let (status, answer) = self.moto.aws_request("route53", method, path, body)?;
        if !(200..300).contains(&status) {
            return Err(io::Error::other(format!(
                "route53 {method} {path}: {status} {answer}"
            )));
        }
        Ok(answer)
    }

    /// Ids of the environment's instances that are not terminated.
    pub fn instance_ids(&self, env: &str) -> io::Result<Vec<String>> {
        self.live_instances(&[("tag:carto-env", env)])
    }

    /// Ids of the instances that are not terminated and match every `(filter, value)`.
    fn live_instances(&self, tags: &[(&str, &str)]) -> io::Result<Vec<String>> {
        let mut query = format!("Action=DescribeInstances{}", filters(tags));
        let n = tags.len() + 1;
        query.push_str(&format!("&Filter.{n}.Name=instance-state-name"));
        for (i, state) in LIVE_STATES.iter().enumerate() {
            query.push_str(&format!("&Filter.{n}.Value.{}={state}", i + 1));
        }
        Ok(tag_values(&self.ec2(&query)?, "instanceId"))
    }

    /// The user-data an instance was launched with, decoded.
    pub fn user_data(&self, instance_id: &str) -> io::Result<String> {
        let xml = self.ec2(&format!(
            "Action=DescribeInstanceAttribute&InstanceId={instance_id}&Attribute=userData"
        ))?;
        let encoded = tag_values(&xml, "value")
            .into_iter()
            .next()
            .ok_or_else(|| io::Error::other(format!("no userData in {xml}")))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(io::Error::other)?;
        String::from_utf8(bytes).map_err(io::Error::other)
    }

    /// Waits until the environment's instance exists and returns its user-data.
    pub fn wait_user_data(&self, env: &str, timeout: Duration) -> io::Result<String> {
        let start = Instant::now();
        loop {
            if let Some(id) = self.instance_ids(env)?.first() {
                return self.user_data(id);
            }
            if start.elapsed() > timeout {
                return Err(io::Error::other(format!(
                    "no instance of environment {env} after {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Sets tag `key=value` on EC2 resources `ids` (e.g. to make an environment look older).
    pub fn set_tag(&self, ids: &[&str], key: &str, value: &str) -> io::Result<()> {
        let mut query = "Action=CreateTags".to_string();
        for (i, id) in ids.iter().enumerate() {
            query.push_str(&format!("&ResourceId.{}={id}", i + 1));
        }
        query.push_str(&format!("&Tag.1.Key={key}&Tag.1.Value={value}"));
        self.ec2(&query).map(drop)
    }

    /// Creates a security group in the default VPC with tags `tags` and returns its id.
    pub fn create_security_group(&self, name: &str, tags: &[(&str, &str)]) -> io::Result<String> {
        let mut query = format!(
            "Action=CreateSecurityGroup&GroupName={name}&GroupDescription=test&TagSpecification.1.ResourceType=security-group"
        );
        for (i, (k, v)) in tags.iter().enumerate() {
            query.push_str(&format!(
                "&TagSpecification.1.Tag.{n}.Key={k}&TagSpecification.1.Tag.{n}.Value={v}",
                n = i + 1
            ));
        }
        let xml = self.ec2(&query)?;
        tag_values(&xml, "groupId")
            .into_iter()
            .next()
            .ok_or_else(|| io::Error::other(format!("CreateSecurityGroup answered {xml}")))
    }

    /// Every EC2 resource tagged `carto-env=env`: instances not terminated, security groups,
    /// Elastic IPs, key pairs, volumes. Each entry is `kind id`.
    pub fn tagged(&self, env: &str) -> io::Result<Vec<String>> {
        let found = self.tagged_with(&[("tag:carto-env", env)])?;
        Ok(found
            .into_iter()
            .map(|(kind, id)| format!("{kind} {id}"))
            .collect())
    }

    /// Every EC2 resource carrying both `managed-by=carto-provision` and `carto-env=env`, as
    /// `(kind, id)`; kinds as in [`LocalAws::tagged`].
    pub fn managed(&self, env: &str) -> io::Result<Vec<(&'static str, String)>> {
        self.tagged_with(&[MANAGED_BY, ("tag:carto-env", env)])
    }

    /// Every managed EC2 resource of `env` that carries the tag `key` (any value).
    pub fn managed_with_key(
        &self,
        env: &str,
        key: &str,
    ) -> io::Result<Vec<(&'static str, String)>> {
        self.tagged_with(&[MANAGED_BY, ("tag:carto-env", env), ("tag-key", key)])
    }

    /// Every EC2 resource matching all `(filter, value)` pairs, as `(kind, id)`.
    fn tagged_with(&self, tags: &[(&str, &str)]) -> io::Result<Vec<(&'static str, String)>> {
        let mut found: Vec<(&'static str, String)> = self
            .live_instances(tags)?
            .into_iter()
            .map(|id| ("instance", id))
            .collect();
        let filter = filters(tags);
        for (action, id_tag, kind) in [
            ("DescribeSecurityGroups", "groupId", "security-group"),
            ("DescribeAddresses", "allocationId", "address"),
            ("DescribeKeyPairs", "keyPairId", "key-pair"),
            ("DescribeVolumes", "volumeId", "volume"),
        ] {
            let mut ids = tag_values(&self.ec2(&format!("Action={action}{filter}"))?, id_tag);
            // A volume's id appears again in its attachment: count each once.
            ids.dedup();
            found.extend(ids.into_iter().map(|id| (kind, id)));
        }
        Ok(found)
    }

    /// The record sets of a zone (`/hostedzone/…` or the bare id), every page.
    pub fn records(&self, zone_id: &str) -> io::Result<Vec<RecordSet>> {
        let id = zone_id.trim_start_matches("/hostedzone/");
        let mut out = Vec::new();
        let mut from = String::new();
        loop {
            let path = format!("/2013-04-01/hostedzone/{id}/rrset{from}");
            let xml = self.route53("GET", &path, "")?;
            let sets = xml.split("<ResourceRecordSets>").nth(1).unwrap_or(&xml);
            out.extend(tag_values(sets, "ResourceRecordSet").iter().map(|set| {
                let first = |tag| tag_values(set, tag).into_iter().next().unwrap_or_default();
                RecordSet {
                    name: first("Name"),
                    kind: first("Type"),
                    values: tag_values(set, "Value"),
                }
            }));
            let next = |tag| tag_values(&xml, tag).into_iter().next();
            match (
                next("IsTruncated").as_deref(),
                next("NextRecordName"),
                next("NextRecordType"),
            ) {
                (Some("true"), Some(name), Some(kind)) => {
                    from = format!("?name={name}&type={kind}")
                }
                _ => return Ok(out),
            }
        }
    }

    /// The A records of a zone as `(name, value)`, one pair per value.
    pub fn a_records(&self, zone_id: &str) -> io::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for set in self.records(zone_id)?.into_iter().filter(|s| s.kind == "A") {
            out.extend(set.values.into_iter().map(|v| (set.name.clone(), v)));
        }
        Ok(out)
    }

    /// What exists in moto now, with the record sets of `zone_id`.
    pub fn counts(&self, zone_id: &str) -> io::Result<Counts> {
        let groups = self.ec2("Action=DescribeSecurityGroups")?;
        let count = |action: &str, id_tag: &str| -> io::Result<usize> {
            Ok(tag_values(&self.ec2(&format!("Action={action}"))?, id_tag).len())
        };
        Ok(Counts {
            instances: self.live_instances(&[])?.len(),
            security_groups: tag_values(&groups, "groupName")
                .iter()
                .filter(|n| *n != "default")
                .count(),
            addresses: count("DescribeAddresses", "allocationId")?,
            key_pairs: count("DescribeKeyPairs", "keyPairId")?,
            records: self
                .records(zone_id)?
                .iter()
                .filter(|s| s.kind != "NS" && s.kind != "SOA")
                .count(),
        })
    }
}

/// `&Filter.N.Name=…&Filter.N.Value.1=…` for each `(name, value)`, numbered from 1.
fn filters(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .enumerate()
        .map(|(i, (name, value))| {
            format!(
                "&Filter.{n}.Name={name}&Filter.{n}.Value.1={value}",
                n = i + 1
            )
        })
        .collect()
}

/// Every text between `<tag>` and `</tag>` in `xml`, in order (flat, no nesting).
pub fn tag_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        rest = &rest[i + open.len()..];
        match rest.find(&close) {
            Some(j) => {
                out.push(rest[..j].to_string());
                rest = &rest[j + close.len()..];
            }
            None => break,
        }
    }
    out
}
