//! The verdict against `docker inspect` sequences shaped like Docker's output: a crash loop
//! with exponential back-off, a restart caught mid-poll, a slow start.

use std::time::Duration;

use super::*;
use crate::compose::{SERVICE_LABEL, parse_inspect};

/// One container as `docker inspect` shows it (fields trimmed to what we read plus a few).
#[derive(Clone)]
struct C {
    svc: &'static str,
    id: &'static str,
    status: &'static str,
    started: f64,
    restarts: u64,
    exit: i64,
}

fn c(svc: &'static str, status: &'static str, started: f64, restarts: u64) -> C {
    C {
        svc,
        id: svc,
        status,
        started,
        restarts,
        exit: 0,
    }
}

/// RFC 3339 with nanoseconds, as Docker writes StartedAt; a negative time is "never started".
fn rfc3339(t: f64) -> String {
    if t < 0.0 {
        return "0001-01-01T00:00:00Z".into();
    }
    let secs = t.floor() as u64;
    let nanos = ((t - t.floor()) * 1e9) as u64;
    format!(
        "2026-12-04T03:{:02}:{:02}.{nanos:09}Z",
        10 + secs / 60,
        secs % 60
    )
}

fn inspect(items: &[C]) -> String {
    let v: Vec<serde_json::Value> = items
        .iter()
        .map(|c| {
            serde_json::json!({
                "Id": format!("{}0123456789abcdef", c.id),
                "Created": "2026-12-04T03:09:58.1Z",
                "Name": format!("/carto_{}_1", c.svc),
                "RestartCount": c.restarts,
                "State": {
                    "Status": c.status,
                    "Running": c.status == "running",
                    "Restarting": c.status == "restarting",
                    "ExitCode": c.exit,
                    "StartedAt": rfc3339(c.started),
                    "FinishedAt": "0001-01-01T00:00:00Z"
                },
                "HostConfig": {"RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}},
                "Config": {"Labels": {SERVICE_LABEL: c.svc, "com.docker.compose.project": "carto"}}
            })
        })
        .collect();
    serde_json::Value::Array(v).to_string()
}

fn poll(at: f64, items: &[C]) -> Poll {
    Poll {
        at: Duration::from_secs_f64(at),
        clock: None,
        states: parse_inspect(&inspect(items)).expect("parses"),
    }
}

/// Judges each prefix of `polls`; returns every verdict.
fn verdicts(polls: &[Poll]) -> Vec<Health> {
    (1..=polls.len())
        .map(|n| judge(&polls[..n], &Rules::default()))
        .collect()
}

fn stable_router() -> C {
    c("router", "running", 0.5, 0)
}

#[test]
fn stable_services_are_ready_only_after_three_polls_spanning_sixty_seconds() {
    let polls: Vec<Poll> = (0..8)
        .map(|i| {
            let t = 1.0 + 10.0 * i as f64;
            poll(
                t,
                &[stable_router(), c("workspace-api", "running", 0.7, 0), {
                    let mut m = c(MIGRATIONS, "exited", 0.2, 0);
                    m.exit = 0;
                    m
                }],
            )
        })
        .collect();
    let v = verdicts(&polls);
    // Polls at 1, 11, …, 61 s: ready at the 7th (60 s spanned), not before.
    for (i, h) in v.iter().enumerate() {
        if i < 6 {
            assert!(matches!(h, Health::Waiting(_)), "poll {i}: {h:?}");
        } else {
            assert_eq!(h, &Health::Ready, "poll {i}");
        }
    }
    // Two polls 60 s apart are not enough: three are needed.
    let two = [polls[0].clone(), polls[6].clone()];
    assert!(matches!(judge(&two, &Rules::default()), Health::Waiting(_)));
}

/// A service that crashes `up` seconds after each start, restarted by Docker after a back-off
/// of 0.1 s doubling to 60 s; polled every `interval` seconds (with `late` extra seconds each
/// time, a loaded machine) from `first` on. Returns the verdicts.
fn crash_loop(up: f64, first: f64, interval: f64, late: f64) -> Vec<Health> {
    // Start times of the crashing container.
    let mut starts = vec![0.0];
    let mut gap = 0.1_f64;
    while *starts.last().expect("one") < 3600.0 {
        let next = starts.last().expect("one") + up + gap;
        starts.push(next);
        gap = (gap * 2.0).min(60.0);
    }
    let mut polls = Vec::new();
    let mut t = first;
    let mut out = Vec::new();
    while t < 1200.0 {
        let n = starts.iter().filter(|s| **s <= t).count() - 1;
        let started = starts[n];
        let status = if t < started + up {
            "running"
        } else {
            "restarting"
        };
        let mut svc = c("cdn-invalidator-sub", status, started, n as u64);
        svc.exit = if status == "running" { 0 } else { 1 };
        polls.push(poll(t, &[stable_router(), svc]));
        let h = judge(&polls, &Rules::default());
        let done = !matches!(h, Health::Waiting(_));
        out.push(h);
        if done {
            break;
        }
        t += interval + late;
    }
    out
}

#[test]
fn an_exponential_back_off_crash_loop_fails_and_is_never_ready() {
    // Up 0.05 s or up to 59 s per start, first polled early or after the back-off reached a
    // minute, polled every 5 s (the default) or 10 s, on time or 7 s late each time (a loaded
    // machine).
    for up in [0.05, 2.0, 9.0, 30.0, 59.0] {
        for first in [0.3, 5.0, 130.0, 400.0] {
            for (interval, late) in [(5.0, 0.0), (5.0, 7.0), (10.0, 0.0), (10.0, 7.0)] {
                let v = crash_loop(up, first, interval, late);
                let last = v.last().expect("a verdict");
                let case = format!("up {up} first {first} every {interval} + {late}");
                assert!(!v.contains(&Health::Ready), "{case}: ready in {v:?}");
                let Health::Failed { services, why } = last else {
                    panic!("{case}: not failed: {last:?}");
                };
                assert_eq!(services, &["cdn-invalidator-sub"]);
                assert!(why.contains("restarts repeatedly"), "{why}");
            }
        }
    }
}

#[test]
fn three_restarts_fail_whatever_their_spacing_and_one_restart_is_tolerated() {
    let restarts = |n: u64, t: f64| c("api", "running", t, n);
    // Restarts seen 2 minutes apart, each time running and stable in between.
    let mut polls = Vec::new();
    for i in 0..40 {
        let t = 10.0 * i as f64;
        let n = (i / 12) as u64;
        polls.push(poll(t, &[restarts(n, 120.0 * n as f64)]));
    }
    let v = verdicts(&polls);
    let failed_at = v
        .iter()
        .position(|h| matches!(h, Health::Failed { .. }))
        .expect("fails");
    assert_eq!(failed_at, 36, "fails at the third restart: {v:?}");
    // Ready before and after one restart (one is tolerated), never after the second.
    assert_eq!(v[6], Health::Ready);
    assert!(v[24..].iter().all(|h| h != &Health::Ready), "{v:?}");
    assert!(v[12..24].contains(&Health::Ready));
}

#[test]
fn a_restart_caught_during_a_poll_is_counted_once_and_restarts_the_clock() {
    // At 20 s Docker has started the container again (new StartedAt) but not yet bumped
    // RestartCount; at 30 s it has.
    let mut polls = vec![
        poll(0.0, &[c("api", "running", 0.0, 0)]),
        poll(10.0, &[c("api", "running", 0.0, 0)]),
        poll(20.0, &[c("api", "running", 19.5, 0)]),
        poll(30.0, &[c("api", "running", 19.5, 1)]),
    ];
    for i in 4..=12 {
        polls.push(poll(10.0 * i as f64, &[c("api", "running", 19.5, 1)]));
    }
    let v = verdicts(&polls);
    assert!(
        v.iter().all(|h| !matches!(h, Health::Failed { .. })),
        "{v:?}"
    );
    // Stable from 30 s on: ready at 90 s (poll 9), not before.
    assert!(v[..9].iter().all(|h| h != &Health::Ready), "{v:?}");
    assert_eq!(v[9], Health::Ready);
    // The same restart in the "restarting" state mid-poll.
    let polls = [
        poll(0.0, &[c("api", "running", 0.0, 0)]),
        poll(10.0, &[c("api", "restarting", 0.0, 0)]),
        poll(20.0, &[c("api", "running", 15.0, 1)]),
    ];
    assert!(matches!(&verdicts(&polls)[1], Health::Waiting(w) if w.contains("api restarting")));
    // Three StartedAt changes Docker never counted still fail.
    let polls: Vec<Poll> = (0..4)
        .map(|i| poll(10.0 * i as f64, &[c("api", "running", 10.0 * i as f64, 0)]))
        .collect();
    assert!(matches!(
        judge(&polls, &Rules::default()),
        Health::Failed { why, .. } if why.contains("restarts repeatedly")
    ));
}

#[test]
fn a_slow_start_waits_and_then_is_ready() {
    let mut polls = vec![
        poll(0.0, &[]),
        poll(
            10.0,
            &[
                c("api", "created", -1.0, 0),
                c(MIGRATIONS, "created", -1.0, 0),
            ],
        ),
        poll(
            20.0,
            &[
                c("api", "running", 15.0, 0),
                c(MIGRATIONS, "running", 12.0, 0),
            ],
        ),
        poll(
            30.0,
            &[
                c("api", "running", 15.0, 0),
                c(MIGRATIONS, "running", 12.0, 0),
            ],
        ),
    ];
    // Migrations fail once (Docker retries), then exit 0.
    let mut m = c(MIGRATIONS, "exited", 12.0, 0);
    m.exit = 1;
    polls.push(poll(40.0, &[c("api", "running", 15.0, 0), m]));
    for i in 5..=12 {
        let m = c(MIGRATIONS, "exited", 41.0, 1);
        polls.push(poll(10.0 * i as f64, &[c("api", "running", 15.0, 0), m]));
    }
    let v = verdicts(&polls);
    assert!(
        v.iter().all(|h| !matches!(h, Health::Failed { .. })),
        "{v:?}"
    );
    assert!(matches!(&v[0], Health::Waiting(w) if w.contains("no containers")));
    assert!(matches!(&v[4], Health::Waiting(w) if w.contains("exited 1")));
    // Unchanged from 50 s: ready at 110 s.
    assert!(v[..11].iter().all(|h| h != &Health::Ready), "{v:?}");
    assert_eq!(v[11], Health::Ready);
}

#[test]
fn a_service_exited_non_zero_fails_and_a_shorter_window_needs_an_explicit_rule() {
    let p = [poll(
        0.0,
        &[C {
            exit: 137,
            ..c("api", "exited", 0.0, 0)
        }],
    )];
    assert!(matches!(
        judge(&p, &Rules::default()),
        Health::Failed { services, why } if services == ["api"] && why.contains("137")
    ));
    let polls: Vec<Poll> = (0..3)
        .map(|i| poll(0.01 * i as f64, &[c("api", "running", 0.0, 0)]))
        .collect();
    assert!(matches!(
        judge(&polls, &Rules::default()),
        Health::Waiting(_)
    ));
    let short = Rules {
        stable_for: Duration::from_millis(20),
        ..Rules::default()
    };
    assert_eq!(judge(&polls, &short), Health::Ready);
}

/// A poll with the VM's clock: the wait began at `rfc3339(0.0)`.
fn poll_with_clock(at: f64, items: &[C]) -> Poll {
    let began = chrono::DateTime::parse_from_rfc3339(&rfc3339(0.0)).expect("time");
    Poll {
        clock: Some(began.to_utc() + chrono::Duration::milliseconds((at * 1000.0) as i64)),
        ..poll(at, items)
    }
}

#[test]
fn services_up_for_sixty_seconds_by_their_started_at_are_ready_at_the_first_poll() {
    // A re-run: every container started long before the wait began.
    let mut migrations = c(MIGRATIONS, "exited", -1.0, 0);
    migrations.exit = 0;
    let long_up = [
        c("router", "running", 0.0, 0),
        c("workspace-api", "running", 0.0, 2),
        migrations,
    ];
    assert_eq!(
        verdicts(&[poll_with_clock(61.0, &long_up)]),
        [Health::Ready]
    );
    // Without the VM's clock the same poll proves nothing yet.
    assert!(matches!(
        verdicts(&[poll(61.0, &long_up)])[0],
        Health::Waiting(_)
    ));

    // One container started 30 s before the poll: not yet, however long the others ran.
    let recent = [
        c("router", "running", 0.0, 0),
        c("workspace-api", "running", 31.0, 0),
    ];
    assert!(matches!(
        verdicts(&[poll_with_clock(61.0, &recent)])[0],
        Health::Waiting(_)
    ));
    // And ready once it has run 60 s.
    let v = verdicts(&[
        poll_with_clock(61.0, &recent),
        poll_with_clock(91.0, &recent),
    ]);
    assert_eq!(v[1], Health::Ready);

    // A container that restarted twice since the wait began is not ready, however long its
    // latest start ago.
    let looping = |restarts| [c("router", "running", 0.0, restarts)];
    let v = verdicts(&[
        poll_with_clock(1.0, &looping(0)),
        poll_with_clock(70.0, &looping(2)),
    ]);
    assert!(matches!(v[1], Health::Waiting(_)), "{v:?}");

    // The wait knows when the youngest container's window ends.
    let rules = Rules::default();
    assert_eq!(
        until_stable(&poll_with_clock(61.0, &recent), &rules),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        until_stable(&poll_with_clock(100.0, &recent), &rules),
        Some(Duration::ZERO)
    );
    assert_eq!(until_stable(&poll(61.0, &recent), &rules), None, "no clock");

    // A StartedAt Docker did not fill in (or after the VM's clock) counts as not up.
    let never = [c("router", "running", -1.0, 0)];
    assert!(matches!(
        verdicts(&[poll_with_clock(100.0, &never)])[0],
        Health::Waiting(_)
    ));
    let ahead = [c("router", "running", 120.0, 0)];
    assert!(matches!(
        verdicts(&[poll_with_clock(100.0, &ahead)])[0],
        Health::Waiting(_)
    ));
}
