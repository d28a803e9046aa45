//! The firewall every environment gets, as data: HTTPS and HTTP from anywhere, SSH from the
//! operator only. Each cloud translates these rules into its own words (security group,
//! firewall rule, NSG); none adds a rule of its own. Port 5447 (router metrics) is never opened.

use serde::{Deserialize, Serialize};

/// Transport protocol of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
}

/// One inbound rule: a port open to a list of source CIDRs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRule {
    /// Short name, used to derive per-rule resource names (`https`, `http`, `ssh`).
    pub name: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Destination port on the VM.
    pub port: u16,
    /// Source CIDRs, IPv4 and IPv6 (`0.0.0.0/0`, `::/0`, `203.0.113.7/32`).
    pub sources: Vec<String>,
}

/// The inbound rules of an environment whose operator connects from `ssh_cidr`.
pub fn firewall_rules(ssh_cidr: &str) -> Vec<FirewallRule> {
    let world = || vec!["0.0.0.0/0".to_string(), "::/0".to_string()];
    vec![
        FirewallRule {
            name: "ssh".into(),
            protocol: Protocol::Tcp,
            port: 22,
            sources: vec![ssh_cidr.to_string()],
        },
        FirewallRule {
            name: "https".into(),
            protocol: Protocol::Tcp,
            port: 443,
            sources: world(),
        },
        FirewallRule {
            name: "http".into(),
            protocol: Protocol::Tcp,
            port: 80,
            sources: world(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_is_operator_only_and_metrics_closed() {
        let rules = firewall_rules("203.0.113.7/32");
        let ssh = rules.iter().find(|r| r.port == 22).unwrap();
        assert_eq!(ssh.sources, ["203.0.113.7/32"]);
        assert!(rules.iter().all(|r| r.port != 5447));
        let mut ports: Vec<u16> = rules.iter().map(|r| r.port).collect();
        ports.sort();
        assert_eq!(ports, [22, 80, 443]);
    }
}
