//! The local emulated AWS as a deployment sees it: moto handing out a test VM's address,
//! a hosted zone, and read-back helpers that talk to moto's own HTTP API (no AWS SDK here):
//! the user-data the CLI sent, and every resource tagged with an environment.
//!
//! `boot_from_user_data` closes the loop a real cloud closes: once the CLI has launched its
//! instance, the test VM boots with exactly the user-data the CLI sent.

use std::io;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use base64::Engine;

use crate::moto::Moto;
use crate::vm::{TestVm, Variant, VmOptions};

/// moto plus the address it hands out.
pub struct LocalAws {
    /// The emulator.
    pub moto: Moto,
    /// The address moto gives every instance and Elastic IP: the test VM's.
    pub vm_ip: Ipv4Addr,
}

impl LocalAws {
    /// Starts moto handing out a fresh test VM address.
    pub fn start() -> io::Result<LocalAws> {
        let vm_ip = TestVm::next_address()?;
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
        let (status, answer) =
            self.moto
                .aws_request("route53", "POST", "/2013-04-01/hostedzone", &body)?;
        if status != 201 && status != 200 {
            return Err(io::Error::other(format!(
                "creating zone {name}: {status} {answer}"
            )));
        }
        tag_values(&answer, "Id")
            .into_iter()
            .next()
            .ok_or_else(|| io::Error::other(format!("no zone id in {answer}")))
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

    /// Ids of the environment's instances that are not terminated.
    pub fn instance_ids(&self, env: &str) -> io::Result<Vec<String>> {
        let xml = self.ec2(&format!(
            "Action=DescribeInstances&Filter.1.Name=tag:carto-env&Filter.1.Value.1={env}&Filter.2.Name=instance-state-name&Filter.2.Value.1=pending&Filter.2.Value.2=running&Filter.2.Value.3=stopped"
        ))?;
        Ok(tag_values(&xml, "instanceId"))
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

    /// Boots a test VM on `vm_ip` from the user-data the environment's instance was launched
    /// with; `extra` is appended to it (a test may add a failing module).
    pub fn boot_from_user_data(
        &self,
        env: &str,
        variant: Variant,
        extra: &str,
    ) -> io::Result<TestVm> {
        let user_data = self.wait_user_data(env, Duration::from_secs(300))?;
        TestVm::boot(VmOptions {
            name: format!("vm-{env}"),
            address: self.vm_ip,
            user_data: format!("{user_data}{extra}"),
            variant,
        })
    }

    /// Every EC2 resource tagged `carto-env=env`: instances not terminated, security groups,
    /// Elastic IPs, key pairs, volumes. Each entry is `kind id`.
    pub fn tagged(&self, env: &str) -> io::Result<Vec<String>> {
        let filter = format!("Filter.1.Name=tag:carto-env&Filter.1.Value.1={env}");
        let mut found: Vec<String> = self
            .instance_ids(env)?
            .into_iter()
            .map(|id| format!("instance {id}"))
            .collect();
        for (action, id_tag, kind) in [
            ("DescribeSecurityGroups", "groupId", "security-group"),
            ("DescribeAddresses", "allocationId", "address"),
            ("DescribeKeyPairs", "keyPairId", "key-pair"),
        ] {
            let xml = self.ec2(&format!("Action={action}&{filter}"))?;
            found.extend(
                tag_values(&xml, id_tag)
                    .into_iter()
                    .map(|id| format!("{kind} {id}")),
            );
        }
        // A volume's id appears again in its attachment: count each once.
        let mut volumes = tag_values(&self.ec2(&format!("Action=DescribeVolumes&{filter}"))?, "volumeId");
        volumes.dedup();
        found.extend(volumes.into_iter().map(|id| format!("volume {id}")));
        Ok(found)
    }

    /// The A records of a zone as `(name, value)`.
    pub fn a_records(&self, zone_id: &str) -> io::Result<Vec<(String, String)>> {
        let id = zone_id.trim_start_matches("/hostedzone/");
        let (_, xml) = self.moto.aws_request(
            "route53",
            "GET",
            &format!("/2013-04-01/hostedzone/{id}/rrset"),
            "",
        )?;
        let mut out = Vec::new();
        for set in xml.split("<ResourceRecordSet>").skip(1) {
            if tag_values(set, "Type").first().map(String::as_str) == Some("A") {
                let name = tag_values(set, "Name")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                for value in tag_values(set, "Value") {
                    out.push((name.clone(), value));
                }
            }
        }
        Ok(out)
    }
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
