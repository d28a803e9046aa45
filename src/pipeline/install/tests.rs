//! Unit tests of the install step list, its judges and `wait_healthy` (recording fake runner).

use super::*;
use crate::remote::testing::RecordingRunner;
use crate::remote::{Action, NoEvents, run_steps};
use std::time::Duration;

const CUSTOMER_ENV: &str =
    "SELFHOSTED_DOMAIN=carto.example.com\nPOSTGRES_ADMIN_PASSWORD=sup3r-s3cret\n";
const KEY_JSON: &str =
    r#"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----MIIEv"}"#;

fn spec() -> RemoteSpec {
    RemoteSpec {
        ssh_user: "ubuntu".into(),
        domain: "carto.example.com".into(),
        docker_source: DockerSource::Distro,
        docker_apt_url: String::new(),
        selfhosted_repo: "https://git.invalid/carto-selfhosted.git".into(),
        selfhosted_version: "2025.11.11-patch1".into(),
        selfhosted_source: None,
        files: vec![
            UploadFile::new("customer.env", CUSTOMER_ENV.into()).expect("path"),
            UploadFile::new("key.json", KEY_JSON.into()).expect("path"),
            UploadFile::new(
                "certs/my.key",
                b"-----BEGIN RSA PRIVATE KEY-----xyz".to_vec(),
            )
            .expect("path"),
        ],
        checkout_dir: "/home/ubuntu/carto-selfhosted".into(),
        verify_cert: false,
    }
}

fn every_cmd(steps: &[RemoteStep]) -> Vec<Cmd> {
    let mut v = Vec::new();
    for s in steps {
        v.extend(s.check.clone());
        for a in &s.apply {
            if let Action::Run(c) = a {
                v.push(c.clone());
            }
        }
    }
    v
}

/// Every install step, in the order a deployment runs them.
fn all_steps(spec: &RemoteSpec) -> Vec<RemoteStep> {
    prepare_steps(spec).into_iter().chain(steps(spec)).collect()
}

#[test]
fn the_steps_in_order() {
    let names: Vec<String> = all_steps(&spec()).into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "check out carto-selfhosted 2025.11.11-patch1",
            "upload customer.env",
            "upload key.json",
            "upload certs/my.key",
            "run install.sh",
            "make .env readable by its owner only",
            "start the services",
        ]
    );
    // What needs no Docker comes first: it runs while cloud-init installs Docker.
    assert_eq!(prepare_steps(&spec()).len(), 4);
    assert_eq!(steps(&spec())[0].name, "run install.sh");
}

#[test]
fn no_secret_content_in_any_command_and_uploads_are_0600() {
    let steps = all_steps(&spec());
    for c in every_cmd(&steps) {
        for needle in ["sup3r-s3cret", "PRIVATE KEY", "xyz"] {
            assert!(
                !c.to_shell().contains(needle),
                "{needle} in {}",
                c.display()
            );
        }
    }
    let uploads: Vec<(&String, u32)> = steps
        .iter()
        .flat_map(|s| &s.apply)
        .filter_map(|a| match a {
            Action::Upload { path, mode, .. } => Some((path, *mode)),
            Action::Run(_) => None,
        })
        .collect();
    assert_eq!(uploads.len(), 3);
    assert!(uploads.iter().all(|(_, m)| *m == 0o600), "{uploads:?}");
    assert_eq!(uploads[2].0, "/home/ubuntu/carto-selfhosted/certs/my.key");
}

#[test]
fn upload_check_compares_the_local_hash_and_mode() {
    let s = &all_steps(&spec())[1];
    let check = s.check.as_ref().map(Cmd::to_shell).unwrap_or_default();
    let hash = sha256_hex(CUSTOMER_ENV.as_bytes());
    assert!(
        check.ends_with(&format!(
            " _ /home/ubuntu/carto-selfhosted/customer.env {hash}"
        )),
        "{check}"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // certs/ gets its directory first.
    let certs = &all_steps(&spec())[3];
    assert!(
        matches!(&certs.apply[0], Action::Run(c) if c.to_shell() == "mkdir -p /home/ubuntu/carto-selfhosted/certs")
    );
}

/// Whether `cmd`, run by this machine's `sh`, exits 0.
fn succeeds_here(cmd: Cmd) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd.to_shell())
        .status()
        .expect("sh")
        .success()
}

#[test]
fn the_file_check_script_really_checks_hash_and_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("customer.env");
    std::fs::write(&f, CUSTOMER_ENV).expect("write");
    let check = |mode: u32, hash: &str| {
        std::process::Command::new("chmod")
            .arg(format!("{mode:o}"))
            .arg(&f)
            .status()
            .expect("chmod");
        succeeds_here(
            Cmd::script(FILE_CHECK)
                .arg(f.to_string_lossy().to_string())
                .arg(hash),
        )
    };
    let good = sha256_hex(CUSTOMER_ENV.as_bytes());
    assert!(check(0o600, &good));
    assert!(!check(0o644, &good), "wrong mode");
    assert!(!check(0o600, &sha256_hex(b"other")), "wrong content");
}

#[test]
fn the_dot_env_check_passes_only_at_0600() {
    let dir = tempfile::tempdir().expect("tempdir");
    let check =
        || succeeds_here(Cmd::script(DOT_ENV_CHECK).arg(dir.path().to_string_lossy().to_string()));
    assert!(!check(), "no .env yet");
    let env = dir.path().join(".env");
    for (mode, passes) in [(0o644, false), (0o600, true)] {
        std::fs::write(&env, "A=1\n").expect("write");
        std::fs::set_permissions(&env, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .expect("chmod");
        assert_eq!(check(), passes, "{mode:o}");
    }
}

#[test]
fn commands_render_in_the_checkout_with_the_docker_group() {
    let steps = all_steps(&spec());
    let install = steps[4].apply[0].display();
    assert_eq!(
        install,
        r#"sg docker -c 'sh -c '\''cd "$1" && shift && exec "$@"'\'' _ /home/ubuntu/carto-selfhosted bash install.sh'"#
    );
    assert!(steps[5].apply[0].display().ends_with(" chmod 600 .env'"));
    assert!(
        steps[6].apply[0]
            .display()
            .ends_with("docker-compose up -d --remove-orphans'")
    );
    let checkout = steps[0].apply[0].display();
    assert!(
        checkout.ends_with(" _ https://git.invalid/carto-selfhosted.git /home/ubuntu/carto-selfhosted 2025.11.11-patch1"),
        "{checkout}"
    );
}

#[test]
fn install_sh_judge_on_recorded_outputs() {
    let clean = Output::new(0, "Checking docker...\nOK\nInstallation finished\n", "");
    assert!(install_judge(&clean).is_ok());
    let lying = Output::new(
        0,
        "Checking...\n[ERROR]: Your customer package 2025.1.1 is older than the minimum 2025.9.1\n",
        "",
    );
    let why = install_judge(&lying).expect_err("exit 0 with [ERROR] fails");
    assert!(why.contains("older than the minimum"), "{why}");
    assert!(install_judge(&Output::new(1, "", "[ERROR]: docker-compose not found\n")).is_err());
    assert!(install_judge(&Output::new(1, "", "")).is_err());
}

#[test]
fn checkout_judge_names_local_edits() {
    assert!(checkout_judge(&Output::new(0, "", "")).is_ok());
    assert!(
        checkout_judge(&Output::new(3, "", ""))
            .expect_err("edits")
            .contains("local edits")
    );
    assert!(checkout_judge(&Output::new(128, "", "fatal")).is_err());
}

#[tokio::test]
async fn run_steps_skips_files_already_there_and_fails_on_an_install_sh_error_line() {
    let spec = spec();
    let mut r = RecordingRunner::new()
        .answer("tag --points-at", vec![Output::new(0, "", "")])
        .answer(
            "sha256sum",
            vec![Output::new(1, "", ""), Output::new(0, "", "")],
        )
        .answer(
            "install.sh",
            vec![Output::new(
                0,
                "[ERROR]: POSTGRES_ADMIN_PASSWORD is empty\n",
                "",
            )],
        );
    let err = run_steps(&mut r, &all_steps(&spec), &mut NoEvents)
        .await
        .expect_err("install.sh fails");
    assert!(
        err.to_string().contains("POSTGRES_ADMIN_PASSWORD is empty"),
        "{err}"
    );
    assert!(
        !r.commands().iter().any(|c| c.contains("git clone")),
        "checkout already right"
    );
    // customer.env uploaded (check failed once), the others were already in place.
    let ups = r.uploads();
    assert_eq!(ups.len(), 1);
    assert_eq!(
        (ups[0].path.as_str(), ups[0].mode),
        ("/home/ubuntu/carto-selfhosted/customer.env", 0o600)
    );
    assert_eq!(ups[0].contents, CUSTOMER_ENV.as_bytes());
    assert!(
        !r.commands().iter().any(|c| c.contains("up -d")),
        "stopped before compose up"
    );
}

#[test]
fn a_local_checkout_is_tarred_without_secrets_and_unpacked_by_its_own_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (p, c) in [
        ("install.sh", "echo"),
        ("docker-compose.yml", "version: '2.4'"),
        ("customer.env", "X=1"),
        ("key.json", "{}"),
    ] {
        std::fs::write(dir.path().join(p), c).expect("write");
    }
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir");
    std::fs::write(dir.path().join(".git/config"), "x").expect("write");
    let tar = tar_source(dir.path()).expect("tar");
    assert_eq!(
        tar,
        tar_source(dir.path()).expect("tar again"),
        "same tree, same bytes"
    );
    let listing = std::process::Command::new("sh")
        .arg("-c")
        .arg("tar -tf -")
        .stdin(
            std::fs::File::open({
                let p = dir.path().join("out.tar");
                std::fs::write(&p, &tar).expect("write");
                p
            })
            .expect("open"),
        )
        .output()
        .expect("tar -t");
    let names = String::from_utf8_lossy(&listing.stdout);
    assert!(
        names.contains("./install.sh") && names.contains("./docker-compose.yml"),
        "{names}"
    );
    assert!(
        !names.contains("customer.env") && !names.contains("key.json") && !names.contains(".git"),
        "{names}"
    );

    let mut s = spec();
    s.selfhosted_source = Some(dir.path().to_path_buf());
    let list = all_steps(&s);
    assert!(
        !list[0].name.starts_with("check out"),
        "no git checkout with a local source"
    );
    let step = source_step(&s, &tar);
    assert!(
        matches!(&step.apply[0], Action::Upload { path, mode: 0o600, .. } if path == "/home/ubuntu/carto-selfhosted.source.tar")
    );
}

/// A runner on a VM whose docker-compose is v1 (1.29.2).
fn compose_v1() -> RecordingRunner {
    RecordingRunner::new().answer(
        "--version",
        vec![Output::new(
            0,
            "docker-compose version 1.29.2, build unknown\n",
            "",
        )],
    )
}

#[tokio::test]
async fn wait_healthy_returns_once_everything_is_up_and_unchanged_for_three_polls() {
    let running = r#"[{"Name":"/c_router_1","RestartCount":0,"State":{"Status":"running","ExitCode":0},"Config":{"Labels":{"com.docker.compose.service":"router"}}},
        {"Name":"/c_mig_1","RestartCount":0,"State":{"Status":"exited","ExitCode":0},"Config":{"Labels":{"com.docker.compose.service":"workspace-migrations"}}}]"#;
    let mut r = compose_v1()
        .answer(
            "ps -q",
            vec![Output::new(0, "", ""), Output::new(0, "aaa\nbbb\n", "")],
        )
        .answer("docker inspect", vec![Output::new(0, running, "")]);
    let opts = HealthOptions {
        interval: Duration::from_millis(1),
        timeout: Duration::from_secs(5),
        log_dir: None,
        rules: Rules {
            stable_for: Duration::ZERO,
            ..Rules::default()
        },
    };
    wait_healthy(&mut r, &spec(), &opts).await.expect("ready");
    let cmds = r.commands();
    let inspects = cmds.iter().filter(|c| c.contains("docker inspect")).count();
    assert_eq!(inspects, 3, "ready after three identical polls: {cmds:#?}");
    assert!(
        cmds.iter().any(|c| c.contains("docker inspect aaa bbb")),
        "{cmds:#?}"
    );
    assert!(
        cmds.iter().all(|c| !c.contains("ps -q -a")),
        "v1 lists stopped containers without -a"
    );
}

#[tokio::test]
async fn wait_healthy_takes_one_poll_when_docker_shows_every_service_up_for_a_minute() {
    // A re-run: the VM's clock says 12:00, the router started at 11:58 and never restarted.
    let inspect = |router_started: &str| {
        format!(
            r#"[{{"Id":"aaa","Name":"/c_router_1","RestartCount":0,"State":{{"Status":"running","ExitCode":0,"StartedAt":"{router_started}"}},"Config":{{"Labels":{{"com.docker.compose.service":"router"}}}}}},
        {{"Id":"bbb","Name":"/c_mig_1","RestartCount":0,"State":{{"Status":"exited","ExitCode":0,"StartedAt":"2026-12-05T11:57:00Z"}},"Config":{{"Labels":{{"com.docker.compose.service":"workspace-migrations"}}}}}}]"#
        )
    };
    let runner = |router_started: &str| {
        compose_v1()
            .answer(
                "date -u",
                vec![Output::new(0, "2026-12-05T12:00:00.000000000Z\n", "")],
            )
            .answer("ps -q", vec![Output::new(0, "aaa\nbbb\n", "")])
            .answer(
                "docker inspect",
                vec![Output::new(0, &inspect(router_started), "")],
            )
    };
    let opts = HealthOptions {
        interval: Duration::from_millis(1),
        timeout: Duration::from_millis(200),
        ..HealthOptions::default()
    };
    let mut r = runner("2026-12-05T11:58:00.5Z");
    wait_healthy(&mut r, &spec(), &opts).await.expect("ready");
    let inspects = r
        .commands()
        .iter()
        .filter(|c| c.contains("docker inspect"))
        .count();
    assert_eq!(inspects, 1);
    // Started 30 s before: the 60 s are not over, so the wait goes on (and here times out).
    let mut r = runner("2026-12-05T11:59:30Z");
    let err = wait_healthy(&mut r, &spec(), &opts)
        .await
        .expect_err("not ready");
    assert!(matches!(err, InstallError::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn wait_healthy_names_the_failing_service_shows_its_logs_and_saves_diagnostics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let crashed = r#"[{"Name":"/c_router_1","RestartCount":0,"State":{"Status":"running","ExitCode":0},"Config":{"Labels":{"com.docker.compose.service":"router"}}},
        {"Name":"/c_cdn_1","RestartCount":0,"State":{"Status":"exited","ExitCode":127},"Config":{"Labels":{"com.docker.compose.service":"cdn-invalidator-sub"}}}]"#;
    let mut r = RecordingRunner::new()
        .answer(
            "--version",
            vec![Output::new(0, "Docker Compose version v2.27.0\n", "")],
        )
        .answer("ps -q -a", vec![Output::new(0, "aaa\nbbb\n", "")])
        .answer("docker inspect", vec![Output::new(0, crashed, "")])
        .answer(
            "logs --no-color --tail 100",
            vec![Output::new(
                0,
                "cdn | exec: not found, password sup3r-s3cret key -----BEGIN PRIVATE KEY-----MIIEv\n",
                "",
            )],
        )
        .answer("ps -a", vec![Output::new(0, "NAME STATUS\n", "")])
        .answer(
            "logs -t",
            vec![Output::new(
                0,
                "2026-01-01T00:00:00Z all logs sup3r-s3cret\n",
                "",
            )],
        );
    let opts = HealthOptions {
        interval: Duration::from_millis(1),
        timeout: Duration::from_secs(5),
        log_dir: Some(dir.path().join("diag")),
        rules: Rules::default(),
    };
    let err = wait_healthy(&mut r, &spec(), &opts)
        .await
        .expect_err("fails");
    let InstallError::Unhealthy { services, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(services, &["cdn-invalidator-sub"]);
    let text = err.to_string();
    assert!(
        text.contains("exec: not found") && text.contains("127"),
        "{text}"
    );
    let logs = std::fs::read_to_string(dir.path().join("diag/compose-logs.txt")).expect("saved");
    assert!(logs.contains("all logs ***"), "{logs}");
    // customer.env's password and key.json's private key are masked everywhere.
    for shown in [&text, &logs] {
        assert!(
            !shown.contains("sup3r-s3cret") && !shown.contains("KEY-----MIIEv"),
            "{shown}"
        );
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("diag/compose-ps.txt"))
            .expect("saved")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn wait_healthy_times_out_with_the_last_state() {
    let starting = r#"[{"Name":"/c_api_1","RestartCount":0,"State":{"Status":"created","ExitCode":0},"Config":{"Labels":{"com.docker.compose.service":"api"}}}]"#;
    let mut r = compose_v1()
        .answer("ps -q", vec![Output::new(0, "aaa\n", "")])
        .answer("docker inspect", vec![Output::new(0, starting, "")]);
    let opts = HealthOptions {
        interval: Duration::from_millis(20),
        timeout: Duration::from_millis(100),
        log_dir: None,
        rules: Rules::default(),
    };
    let err = wait_healthy(&mut r, &spec(), &opts)
        .await
        .expect_err("times out");
    assert!(
        matches!(&err, InstallError::Timeout { last, logs, .. } if last.contains("api created") && logs[0].0 == "api"),
        "{err}"
    );
}
