//! Preflight: every bad input is refused as invalid input naming the flag, and nothing is
//! written to the fake.

use carto_core::{ErrorKind, Profile, Provider};

use crate::common::{fake, provider, provider_for, spec, writes};

#[tokio::test]
async fn good_input_resolves_everything() {
    let fake = fake().await;
    let p = provider(&fake).await;
    let r = p.preflight(&spec("pf-ok")).await.unwrap();
    assert_eq!(r.machine_type, "Standard_D8s_v5");
    assert_eq!((r.size.vcpus, r.size.memory_mib), (8, 32 * 1024));
    assert_eq!(r.disk_type, "Premium_LRS");
    assert_eq!(r.ssh_user, "ubuntu");
    assert_eq!(
        r.image,
        "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202410020"
    );
    assert_eq!(r.dns_zone_name, "test.");
    assert!(
        r.dns_zone_id
            .to_ascii_lowercase()
            .ends_with("/resourcegroups/dns-rg/providers/microsoft.network/dnszones/test"),
        "{}",
        r.dns_zone_id
    );
}

#[tokio::test]
async fn bad_inputs_are_refused_without_writes() {
    let fake = fake().await;
    let p = provider(&fake).await;
    let before = writes(fake.state());
    let cases: Vec<(&str, carto_core::InfraSpec, &str)> = vec![
        (
            "disk",
            {
                let mut s = spec("pf");
                s.disk_gb = 63;
                s
            },
            "disk size (GB) 63",
        ),
        (
            "location",
            {
                let mut s = spec("pf");
                s.region = "marsnorth".into();
                s
            },
            "location marsnorth",
        ),
        (
            "small",
            {
                let mut s = spec("pf");
                s.machine_type = Some("Standard_B2s".into());
                s.profile = Profile::Min;
                s
            },
            "VM size Standard_B2s",
        ),
        (
            "arm",
            {
                let mut s = spec("pf");
                s.machine_type = Some("Standard_D4ps_v5".into());
                s.profile = Profile::Min;
                s
            },
            "Arm64",
        ),
        (
            "unknown size",
            {
                let mut s = spec("pf");
                s.machine_type = Some("Standard_Nope".into());
                s
            },
            "VM size Standard_Nope",
        ),
        (
            "no zone",
            {
                let mut s = spec("pf");
                s.domain = "carto.example.org".into();
                s
            },
            "no Azure DNS zone",
        ),
        (
            "named zone",
            {
                let mut s = spec("pf");
                s.dns_zone = Some("other".into());
                s
            },
            "DNS zone other",
        ),
    ];
    for (what, s, needle) in cases {
        let e = p.preflight(&s).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{what}: {e}");
        assert!(e.to_string().contains(needle), "{what}: {e}");
    }
    let none = provider_for(&fake, None).await;
    let e = none.preflight(&spec("pf")).await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("no Azure subscription: pass subscription"),
        "{e}"
    );
    let other = provider_for(&fake, Some("11111111-2222-3333-4444-555555555555")).await;
    let e = other.preflight(&spec("pf")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("subscription 11111111"), "{e}");
    assert_eq!(writes(fake.state()), before, "preflight wrote something");
}
