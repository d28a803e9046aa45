//! The SSH transport against a real OpenSSH sshd on 127.0.0.1 (started and stopped by PID here).
//!
//! Needs `/usr/sbin/sshd` and `ssh-keygen` (package openssh-server). Covers exec (stdout,
//! stderr, exit codes), SFTP upload (exact bytes, exact mode, atomic replace), a wrong pinned
//! host key (refused before any command), a refused user key, and retrying until a late sshd.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use carto_provision::remote::{Cmd, LineSink, Runner, Stream};
use carto_provision::ssh::{ConnectOptions, Session, SshError, SshTarget, fingerprint};
use russh::keys::{PrivateKey, PublicKey};

/// A keypair made by ssh-keygen in `dir`.
fn keygen(dir: &Path, name: &str) -> (PrivateKey, PublicKey) {
    let path = dir.join(name);
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen runs");
    assert!(st.success(), "ssh-keygen failed");
    let private = std::fs::read_to_string(&path).expect("private key written");
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key written");
    (
        PrivateKey::from_openssh(&private).expect("private key parses"),
        PublicKey::from_openssh(public.trim()).expect("public key parses"),
    )
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A temp dir with a host key, an authorized client key and an sshd config; sshd runs on demand.
struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    host_key: PublicKey,
    client_key: PrivateKey,
    child: Option<Child>,
}

impl Sshd {
    fn prepare() -> Sshd {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, host_key) = keygen(dir.path(), "host_key");
        let (client_key, client_pub) = keygen(dir.path(), "client_key");
        let authorized = dir.path().join("authorized_keys");
        std::fs::write(&authorized, client_pub.to_openssh().expect("encode") + "\n")
            .expect("authorized_keys");
        let port = free_port();
        let d = dir.path().display();
        let config = format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
             PidFile {d}/sshd.pid\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n\
             Subsystem sftp internal-sftp\nLogLevel ERROR\n"
        );
        std::fs::write(dir.path().join("sshd_config"), config).expect("sshd_config");
        Sshd {
            dir,
            port,
            host_key,
            client_key,
            child: None,
        }
    }

    fn start(&mut self) {
        // sshd refuses to start without its privilege separation directory.
        if !Path::new("/run/sshd").exists() {
            std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        }
        let log = std::fs::File::create(self.path("sshd.log")).expect("sshd.log");
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(self.dir.path().join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd starts (apt-get install -y openssh-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn target(&self) -> SshTarget {
        SshTarget {
            host: "127.0.0.1".into(),
            port: self.port,
            user: current_user(),
            key: self.client_key.clone(),
            host_key: self.host_key.clone(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL to this child's PID only
            let _ = c.wait();
        }
    }
}

fn quick() -> ConnectOptions {
    ConnectOptions {
        timeout: Duration::from_secs(20),
        keepalive: Duration::from_secs(5),
    }
}

#[derive(Default)]
struct Collect(Vec<(Stream, String)>);

impl LineSink for Collect {
    fn line(&mut self, s: Stream, l: &str) {
        self.0.push((s, l.to_string()));
    }
}

#[tokio::test]
async fn ssh_exec_returns_stdout_stderr_and_exit_codes() {
    let mut sshd = Sshd::prepare();
    sshd.start();
    let mut s = Session::connect(&sshd.target(), quick())
        .await
        .expect("connects");

    let mut sink = Collect::default();
    let cmd = Cmd::script(r#"echo "out $1"; echo "err $2" >&2; exit 3"#)
        .arg("a b")
        .arg("it's");
    let out = s.exec(&cmd, &mut sink).await.expect("exec");
    assert_eq!(
        (out.exit, out.stdout.as_str(), out.stderr.as_str()),
        (3, "out a b\n", "err it's\n")
    );
    assert!(sink.0.contains(&(Stream::Stdout, "out a b".into())));
    assert!(sink.0.contains(&(Stream::Stderr, "err it's".into())));

    let ok = s
        .exec(&Cmd::new("true"), &mut Collect::default())
        .await
        .expect("exec");
    assert_eq!(ok.exit, 0);
    let long = s
        .exec(
            &Cmd::new("seq").arg("1").arg("20000"),
            &mut Collect::default(),
        )
        .await
        .expect("exec");
    assert_eq!(
        long.stdout.lines().count(),
        20000,
        "large output arrives whole"
    );
    s.close().await;
}

#[tokio::test]
async fn ssh_upload_writes_exact_bytes_with_the_mode_asked_and_replaces_atomically() {
    let mut sshd = Sshd::prepare();
    sshd.start();
    let mut s = Session::connect(&sshd.target(), quick())
        .await
        .expect("connects");
    let dest = sshd.path("customer.env");
    let dest_s = dest.to_string_lossy().to_string();

    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    s.upload(&dest_s, &big, 0o600).await.expect("upload");
    assert_eq!(std::fs::read(&dest).expect("file exists"), big);
    let mode = std::fs::metadata(&dest).expect("stat").permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600);

    // Replace an existing file that is group/world readable: new bytes, mode tightened.
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    s.upload(&dest_s, b"SECOND=1\n", 0o600)
        .await
        .expect("upload again");
    assert_eq!(std::fs::read(&dest).expect("file exists"), b"SECOND=1\n");
    let mode = std::fs::metadata(&dest).expect("stat").permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600);

    s.upload(&sshd.path("shim").to_string_lossy(), b"#!/bin/sh\n", 0o755)
        .await
        .expect("upload");
    let mode = std::fs::metadata(sshd.path("shim"))
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o755, "modes other than 0600 are set exactly too");

    let leftovers: Vec<_> = std::fs::read_dir(sshd.dir.path())
        .expect("readdir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let err = s
        .upload(&sshd.path("no/such/dir/x").to_string_lossy(), b"x", 0o600)
        .await;
    assert!(err.is_err(), "upload into a missing directory fails");
    s.close().await;
}

#[tokio::test]
async fn ssh_wrong_pinned_host_key_is_refused_before_any_command() {
    let mut sshd = Sshd::prepare();
    sshd.start();
    let (_, other) = keygen(sshd.dir.path(), "other_host_key");
    let mut target = sshd.target();
    target.host_key = other.clone();
    let marker = sshd.path("marker");

    let started = Instant::now();
    let result = Session::connect(&target, quick()).await;
    if let Ok(mut s) = result {
        let _ = s
            .exec(
                &Cmd::new("touch").arg(marker.to_string_lossy().to_string()),
                &mut Collect::default(),
            )
            .await;
        panic!("connected with a wrong host key");
    }
    match result {
        Err(SshError::HostKeyMismatch {
            expected_fingerprint,
            got_fingerprint,
            ..
        }) => {
            assert_eq!(expected_fingerprint, fingerprint(&other));
            assert_eq!(got_fingerprint, fingerprint(&sshd.host_key));
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => unreachable!(),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a host key mismatch is not retried"
    );
    assert!(!marker.exists(), "no command ran");
}

#[tokio::test]
async fn ssh_a_key_the_server_does_not_know_is_refused() {
    let mut sshd = Sshd::prepare();
    sshd.start();
    let (stranger, _) = keygen(sshd.dir.path(), "stranger");
    let mut target = sshd.target();
    target.key = stranger;
    let err = Session::connect(&target, quick())
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, SshError::AuthRejected { .. }), "{err}");
}

#[tokio::test]
async fn ssh_connect_retries_until_a_late_sshd_answers() {
    let mut sshd = Sshd::prepare();
    let target = sshd.target();
    let started = Instant::now();
    let connecting = tokio::spawn(async move { Session::connect(&target, quick()).await });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    sshd.start();
    let mut s = connecting
        .await
        .expect("task")
        .expect("connects once sshd is up");
    assert!(started.elapsed() >= Duration::from_millis(2500));
    let out = s
        .exec(&Cmd::new("echo").arg("up"), &mut Collect::default())
        .await
        .expect("exec");
    assert_eq!(out.stdout, "up\n");
}

#[tokio::test]
async fn ssh_gives_up_at_the_deadline_and_says_what_it_tried() {
    let sshd = Sshd::prepare(); // never started: the port refuses connections
    let opts = ConnectOptions {
        timeout: Duration::from_secs(4),
        keepalive: Duration::from_secs(5),
    };
    let started = Instant::now();
    let err = Session::connect(&sshd.target(), opts)
        .await
        .err()
        .expect("gives up");
    let SshError::Unreachable { attempts, last, .. } = &err else {
        panic!("wrong error: {err}");
    };
    assert!(*attempts >= 2, "retried: {err}");
    assert!(last.to_lowercase().contains("refused"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

/// A port whose SYNs go unanswered, as a cloud's are while the VM is not up: a listener that
/// never accepts, with its one-place accept queue filled, so the kernel drops further SYNs.
/// Each attempt gives up after `TCP_CONNECT_TIMEOUT` and the next sends a fresh SYN.
#[tokio::test]
async fn ssh_retries_a_tcp_connect_that_gets_no_answer() {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let port = listener.local_addr().expect("addr").port();
    // Fill the accept queue until a connection attempt hangs.
    let mut queued = Vec::new();
    loop {
        let attempt = tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await;
        match attempt {
            Ok(Ok(stream)) => queued.push(stream),
            Ok(Err(e)) => panic!("connect: {e}"),
            Err(_) => break,
        }
        assert!(queued.len() < 16, "the accept queue never filled");
    }
    let mut target = Sshd::prepare().target();
    target.port = port;
    let opts = ConnectOptions {
        timeout: carto_provision::ssh::TCP_CONNECT_TIMEOUT * 2 + Duration::from_secs(1),
        keepalive: Duration::from_secs(5),
    };
    let err = Session::connect(&target, opts)
        .await
        .err()
        .expect("no SSH behind a port that never answers");
    let SshError::Unreachable { attempts, last, .. } = &err else {
        panic!("wrong error: {err}");
    };
    assert!(*attempts >= 2, "one attempt hung until the deadline: {err}");
    assert!(last.contains("no TCP connection within"), "{err}");
    drop(listener);
}

/// Counts step events.
#[derive(Default)]
struct Count {
    skipped: Vec<String>,
    done: Vec<String>,
}

impl LineSink for Count {
    fn line(&mut self, _: Stream, _: &str) {}
}

impl carto_provision::remote::StepEvents for Count {
    fn skipped(&mut self, step: &str) {
        self.skipped.push(step.to_string());
    }
    fn done(&mut self, step: &str) {
        self.done.push(step.to_string());
    }
}

#[tokio::test]
async fn ssh_run_steps_uploads_package_files_once_then_skips_them() {
    use carto_provision::pipeline::install::{self, DockerSource, RemoteSpec, UploadFile};
    use carto_provision::remote::run_steps;

    let mut sshd = Sshd::prepare();
    sshd.start();
    let checkout = sshd.path("carto-selfhosted");
    std::fs::create_dir(&checkout).expect("mkdir");
    let spec = RemoteSpec {
        ssh_user: current_user(),
        domain: "carto.example.com".into(),
        docker_source: DockerSource::Distro,
        docker_apt_url: String::new(),
        selfhosted_repo: String::new(),
        selfhosted_version: "2025.11.11-patch1".into(),
        selfhosted_source: None,
        files: vec![
            UploadFile::new("customer.env", b"POSTGRES_ADMIN_PASSWORD=s3cret\n".to_vec())
                .expect("path"),
            UploadFile::new("certs/x.crt", b"-----BEGIN CERTIFICATE-----\n".to_vec())
                .expect("path"),
        ],
        checkout_dir: checkout.to_string_lossy().into(),
        verify_cert: false,
    };
    let uploads: Vec<_> = install::prepare_steps(&spec)
        .into_iter()
        .filter(|s| s.name.starts_with("upload "))
        .collect();
    assert_eq!(uploads.len(), 2);

    let mut s = Session::connect(&sshd.target(), quick())
        .await
        .expect("connects");
    let mut first = Count::default();
    run_steps(&mut s, &uploads, &mut first)
        .await
        .expect("uploads");
    assert_eq!(first.done, ["upload customer.env", "upload certs/x.crt"]);
    for (rel, want) in [
        ("customer.env", &b"POSTGRES_ADMIN_PASSWORD=s3cret\n"[..]),
        ("certs/x.crt", b"-----BEGIN CERTIFICATE-----\n"),
    ] {
        let p = checkout.join(rel);
        assert_eq!(std::fs::read(&p).expect("uploaded"), want);
        assert_eq!(
            std::fs::metadata(&p).expect("stat").permissions().mode() & 0o777,
            0o600,
            "{rel}"
        );
    }

    let mut second = Count::default();
    run_steps(&mut s, &uploads, &mut second)
        .await
        .expect("idempotent");
    assert_eq!(second.skipped.len(), 2, "same hash and mode: nothing to do");
    assert!(second.done.is_empty());

    // A loosened mode makes the check fail again, and the upload restores 0600.
    std::fs::set_permissions(
        checkout.join("customer.env"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let mut third = Count::default();
    run_steps(&mut s, &uploads, &mut third)
        .await
        .expect("repaired");
    assert_eq!(third.done, ["upload customer.env"]);
    let mode = std::fs::metadata(checkout.join("customer.env"))
        .expect("stat")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}
