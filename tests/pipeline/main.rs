//! The pipeline against the in-memory `FakeProvider` (carto-core's `testing` feature): no
//! binary, no emulator, milliseconds per run. The cloud half of a deployment (preflight,
//! infra, dns) runs step by step as `pipeline::deploy` runs it; then what matters is asserted:
//! the order of the calls, that a run failing, losing a response or panicking at every call
//! is finished by the next run with exactly one of each resource, all recorded; that destroy
//! deletes in dependency order and resumes after a failure at every delete; that a stop
//! request never cuts a write short; and that a resource of someone else's is never adopted.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use carto_core::testing::{FakeProvider, Fault};
use carto_core::{Cloud, ErrorKind, Provider, ResourceKind, TaggedResource};
use carto_provision::cli::{Cli, Command};
use carto_provision::commands::gc;
use carto_provision::interrupt;
use carto_provision::pipeline::record::Recorder;
use carto_provision::pipeline::{self, Events, Step, destroy, dns, infra, preflight};
use carto_provision::spec::{self, Spec};
use carto_provision::state::{EnvState, StateStore};
use clap::Parser;

/// A stop request is process-wide: the tests take turns.
fn serial() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

struct Quiet;

impl Events for Quiet {
    fn step_started(&self, _: Step) {}
    fn step_finished(&self, _: Step, _: Duration, _: Option<String>) {}
    fn note(&self, _: Step, _: &str) {}
}

/// A deployment's spec as the CLI builds it, with its package under `dir`.
fn deployment(dir: &Path) -> Spec {
    let pkg = carto_harness::package::write(&dir.join("pkg"), "2025.10.1", &[]).unwrap();
    let cli = Cli::parse_from([
        "carto-provision",
        "aws",
        "--domain",
        "carto.example.com",
        "--name",
        "fake",
        "--ssh-cidr",
        "127.0.0.1/32",
        "--package",
        pkg.to_str().unwrap(),
    ]);
    match cli.command {
        Command::Aws(args) => spec::from_aws(&args).unwrap(),
        _ => unreachable!(),
    }
}

/// The cloud half of `pipeline::deploy`: preflight, infra, dns, each between its events.
async fn deploy_cloud(spec: &Spec, p: &dyn Provider, store: &StateStore) -> anyhow::Result<()> {
    let _lock = store.lock(&spec.env)?;
    let rec = Recorder::open(store, spec)?;
    let ready = pipeline::timed(
        &Quiet,
        Step::Preflight,
        preflight::run(spec, p, store, &rec),
    );
    let ready = ready.await?;
    let infra = pipeline::timed(&Quiet, Step::Infra, infra::run(p, &ready, &rec)).await?;
    pipeline::timed(&Quiet, Step::Dns, dns::run(p, &ready, &infra, &rec)).await
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn state(store: &StateStore, spec: &Spec) -> EnvState {
    store.load(&spec.env).unwrap().expect("a state file")
}

/// Exactly one resource of every kind the fake makes, and the state records exactly those.
fn assert_one_of_each_recorded(fake: &FakeProvider, state: &EnvState, what: &str) {
    let mut made: Vec<_> = fake
        .existing()
        .into_iter()
        .map(|r| (r.kind, r.id))
        .collect();
    let mut recorded: Vec<_> = state
        .resources
        .iter()
        .map(|r| (r.kind, r.id.clone()))
        .collect();
    made.sort();
    recorded.sort();
    let kinds: Vec<ResourceKind> = made.iter().map(|(k, _)| *k).collect();
    use ResourceKind::*;
    assert_eq!(
        kinds,
        [Network, SshKey, Firewall, Address, Vm, DnsRecord],
        "{what}"
    );
    assert_eq!(
        made, recorded,
        "{what}: the state file differs from the cloud"
    );
}

const FIRST_RUN: &[&str] = &[
    "preflight",
    "find_existing fake",
    "find_dns_records",
    "ensure_network carto-fake-net",
    "ensure_ssh_key carto-fake-key",
    "ensure_firewall carto-fake-fw",
    "ensure_address carto-fake-ip",
    "ensure_vm carto-fake-vm",
    "wait_vm_ready carto-fake-vm",
    "attach_address carto-fake-vm",
    "ensure_dns_record carto.example.com",
];

#[test]
fn a_deployment_calls_the_cloud_in_dependency_order_and_records_everything() {
    let _turn = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (spec, store, fake) = (
        deployment(tmp.path()),
        StateStore::new(tmp.path().join("s")),
        FakeProvider::new(Cloud::Aws),
    );
    runtime()
        .block_on(deploy_cloud(&spec, &fake, &store))
        .unwrap();
    assert_eq!(fake.calls(), FIRST_RUN);
    let s = state(&store, &spec);
    assert_one_of_each_recorded(&fake, &s, "first run");
    assert_eq!(
        (s.step.as_str(), s.public_ip.as_deref()),
        ("dns", Some("192.0.2.10"))
    );

    fake.clear_calls();
    runtime()
        .block_on(deploy_cloud(&spec, &fake, &store))
        .unwrap();
    assert_one_of_each_recorded(&fake, &state(&store, &spec), "second run");
}

#[test]
fn a_run_stopped_at_any_call_is_finished_by_the_next_with_nothing_twice() {
    let _turn = serial();
    let faults = [
        ("fails", Fault::Fail(ErrorKind::Other)),
        ("loses the answer", Fault::FailAfter(ErrorKind::Other)),
        ("panics", Fault::Panic),
    ];
    for n in 1..=FIRST_RUN.len() {
        for (what, fault) in &faults {
            let what = format!("call {n} ({}) {what}", FIRST_RUN[n - 1]);
            let tmp = tempfile::tempdir().unwrap();
            let (spec, store) = (
                deployment(tmp.path()),
                StateStore::new(tmp.path().join("s")),
            );
            let fake = FakeProvider::new(Cloud::Aws);
            fake.fault_at(n, fault.clone());
            // A panic unwinds the thread the run is on, as a crash ends the process.
            let first = std::thread::scope(|s| {
                s.spawn(|| {
                    runtime()
                        .block_on(deploy_cloud(&spec, &fake, &store))
                        .is_ok()
                })
                .join()
            });
            assert!(!matches!(first, Ok(true)), "{what}: the first run passed");
            fake.clear_calls();
            runtime()
                .block_on(deploy_cloud(&spec, &fake, &store))
                .unwrap_or_else(|e| panic!("{what}: resume failed: {e:#}"));
            assert_one_of_each_recorded(&fake, &state(&store, &spec), &what);
        }
    }
}

/// The fake's resources in the waves destroy deletes them in: the record, the VM and the key
/// at once; then what was attached to the VM; then the network.
const WAVES: [&[&str]; 3] = [
    &["carto.example.com", "carto-fake-vm", "carto-fake-key"],
    &["carto-fake-ip", "carto-fake-fw"],
    &["carto-fake-net"],
];

/// `(resource, what must be gone before it)`, as the clouds require.
const MUST_WAIT: [(&str, &[&str]); 3] = [
    ("carto-fake-ip", &["carto-fake-vm"]),
    ("carto-fake-fw", &["carto-fake-vm"]),
    (
        "carto-fake-net",
        &["carto-fake-vm", "carto-fake-ip", "carto-fake-fw"],
    ),
];

/// Panics unless every delete in `calls` comes after the deletes it must wait for.
fn assert_waits_respected(calls: &[String]) {
    let at = |name: &str| calls.iter().position(|c| *c == format!("delete {name}"));
    for (name, before) in MUST_WAIT {
        for b in before {
            if let (Some(n), Some(b_at)) = (at(name), at(b)) {
                assert!(b_at < n, "{name} deleted before {b}: {calls:?}");
            }
        }
    }
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

/// An environment deployed on a fresh fake cloud (state in `dir`), its calls forgotten.
fn deployed_on_fake(dir: &Path) -> (Spec, StateStore, FakeProvider, tokio::runtime::Runtime) {
    let (spec, store) = (deployment(dir), StateStore::new(dir.join("s")));
    let fake = FakeProvider::new(Cloud::Aws);
    let rt = runtime();
    rt.block_on(deploy_cloud(&spec, &fake, &store)).unwrap();
    fake.clear_calls();
    (spec, store, fake, rt)
}

#[test]
fn destroy_deletes_in_dependency_waves_and_resumes_after_a_failure_at_any_delete() {
    let _turn = serial();
    let order: Vec<&str> = WAVES.concat();
    for n in 0..=order.len() {
        let tmp = tempfile::tempdir().unwrap();
        let (spec, store, fake, rt) = deployed_on_fake(tmp.path());
        // What the resumed destroy still has to delete: everything, or after a failure at
        // delete n the one that failed and every later wave (its own wave's others went).
        let mut left_expected: Vec<String> = order.iter().map(|s| s.to_string()).collect();
        if n > 0 {
            fake.fault_at(n, Fault::Fail(ErrorKind::Transient));
            let failed = rt.block_on(destroy::run(&store, state(&store, &spec), &fake, &|_| {}));
            assert!(failed.is_err(), "delete {n} failed but destroy passed");
            let wave = WAVES
                .iter()
                .position(|w| w.contains(&order[n - 1]))
                .unwrap();
            left_expected = std::iter::once(order[n - 1])
                .chain(WAVES[wave + 1..].concat())
                .map(str::to_string)
                .collect();
            let left: Vec<String> = state(&store, &spec)
                .resources
                .iter()
                .map(|r| r.name.clone())
                .collect();
            assert_eq!(
                sorted(left),
                sorted(left_expected.clone()),
                "after a failure at delete {n}"
            );
            assert_waits_respected(&fake.calls());
            fake.clear_calls();
        }
        let deleted = rt
            .block_on(destroy::run(&store, state(&store, &spec), &fake, &|_| {}))
            .unwrap();
        let names: Vec<String> = deleted.iter().map(|r| r.name.clone()).collect();
        assert_eq!(
            sorted(names),
            sorted(left_expected.clone()),
            "deleted after a failure at delete {n}"
        );
        let calls = fake.calls();
        let expected_calls: Vec<String> = left_expected
            .iter()
            .map(|r| format!("delete {r}"))
            .collect();
        assert_eq!(
            sorted(calls.clone()),
            sorted(expected_calls),
            "one delete each"
        );
        assert_waits_respected(&calls);
        assert!(
            fake.existing().is_empty(),
            "left in the cloud: {:?}",
            fake.existing()
        );
        assert!(
            store.load(&spec.env).unwrap().is_none(),
            "the state file outlived the destroy"
        );
    }
}

/// The deletes nothing orders run at once: while the VM's delete is slow, the record's and the
/// key's go too; what was attached to the VM waits for it.
#[test]
fn destroy_deletes_what_nothing_orders_at_once() {
    let _turn = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (spec, store, fake, rt) = deployed_on_fake(tmp.path());
    // The second call of the destroy is the VM's delete.
    fake.fault_at(2, Fault::Delay(Duration::from_millis(100)));
    rt.block_on(destroy::run(&store, state(&store, &spec), &fake, &|_| {}))
        .unwrap();
    let calls = fake.calls();
    let first_wave: Vec<String> = WAVES[0].iter().map(|r| format!("delete {r}")).collect();
    assert_eq!(calls[..3], first_wave[..], "{calls:?}");
    assert_eq!(
        fake.peak_deletes(),
        2,
        "the key's delete ran beside the VM's"
    );
    assert_waits_respected(&calls);
}

#[test]
fn a_stop_request_waits_for_the_write_in_flight_and_ends_a_wait_at_once() {
    let _turn = serial();
    // ensure_vm (call 8) and attach_address (call 10) are writes: they finish (the VM is
    // recorded, the address attached); wait_vm_ready (call 9) is a wait: it ends at once,
    // before anything is attached.
    for (n, vm_recorded) in [(8, true), (9, true), (10, true), (6, false)] {
        let tmp = tempfile::tempdir().unwrap();
        let (spec, store) = (
            deployment(tmp.path()),
            StateStore::new(tmp.path().join("s")),
        );
        let fake = FakeProvider::new(Cloud::Aws);
        fake.fault_at(n, Fault::Delay(Duration::from_millis(300)));
        let rt = runtime();
        let result = rt.block_on(async {
            let stop = async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                interrupt::request();
            };
            tokio::join!(deploy_cloud(&spec, &fake, &store), stop).0
        });
        interrupt::clear();
        let err = result.expect_err("a stop request ends the run");
        assert!(
            err.chain().any(|c| c.is::<interrupt::Interrupted>()),
            "{err:#}"
        );
        let s = state(&store, &spec);
        assert_eq!(
            s.find(ResourceKind::Vm).is_some(),
            vm_recorded,
            "stopped at call {n}: {:?}",
            s.resources
        );
        let made: Vec<_> = fake.existing().into_iter().map(|r| r.id).collect();
        let recorded: Vec<_> = s.resources.iter().map(|r| r.id.clone()).collect();
        assert!(
            made.iter().all(|id| recorded.contains(id)),
            "stopped at call {n}: made {made:?}, recorded {recorded:?}"
        );
        assert!(
            !fake
                .calls()
                .iter()
                .any(|c| c.starts_with("ensure_dns_record")),
            "went on after the stop"
        );
        assert_eq!(
            fake.attached().len(),
            usize::from(n == 10),
            "stopped at call {n}: attached {:?}",
            fake.attached()
        );
        rt.block_on(deploy_cloud(&spec, &fake, &store)).unwrap();
        assert_one_of_each_recorded(&fake, &state(&store, &spec), "resumed");
        assert_eq!(
            fake.attached(),
            [("carto-fake-vm".into(), "192.0.2.10".into())]
        );
    }
}

#[test]
fn a_resource_someone_else_named_like_ours_is_refused_before_anything_is_made() {
    let _turn = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (spec, store) = (
        deployment(tmp.path()),
        StateStore::new(tmp.path().join("s")),
    );
    let theirs =
        carto_core::ResourceRef::new(ResourceKind::Firewall, "sg-theirs", "carto-fake-fw", "r");
    // Made by hand (no nonce), or by another environment of the same name.
    for nonce in [None, Some("0000000000000042".to_string())] {
        let fake = FakeProvider::new(Cloud::Aws);
        fake.seed(TaggedResource {
            resource: theirs.clone(),
            env: "fake".into(),
            created: None,
            expires: None,
            nonce,
        });
        let err = runtime()
            .block_on(deploy_cloud(&spec, &fake, &store))
            .unwrap_err();
        assert!(format!("{err:#}").contains("sg-theirs"), "{err:#}");
        assert!(
            !fake.calls().iter().any(|c| c.starts_with("ensure")),
            "{:?}",
            fake.calls()
        );
        assert_eq!(fake.existing(), std::slice::from_ref(&theirs));
        assert!(
            store
                .load(&spec.env)
                .unwrap()
                .is_none_or(|s| s.resources.is_empty())
        );
    }
}

/// `count` expired environments `gc-0`, `gc-1`, … seeded in `fake` as someone's earlier runs
/// left them (no state file here): a network, a key, a firewall, an address and a VM each.
fn seed_expired(fake: &FakeProvider, count: usize) {
    for e in 0..count {
        let env = format!("gc-{e}");
        for (kind, suffix) in [
            (ResourceKind::Network, "net"),
            (ResourceKind::SshKey, "key"),
            (ResourceKind::Firewall, "fw"),
            (ResourceKind::Address, "ip"),
            (ResourceKind::Vm, "vm"),
        ] {
            let name = format!("carto-{env}-{suffix}");
            fake.seed(TaggedResource {
                resource: carto_core::ResourceRef::new(kind, &name, &name, "r1"),
                env: env.clone(),
                created: carto_core::parse_time("2026-11-01T10:00:00Z"),
                expires: Some(1_700_000_000),
                nonce: Some(format!("n{e}")),
            });
        }
    }
}

#[test]
fn gc_destroys_expired_environments_at_once_within_the_bound_and_one_failure_stops_no_other() {
    let _turn = serial();
    let count = gc::DESTROY_AT_ONCE + 5;
    let tmp = tempfile::tempdir().unwrap();
    let store = StateStore::new(tmp.path().join("s"));
    let fake = FakeProvider::new(Cloud::Aws);
    seed_expired(&fake, count);
    fake.set_delete_delay(Duration::from_millis(20));
    // The first delete of the sweep (call 2, after the listing) fails: its environment
    // is left, with the failure as its action.
    fake.fault_at(2, Fault::Fail(ErrorKind::Permission));
    let args = match Cli::parse_from(["carto-provision", "gc", "--clouds", "aws", "--yes"]).command
    {
        Command::Gc(args) => args,
        _ => unreachable!(),
    };
    let found = runtime()
        .block_on(gc::sweep(
            &fake,
            &args,
            &store,
            &Quiet,
            None,
            chrono::Utc::now(),
        ))
        .unwrap();
    assert_eq!(found.len(), count);
    let failed: Vec<&str> = found
        .iter()
        .filter(|f| f.action.starts_with("failed"))
        .map(|f| f.env.as_str())
        .collect();
    assert_eq!(failed.len(), 1, "{found:?}");
    assert!(
        found
            .iter()
            .all(|f| f.env == failed[0] || f.action == "destroyed"),
        "{found:?}"
    );
    let left = fake.existing();
    assert!(!left.is_empty());
    assert!(
        left.iter()
            .all(|r| r.name.starts_with(&format!("carto-{}-", failed[0]))),
        "{left:?}"
    );
    let peak = fake.peak_environments_deleting();
    assert_eq!(
        peak,
        gc::DESTROY_AT_ONCE,
        "environments deleted at once: as many as the bound, never more"
    );
}
