//! Renders the cloud-init user-data the VM boots with, from `cloud-init/user-data.yaml`.
//!
//! The only values substituted are the SSH user, the environment's public key, the VM's host
//! key pair (made locally so the host key is pinned before the VM exists) and the script that
//! installs Docker during boot (`pipeline::bootstrap::boot_script`). Each value is
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
    /// The shell script cloud-init runs as root once the VM booted: installs Docker.
    pub docker_script: &'a str,
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
            .replace("{{docker_script}}", &quote(self.docker_script))
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
            docker_script: "echo \"docker\" 'here'\nexit 0\n",
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
        assert!(doc.contains("  - [bash, -c, \"echo \\\"docker\\\" 'here'\\nexit 0\\n\"]\n"));
    }

    /// The whole document, as the VM gets it (every Docker source), is valid cloud-config to
    /// cloud-init itself, and its `runcmd` is exactly the bootstrap's boot script.
    #[test]
    fn the_user_data_is_valid_cloud_config_running_the_docker_script() {
        use crate::remote::DockerSource;
        let dir = tempfile::tempdir().expect("tempdir");
        let keys =
            crate::keys::EnvKeys::ensure(&dir.path().join("ssh"), &dir.path().join("host"), "env")
                .expect("keys");
        for source in [
            DockerSource::Distro,
            DockerSource::DistroV1,
            DockerSource::Docker,
        ] {
            let script =
                crate::pipeline::bootstrap::boot_script(source, "https://docker-apt.invalid/x");
            let doc = UserData {
                ssh_user: "ubuntu",
                authorized_key: &keys.ssh_public(),
                host_key_private: &keys.host_private_pem(),
                host_key_public: &keys.host_public(),
                docker_script: &script,
            }
            .render();
            // AWS takes at most 16 KB of user-data (Azure 64 KB, GCP's metadata 256 KB).
            assert!(doc.len() < 16 * 1024, "{source:?}: {} bytes", doc.len());
            let file = dir.path().join("user-data");
            std::fs::write(&file, &doc).expect("write");
            let schema = std::process::Command::new("cloud-init")
                .args(["schema", "--config-file"])
                .arg(&file)
                .output()
                .expect("cloud-init (host package, installed by .ci/install) runs");
            assert!(
                schema.status.success(),
                "{source:?}: {}{}",
                String::from_utf8_lossy(&schema.stdout),
                String::from_utf8_lossy(&schema.stderr)
            );
            // The interpreter cloud-init itself runs with, which has its YAML module.
            let runcmd = std::process::Command::new("/usr/bin/python3")
                .arg("-c")
                .arg("import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))['runcmd']))")
                .arg(&file)
                .output()
                .expect("cloud-init's python3 runs");
            let runcmd: serde_json::Value =
                serde_json::from_slice(&runcmd.stdout).expect("runcmd as JSON");
            assert_eq!(
                runcmd,
                serde_json::json!([["bash", "-c", script]]),
                "{source:?}"
            );
        }
    }
}
