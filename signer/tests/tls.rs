//! The HTTP API over TCP with TLS (`--listen` with `--tls-cert`/`--tls-key`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a panic is a failed test"
)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use rustls_pki_types::ServerName;
use signer::keystore::{KeyRing, KeystoreError, SigningKey};
use signer::metrics::Metrics;
use signer::policy::PolicyEngine;
use signer::secret::{BearerToken, PrivateKey};
use signer::server::{self, ServeError, Shared};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;

#[tokio::test]
async fn serves_over_tls_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    fs::write(&cert_path, certified.cert.pem()).unwrap();
    fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();

    // A world-readable TLS key is refused.
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        server::tls_acceptor(&cert_path, &key_path),
        Err(ServeError::Permissions(KeystoreError::WorldReadable { .. }))
    ));
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).unwrap();
    let acceptor = server::tls_acceptor(&cert_path, &key_path).unwrap();

    let key = SigningKey::from_private_key("hot", &PrivateKey::from_bytes([0x46; 32])).unwrap();
    let shared = Arc::new(Shared {
        keys: KeyRing::from_keys([key]),
        policy: PolicyEngine::from_toml("").unwrap(),
        token: BearerToken::new("tls-token".to_owned()).unwrap(),
        metrics: Metrics::default(),
    });
    let listener = server::bind_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve_tls(
        listener,
        acceptor,
        server::router(shared),
        async {
            let _ = stopped.await;
        },
    ));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    let connect = || async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap()
    };

    let answer = common::call_over(
        connect().await,
        "GET",
        "/v1/keys",
        &[("authorization", "Bearer tls-token")],
        "",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json(),
        serde_json::json!([{"id": "hot", "address": "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"}])
    );
    let answer = common::call_over(connect().await, "GET", "/v1/keys", &[], "").await;
    assert_eq!(answer.status, 401);

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
