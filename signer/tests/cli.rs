//! The `signer` binary: keystore commands and the refusals at start-up.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a panic is a failed test"
)]

mod common;

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_signer");
const PASSWORD: &str = "cli-test-password";
const TOKEN: &str = "cli-test-token-0123456789";
const KEY_46: &str = "0x4646464646464646464646464646464646464646464646464646464646464646";
const ADDRESS_46: &str = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";

fn signer(args: &[&str], password: Option<&str>, stdin: &str) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("SIGNER_KEYSTORE_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(password) = password {
        command.env("SIGNER_KEYSTORE_PASSWORD", password);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

struct Setup {
    dir: tempfile::TempDir,
    keystore: PathBuf,
    token: PathBuf,
    policy: PathBuf,
    socket: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let keystore = dir.path().join("keys");
    let keystore_arg = keystore.to_str().unwrap();
    let out = signer(
        &[
            "keys",
            "import",
            "--keystore-dir",
            keystore_arg,
            "--id",
            "hot",
        ],
        Some(PASSWORD),
        &format!("{KEY_46}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = dir.path().join("token");
    fs::write(&token, format!("{TOKEN}\n")).unwrap();
    chmod(&token, 0o600);
    let policy = dir.path().join("policy.toml");
    fs::write(
        &policy,
        "[keys.hot]\nchain_ids = [1]\nmax_value_wei = \"1\"\nmax_value_per_day_wei = \"1\"\n",
    )
    .unwrap();
    let socket = dir.path().join("signer.sock");
    Setup {
        dir,
        keystore,
        token,
        policy,
        socket,
    }
}

impl Setup {
    fn serve_args(&self) -> Vec<String> {
        [
            "serve",
            "--keystore-dir",
            self.keystore.to_str().unwrap(),
            "--socket",
            self.socket.to_str().unwrap(),
            "--token-file",
            self.token.to_str().unwrap(),
            "--policy",
            self.policy.to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn serve(&self, password: Option<&str>) -> Output {
        let args = self.serve_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        signer(&args, password, "")
    }
}

#[test]
fn import_list_new_and_no_key_material_in_output() {
    let setup = setup();
    let keystore = setup.keystore.to_str().unwrap();
    assert_eq!(
        fs::metadata(&setup.keystore).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let out = signer(
        &["keys", "new", "--keystore-dir", keystore, "--id", "cold"],
        Some(PASSWORD),
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let password_file = setup.dir.path().join("password");
    fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    chmod(&password_file, 0o600);
    let out = signer(
        &[
            "keys",
            "list",
            "--keystore-dir",
            keystore,
            "--password-file",
            password_file.to_str().unwrap(),
        ],
        None,
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 2, "{listing}");
    assert!(lines[0].starts_with("cold\t0x"));
    assert_eq!(lines[1], format!("hot\t{ADDRESS_46}"));
    assert!(!listing.contains(&KEY_46[2..]));
    assert!(!text(&out.stderr).contains(&KEY_46[2..]));

    // The same id twice is refused, and a wrong password does not open the keystore.
    let out = signer(
        &["keys", "import", "--keystore-dir", keystore, "--id", "hot"],
        Some(PASSWORD),
        KEY_46,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already exists"));
    let out = signer(
        &["keys", "list", "--keystore-dir", keystore],
        Some("wrong"),
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("wrong password"));
}

#[test]
fn bad_key_on_stdin_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = dir.path().join("keys");
    let out = signer(
        &[
            "keys",
            "import",
            "--keystore-dir",
            keystore.to_str().unwrap(),
            "--id",
            "x",
        ],
        Some(PASSWORD),
        "0x46464646zz",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("32 bytes of hex"));
    assert!(!text(&out.stderr).contains("46464646zz"));
}

#[test]
fn serve_refuses_a_missing_password() {
    let setup = setup();
    let out = setup.serve(None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no keystore password"),
        "{}",
        text(&out.stderr)
    );
    let out = setup.serve(Some(""));
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no keystore password"));
    assert!(!setup.socket.exists());
}

#[test]
fn serve_refuses_world_readable_files() {
    let setup = setup();

    chmod(&setup.token, 0o644);
    let out = setup.serve(Some(PASSWORD));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("token file"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("world-readable"));
    chmod(&setup.token, 0o600);

    chmod(&setup.keystore, 0o755);
    let out = setup.serve(Some(PASSWORD));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("keystore directory"),
        "{}",
        text(&out.stderr)
    );
    chmod(&setup.keystore, 0o700);

    let password_file = setup.dir.path().join("password");
    fs::write(&password_file, PASSWORD).unwrap();
    chmod(&password_file, 0o644);
    let mut args = setup.serve_args();
    args.extend([
        "--password-file".to_owned(),
        password_file.to_str().unwrap().to_owned(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = signer(&args, None, "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("password file"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("world-readable"));

    let file = setup.keystore.join("hot.json");
    chmod(&file, 0o604);
    let out = setup.serve(Some(PASSWORD));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("keystore file"),
        "{}",
        text(&out.stderr)
    );
    assert!(!setup.socket.exists());
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_answers_on_its_socket() {
    let setup = setup();
    let child = Command::new(BIN)
        .args(setup.serve_args())
        .env("SIGNER_KEYSTORE_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(&setup.socket).is_err() {
        assert!(Instant::now() < deadline, "the signer did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let auth = ("authorization", "Bearer cli-test-token-0123456789");
    let answer = common::call(&setup.socket, "GET", "/v1/keys", &[auth], "").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        serde_json::json!([{"id": "hot", "address": ADDRESS_46}])
    );
    let answer = common::call(&setup.socket, "GET", "/v1/keys", &[], "").await;
    assert_eq!(answer.status, 401);
    // Checked once the server answers: the mode is set right after bind.
    assert_eq!(
        fs::metadata(&setup.socket).unwrap().permissions().mode() & 0o777,
        0o660
    );
}
