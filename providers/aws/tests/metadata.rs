//! `forget_user_data` against moto: the instance's metadata service ends IMDSv2-only with a
//! response hop limit of 1, whatever it was before, and a second call changes nothing.

use std::net::Ipv4Addr;

use aws_sdk_ec2::types::{HttpTokensState, InstanceMetadataOptionsResponse};
use carto_core::Provider;

use crate::common::{self, Env, spec};

const VM_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 78);

async fn options(env: &Env, id: &str) -> InstanceMetadataOptionsResponse {
    let out = env
        .ec2
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .expect("describe instances");
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id))
        .and_then(|i| i.metadata_options())
        .cloned()
        .expect("instance with metadata options")
}

#[tokio::test]
async fn forget_user_data_sets_hop_limit_1_and_requires_tokens() {
    let env = common::start(VM_IP).await;
    env.create_zone("example.com.").await;
    let s = spec("imds", "carto.example.com");
    let p = &env.provider;
    let resolved = p.preflight(&s).await.expect("preflight");
    p.ensure_ssh_key(&s, &resolved).await.expect("key");
    let sg = p.ensure_firewall(&s, &resolved).await.expect("firewall");
    let address = p.ensure_address(&s, &resolved).await.expect("address");
    let vm = p.ensure_vm(&s, &resolved, &sg, &address).await.expect("vm");
    // As an AMI or an operator may leave it: reachable from containers, tokens optional.
    env.ec2
        .modify_instance_metadata_options()
        .instance_id(&vm.id)
        .http_put_response_hop_limit(2)
        .http_tokens(HttpTokensState::Optional)
        .send()
        .await
        .expect("loosen metadata options");
    let before = options(&env, &vm.id).await;
    assert_eq!(before.http_put_response_hop_limit(), Some(2), "{before:?}");

    for _ in 0..2 {
        p.forget_user_data(&vm).await.expect("forget user-data");
        let after = options(&env, &vm.id).await;
        assert_eq!(after.http_put_response_hop_limit(), Some(1), "{after:?}");
        assert_eq!(after.http_tokens(), Some(&HttpTokensState::Required));
        assert_eq!(
            after.http_endpoint().map(|e| e.as_str()),
            Some("enabled"),
            "the endpoint stays on for cloud-init"
        );
    }
}
