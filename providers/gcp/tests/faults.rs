//! Throttling and failed operations: 429/503 answers are retried with backoff (the retries
//! are visible in the fake's log and create nothing twice); an operation that ends with an
//! error is surfaced verbatim with its kind.

use carto_core::{ErrorKind, Provider};

use crate::common::{self, spec};

#[tokio::test]
async fn throttling_is_retried_and_creates_once() {
    let env = common::start().await;
    let state = env.fake.state();
    let s = spec("slow", "carto.example.com");
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    state.inject_fault("compute.networks.insert", 429, 1);
    state.inject_fault("compute.subnetworks.get", 503, 1);
    let network = env.provider.ensure_network(&s, &resolved).await;
    assert_eq!(network.expect("network").len(), 1);
    let subnet = env.provider.ensure_subnet(&s, &resolved).await;
    assert_eq!(subnet.expect("subnet").len(), 1);
    state.inject_fault("compute.addresses.insert", 429, 2);
    state.inject_fault("compute.regionOperations.get", 503, 1);
    state.inject_fault("compute.firewalls.get", 503, 2);
    state.inject_fault("dns.changes.create", 429, 1);
    let address = env
        .provider
        .ensure_address(&s, &resolved)
        .await
        .expect("address");
    let firewall = env
        .provider
        .ensure_firewall(&s, &resolved)
        .await
        .expect("firewall");
    assert_eq!(firewall.len(), 3);
    env.provider
        .ensure_dns_record(
            &s,
            &resolved,
            &address,
            &[],
            std::time::Duration::from_secs(30),
        )
        .await
        .expect("dns");
    let statuses = |method: &str| -> Vec<u16> {
        state
            .requests()
            .iter()
            .filter(|r| r.method_id.as_deref() == Some(method))
            .map(|r| r.status)
            .collect()
    };
    assert_eq!(statuses("compute.networks.insert"), [429, 200]);
    assert!(statuses("compute.subnetworks.get").starts_with(&[503, 404]));
    assert_eq!(env.resources("subnetworks").len(), 1);
    assert_eq!(statuses("compute.addresses.insert"), [429, 429, 200]);
    assert_eq!(statuses("dns.changes.create"), [429, 200]);
    assert!(statuses("compute.firewalls.get").starts_with(&[503, 503, 404]));
    assert_eq!(env.resources("addresses").len(), 1);
    assert_eq!(env.rules().len(), 3);
}

/// Compute refuses an insert into a network another operation is still changing (400
/// `resourceNotReady`): the subnetwork and the firewall rules, made at once, are retried until
/// it is ready, and each exists once.
#[tokio::test]
async fn an_insert_into_a_network_not_ready_is_retried() {
    let env = common::start().await;
    let state = env.fake.state();
    let s = spec("busy", "carto.example.com");
    let p = &env.provider;
    let resolved = p.preflight(&s).await.expect("preflight");
    p.ensure_network(&s, &resolved).await.expect("network");
    state.inject_not_ready("compute.subnetworks.insert", 1);
    state.inject_not_ready("compute.firewalls.insert", 2);
    let (subnet, firewall) = tokio::join!(
        p.ensure_subnet(&s, &resolved),
        p.ensure_firewall(&s, &resolved)
    );
    assert_eq!(subnet.expect("subnet").len(), 1);
    assert_eq!(firewall.expect("firewall").len(), 3);
    assert_eq!(env.resources("subnetworks").len(), 1);
    let rules: Vec<String> = env
        .resources("firewalls")
        .iter()
        .filter_map(|f| f["name"].as_str().map(String::from))
        .filter(|n| n.starts_with("carto-busy-"))
        .collect();
    assert_eq!(rules.len(), 3, "{rules:?}");
    let refused = state.requests().iter().filter(|r| r.status == 400).count();
    assert_eq!(refused, 3);
}

#[tokio::test]
async fn throttling_past_the_limit_says_so() {
    let env = common::start().await;
    let s = spec("slower", "carto.example.com");
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    env.fake
        .state()
        .inject_fault("compute.addresses.get", 429, 1000);
    let err = env
        .provider
        .ensure_address(&s, &resolved)
        .await
        .expect_err("gives up");
    assert_eq!(err.kind, ErrorKind::Throttled, "{err}");
    assert_eq!(err.code.as_deref(), Some("rateLimitExceeded"));
    assert!(err.message.contains("gave up after 12 attempts"), "{err}");
    assert_eq!(env.calls("compute.addresses.get"), 12);
}

#[tokio::test]
async fn a_failed_operation_is_an_error_with_its_message() {
    let env = common::start().await;
    let s = spec("quota", "carto.example.com");
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    env.fake.state().fail_next_operation(
        "compute.addresses.insert",
        403,
        "QUOTA_EXCEEDED",
        "Quota 'STATIC_ADDRESSES' exceeded.  Limit: 8.0 in region us-central1.",
    );
    let err = env
        .provider
        .ensure_address(&s, &resolved)
        .await
        .expect_err("operation failed");
    assert_eq!(err.kind, ErrorKind::Quota, "{err}");
    assert_eq!(err.code.as_deref(), Some("QUOTA_EXCEEDED"));
    assert!(
        err.to_string()
            .contains("Quota 'STATIC_ADDRESSES' exceeded.  Limit: 8.0 in region us-central1."),
        "{err}"
    );
    assert!(env.resources("addresses").is_empty());
}
