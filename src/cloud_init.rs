//! Renders the cloud-init user-data the VM boots with, from `cloud-init/user-data.yaml`.
//!
//! The only values substituted are the SSH user, the environment's public key and the VM's
//! host key pair (made locally so the host key is pinned before the VM exists). Each value is
//! written as a JSON string, which YAML reads as a double-quoted scalar, so no value can break
//! the document. Customer secrets never pass through here.

use serde::Serialize;

const TEMPLATE: &str = include_str!("../cloud-init/user-data.yaml");

/// The values the template takes.
#[derive(Serialize)]
pub struct UserData<'a> {
    /// Login user created on the VM.
    pub ssh_user: &'a str,
    /// The environment's SSH public key (OpenSSH one-line form).
    pub authorized_key: &'a str,
    /// The VM's ed25519 host private key (OpenSSH PEM).
    pub host_key_private: &'a str,
    /// The VM's ed25519 host public key (OpenSSH one-line form).
    pub host_key_public: &'a str,
}

impl UserData<'_> {
    /// The user-data document.
    pub fn render(&self) -> String {
        let line = |s: &str| quote(s.trim_end());
        // A PEM key keeps its final newline: OpenSSH refuses a private key file without one.
        let pem = |s: &str| quote(&format!("{}\n", s.trim_end()));
        TEMPLATE
            .replace("{{ssh_user}}", &line(self.ssh_user))
            .replace("{{authorized_key}}", &line(self.authorized_key))
            .replace("{{host_key_private}}", &pem(self.host_key_private))
            .replace("{{host_key_public}}", &line(self.host_key_public))
    }
}

fn quote(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_placeholder_quoted() {
        let private =
            "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\"def\n-----END OPENSSH PRIVATE KEY-----\n";
        let doc = UserData {
            ssh_user: "ubuntu",
            authorized_key: "ssh-ed25519 AAAAC3Nza user@env",
            host_key_private: private,
            host_key_public: "ssh-ed25519 AAAAhost host@env",
        }
        .render();
        assert!(doc.starts_with("#cloud-config\n"));
        assert!(!doc.contains("{{"), "placeholder left: {doc}");
        assert!(doc.contains("  - name: \"ubuntu\"\n"));
        assert!(doc.contains("      - \"ssh-ed25519 AAAAC3Nza user@env\"\n"));
        assert!(doc.contains(
            "  ed25519_private: \"-----BEGIN OPENSSH PRIVATE KEY-----\\nabc\\\"def\\n-----END OPENSSH PRIVATE KEY-----\\n\"\n"
        ));
        assert!(doc.contains("ssh_genkeytypes: [ed25519]") && doc.contains("ssh_deletekeys: true"));
    }
}
