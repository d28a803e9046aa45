//! Bad input refused by preflight with one sentence naming the flag, and nothing created.

use carto_core::{ErrorKind, Profile, Provider};

use crate::common::{self, spec};

/// Runs preflight on `s` against `env`'s fake and returns the error text.
async fn refused(
    env: &common::Env,
    provider: &carto_gcp::GcpProvider,
    s: &carto_core::InfraSpec,
) -> String {
    let err = provider.preflight(s).await.expect_err("preflight refuses");
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
    let inserts = env.inserts();
    assert_eq!(inserts, 0, "preflight created something");
    err.to_string()
}

#[tokio::test]
async fn bad_inputs_are_refused_before_anything_exists() {
    let env = common::start().await;
    let p = &env.provider;

    let mut s = spec("pre", "carto.example.com");
    s.region = "mars-north1-a".into();
    let e = refused(&env, p, &s).await;
    assert!(e.starts_with("zone mars-north1-a"), "{e}");

    let mut s = spec("pre", "carto.example.com");
    s.machine_type = Some("e2-small".into());
    s.profile = Profile::Min;
    let e = refused(&env, p, &s).await;
    assert!(
        e.starts_with("machine type e2-small") && e.contains("needs at least 4 vCPUs and 16 GiB"),
        "{e}"
    );

    let mut s = spec("pre", "carto.example.com");
    s.machine_type = Some("t2a-standard-8".into());
    s.profile = Profile::Min;
    let e = refused(&env, p, &s).await;
    assert!(
        e.starts_with("machine type t2a-standard-8") && e.contains("x86"),
        "{e}"
    );

    let mut s = spec("pre", "carto.example.com");
    s.machine_type = Some("no-such-type".into());
    s.profile = Profile::Min;
    let e = refused(&env, p, &s).await;
    assert!(
        e.starts_with("machine type no-such-type") && e.contains("does not exist"),
        "{e}"
    );

    let mut s = spec("pre", "carto.example.com");
    s.disk_type = Some("pd-standard".into());
    let e = refused(&env, p, &s).await;
    assert!(
        e.starts_with("disk type pd-standard") && e.contains("SSD"),
        "{e}"
    );

    let s = spec("pre", "carto.nozone.test");
    let e = refused(&env, p, &s).await;
    assert!(
        e.contains("domain carto.nozone.test") && e.contains("managed zone"),
        "{e}"
    );

    let mut s = spec("pre", "carto.example.com");
    s.dns_zone = Some("sub-zone".into());
    let e = refused(&env, p, &s).await;
    assert!(
        e.starts_with("domain carto.example.com is not inside DNS zone sub-zone"),
        "{e}"
    );

    // A user-chosen x86 type that is big enough passes; so does pd-balanced.
    let mut s = spec("pre", "carto.example.com");
    s.machine_type = Some("e2-standard-4".into());
    s.profile = Profile::Min;
    s.disk_type = Some("pd-balanced".into());
    let resolved = p.preflight(&s).await.expect("preflight passes");
    assert_eq!(
        (resolved.size.vcpus, resolved.disk_type.as_str()),
        (4, "pd-balanced")
    );
    assert_eq!(env.inserts(), 0);
}

#[tokio::test]
async fn unknown_project_is_refused() {
    let env = common::start().await;
    let other = common::provider_at(&env.fake.url(), Some("nobodys-proj")).await;
    let e = refused(&env, &other, &spec("pre", "carto.example.com")).await;
    assert!(e.starts_with("project nobodys-proj"), "{e}");
}
