//! Faults moto cannot produce, injected by the test proxy: throttling is retried until the
//! call succeeds or the attempts run out (and then says so); a security group still in use
//! (`DependencyViolation`) is retried until it can be deleted.

use std::net::Ipv4Addr;
use std::time::Duration;

use carto_core::{ErrorKind, Provider};

use crate::common::{self, spec};
use carto_harness::proxy::{Fault, FaultProxy};

fn throttle(action: &'static str, times: usize) -> Fault {
    Fault {
        action,
        code: "RequestLimitExceeded",
        status: 503,
        times,
    }
}

#[tokio::test]
async fn throttling_is_retried_then_reported_with_the_attempt_count() {
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    env.create_zone("example.com.").await;
    let proxy = FaultProxy::start(
        env.moto.port,
        vec![
            throttle("DescribeRegions", 3),
            throttle("DescribeInstanceTypes", 1000),
        ],
    );
    let provider = common::provider_at(&proxy.endpoint()).await;
    let err = provider
        .preflight(&spec("throttled", "carto.example.com"))
        .await
        .expect_err("instance types stay throttled");
    // DescribeRegions got through on its fourth try; DescribeInstanceTypes never did.
    assert_eq!(proxy.calls("DescribeRegions"), 4);
    assert_eq!(err.kind, ErrorKind::Throttled, "{err}");
    assert_eq!(err.code.as_deref(), Some("RequestLimitExceeded"));
    assert_eq!(err.call, "ec2:DescribeInstanceTypes");
    let attempts = common::fast_retry().max_attempts as usize;
    assert!(attempts >= 10);
    assert_eq!(proxy.calls("DescribeInstanceTypes"), attempts);
    assert!(
        err.message
            .contains(&format!("gave up after {attempts} attempts")),
        "{err}"
    );
    assert!(err.to_string().contains("[request id proxy-"), "{err}");
}

#[tokio::test]
async fn security_group_delete_waits_out_dependency_violation() {
    let env = common::start(Ipv4Addr::new(127, 0, 0, 2)).await;
    env.create_zone("example.com.").await;
    let proxy = FaultProxy::start(
        env.moto.port,
        vec![Fault {
            action: "DeleteSecurityGroup",
            code: "DependencyViolation",
            status: 400,
            times: 3,
        }],
    );
    let provider = common::provider_at(&proxy.endpoint()).await;
    let s = spec("depviol", "carto.example.com");
    let resolved = provider.preflight(&s).await.expect("preflight");
    let sg = provider
        .ensure_firewall(&s, &resolved)
        .await
        .expect("firewall")
        .remove(0);
    provider
        .delete(&sg, Duration::from_secs(60))
        .await
        .expect("deleted once the dependency is gone");
    assert_eq!(proxy.calls("DeleteSecurityGroup"), 4);
    assert_eq!(env.counts().await.1, 0, "security group still there");
}
