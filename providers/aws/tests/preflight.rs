//! Preflight against moto: what it resolves (AMI via SSM, instance size, zone by longest
//! suffix) and the one-sentence InvalidInput errors for bad input, with nothing created.

use std::net::Ipv4Addr;

use carto_core::{ErrorKind, Provider, ProviderError};

use crate::common::{self, Env, spec};
use carto_harness::proxy::{Fault, FaultProxy};

const JAMMY_AMI: &str = "ami-0c0ffee0jammy0001";

async fn with_zones() -> Env {
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    env.create_zone("example.com.").await;
    env.create_zone("sub.example.com.").await;
    env.create_zone("other.com.").await;
    env
}

#[tokio::test]
async fn resolves_ami_size_and_longest_suffix_zone() {
    let env = with_zones().await;
    let resolved = env
        .provider
        .preflight(&spec("pf-ok", "carto.sub.example.com"))
        .await
        .expect("preflight passes");
    assert_eq!(resolved.image, JAMMY_AMI);
    assert!(
        resolved.image_name.contains("ubuntu-jammy-22.04-amd64"),
        "{}",
        resolved.image_name
    );
    assert_eq!(resolved.machine_type, "m6i.2xlarge");
    assert_eq!(
        (resolved.size.vcpus, resolved.size.memory_mib),
        (8, 32 * 1024)
    );
    assert_eq!(resolved.dns_zone_name, "sub.example.com.");
    assert_eq!((resolved.disk_type.as_str(), resolved.disk_gb), ("gp3", 60));
    assert_eq!(resolved.ssh_user, "ubuntu");

    // The parent zone is picked for a name outside the sub zone; other.com never is.
    let parent = env
        .provider
        .preflight(&spec("pf-ok", "carto.example.com"))
        .await
        .expect("preflight passes");
    assert_eq!(parent.dns_zone_name, "example.com.");

    // --dns-zone by name picks that zone even when a longer suffix exists.
    let mut named = spec("pf-ok", "carto.sub.example.com");
    named.dns_zone = Some("example.com".into());
    named.profile = carto_core::Profile::Min;
    let resolved = env.provider.preflight(&named).await.expect("named zone");
    assert_eq!(resolved.dns_zone_name, "example.com.");
    assert_eq!(resolved.machine_type, "m6i.xlarge");
    assert_eq!(
        env.counts().await,
        (0, 0, 0, 0),
        "preflight created something"
    );
}

async fn refused(env: &Env, mutate: impl FnOnce(&mut carto_core::InfraSpec)) -> ProviderError {
    let mut s = spec("pf-bad", "carto.sub.example.com");
    mutate(&mut s);
    let err = env
        .provider
        .preflight(&s)
        .await
        .expect_err("preflight refuses");
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
    err
}

#[tokio::test]
async fn bad_inputs_get_one_sentence_and_create_nothing() {
    let env = with_zones().await;

    let e = refused(&env, |s| s.region = "xx-nowhere-1".into()).await;
    assert!(
        e.to_string()
            .starts_with("region xx-nowhere-1 is not an AWS region this account can use; hint:"),
        "{e}"
    );

    let e = refused(&env, |s| s.machine_type = Some("t3.medium".into())).await;
    assert_eq!(
        e.to_string(),
        "instance type t3.medium has 2 vCPUs and 4 GiB; the default profile needs at least 8 vCPUs and 32 GiB: choose m6i.2xlarge or larger"
    );

    let e = refused(&env, |s| s.machine_type = Some("m7g.2xlarge".into())).await;
    assert!(
        e.to_string()
            .starts_with("instance type m7g.2xlarge is arm64"),
        "{e}"
    );
    assert!(e.to_string().contains("needs x86_64"), "{e}");

    let e = refused(&env, |s| s.machine_type = Some("m6i.nonsense".into())).await;
    assert!(
        e.to_string()
            .starts_with("instance type m6i.nonsense is not an EC2 instance type"),
        "{e}"
    );

    let e = refused(&env, |s| s.disk_gb = 59).await;
    assert!(
        e.to_string()
            .starts_with("disk size (GB) 59 is below the 60 GB"),
        "{e}"
    );

    let e = refused(&env, |s| s.domain = "carto.example.org".into()).await;
    assert!(
        e.to_string().contains("domain carto.example.org") && e.to_string().contains("DNS zone"),
        "{e}"
    );

    let e = refused(&env, |s| s.dns_zone = Some("other.com".into())).await;
    assert!(
        e.to_string().contains("is not inside DNS zone other.com"),
        "{e}"
    );

    assert_eq!(
        env.counts().await,
        (0, 0, 0, 0),
        "a refused preflight created something"
    );
}

#[tokio::test]
async fn ami_from_ssm_parameter_else_canonical_image_search() {
    let env = with_zones().await;
    let s = spec("pf-ami", "carto.sub.example.com");

    let plain = FaultProxy::start(env.moto.port, vec![]);
    let resolved = common::provider_at(&plain.endpoint())
        .await
        .preflight(&s)
        .await
        .expect("preflight via SSM");
    assert_eq!(resolved.image, JAMMY_AMI);
    assert_eq!(plain.calls("GetParameter"), 1);

    // The parameter missing in a region (or hidden by a policy): found by owner and name.
    let hidden = FaultProxy::start(
        env.moto.port,
        vec![Fault {
            action: "GetParameter",
            code: "ParameterNotFound",
            status: 400,
            times: usize::MAX,
        }],
    );
    let resolved = common::provider_at(&hidden.endpoint())
        .await
        .preflight(&s)
        .await
        .expect("preflight via DescribeImages");
    assert_eq!(resolved.image, JAMMY_AMI);
    assert_eq!(
        resolved.image_name,
        "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250101"
    );
    assert_eq!(hidden.calls("GetParameter"), 1, "not-found is not retried");
    assert_eq!(hidden.calls("DescribeImages"), 1);
}
