//! The environment's EC2 key pair `carto-NAME-key`: imported from the environment's public
//! key (tagged at import), reused when it holds the same key, a conflict when it holds another;
//! deleted by name.

use aws_sdk_ec2::primitives::{Blob, DateTimeFormat};
use aws_sdk_ec2::types::{KeyPairInfo, ResourceType};
use carto_core::OrAbsent;
use carto_core::{
    EnvName, ErrorKind, InfraSpec, ProviderError, ResourceKind, ResourceRef, Result, TaggedResource,
};

use crate::config::Clients;
use crate::send::send;
use crate::tags;

/// The environment's key pair's name: `carto-ENV-key`.
pub fn name(env: &EnvName) -> String {
    env.resource("key")
}

/// Imports the environment's public key as `carto-NAME-key`, or finds it. A key pair of that
/// name holding a different key is a conflict (the local key was lost or replaced).
pub async fn ensure_key_pair(clients: &Clients, spec: &InfraSpec) -> Result<ResourceRef> {
    let region = spec.region.as_str();
    let name = name(&spec.env);
    if let Some(found) = find_key(clients, region, &name).await? {
        return reuse_key(&found, spec, &name);
    }
    let ec2 = clients.ec2(region);
    let out = send(&clients.policy, "ec2:ImportKeyPair", || {
        ec2.import_key_pair()
            .key_name(&name)
            .public_key_material(Blob::new(spec.ssh_public_key.trim().as_bytes()))
            .tag_specifications(tags::spec(ResourceType::KeyPair, spec, &name, &[]))
            .send()
    })
    .await;
    match out {
        Ok(out) => {
            let id = out.key_pair_id().unwrap_or(&name).to_string();
            Ok(ResourceRef::new(ResourceKind::SshKey, id, name, region))
        }
        // Imported by a concurrent run between our lookup and import: check it holds our key.
        Err(e) if e.code.as_deref() == Some("InvalidKeyPair.Duplicate") => {
            match find_key(clients, region, &name).await? {
                Some(found) => reuse_key(&found, spec, &name),
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// The existing key pair as this environment's, unless it holds a different key.
fn reuse_key(found: &KeyPairInfo, spec: &InfraSpec, name: &str) -> Result<ResourceRef> {
    if let Some(existing) = found.public_key()
        && key_body(existing) != key_body(&spec.ssh_public_key)
    {
        return Err(ProviderError::new(
            ErrorKind::Conflict,
            "ec2:DescribeKeyPairs",
            format!(
                "key pair {name} in {} holds a different public key than this environment's; hint: destroy environment {} or delete the key pair",
                spec.region, spec.env
            ),
        ));
    }
    let id = found.key_pair_id().unwrap_or(name);
    Ok(ResourceRef::new(
        ResourceKind::SshKey,
        id,
        name,
        &spec.region,
    ))
}

/// The key pair holding the environment's name, whoever made it.
pub async fn find_named(clients: &Clients, spec: &InfraSpec) -> Result<Option<TaggedResource>> {
    let (region, name) = (spec.region.as_str(), name(&spec.env));
    Ok(find_key(clients, region, &name).await?.map(|k| {
        let id = k.key_pair_id().unwrap_or(&name);
        let resource = ResourceRef::new(ResourceKind::SshKey, id, &name, region);
        tags::tagged(resource, k.tags(), None)
    }))
}

async fn find_key(clients: &Clients, region: &str, name: &str) -> Result<Option<KeyPairInfo>> {
    let ec2 = clients.ec2(region);
    let out = send(&clients.policy, "ec2:DescribeKeyPairs", || {
        ec2.describe_key_pairs()
            .key_names(name)
            .include_public_key(true)
            .send()
    })
    .await;
    Ok(out
        .or_absent()?
        .and_then(|out| out.key_pairs().first().cloned()))
}

/// The type and base64 body of an OpenSSH public key, without its comment.
fn key_body(key: &str) -> String {
    key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// Deletes the key pair by name. Not found is success.
pub async fn delete_key_pair(clients: &Clients, resource: &ResourceRef) -> Result<()> {
    let ec2 = clients.ec2(&resource.region);
    let out = send(&clients.policy, "ec2:DeleteKeyPair", || {
        ec2.delete_key_pair().key_name(&resource.name).send()
    })
    .await;
    out.or_absent().map(drop)
}

/// Key pairs tagged by this tool (in `env` when given), with their creation time.
pub async fn list_tagged(
    clients: &Clients,
    region: &str,
    env: Option<&EnvName>,
) -> Result<Vec<TaggedResource>> {
    let ec2 = clients.ec2(region);
    let mut found = Vec::new();
    let keys = send(&clients.policy, "ec2:DescribeKeyPairs", || {
        ec2.describe_key_pairs()
            .set_filters(Some(tags::filters(env)))
            .send()
    })
    .await?;
    for k in keys.key_pairs() {
        let Some(name) = k.key_name() else { continue };
        let launched = k
            .create_time()
            .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok());
        let resource = ResourceRef::new(
            ResourceKind::SshKey,
            k.key_pair_id().unwrap_or(name),
            name,
            region,
        );
        found.push(tags::tagged(resource, k.tags(), launched));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_body_ignores_comment_and_spacing() {
        assert_eq!(key_body("ssh-ed25519 AAAA me@host\n"), "ssh-ed25519 AAAA");
        assert_eq!(
            key_body("  ssh-ed25519   AAAA"),
            key_body("ssh-ed25519 AAAA other")
        );
        assert_ne!(key_body("ssh-ed25519 AAAA"), key_body("ssh-ed25519 BBBB"));
    }
}
