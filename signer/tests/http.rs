//! The HTTP API over a real Unix socket.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a panic is a failed test"
)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::call;
use signer::keystore::{KeyRing, SigningKey};
use signer::metrics::Metrics;
use signer::policy::PolicyEngine;
use signer::secret::{BearerToken, PrivateKey};
use signer::server::{self, Shared};
use tokio::sync::oneshot;

const TOKEN: &str = "test-token-0123456789abcdef";
const AUTH: (&str, &str) = ("authorization", "Bearer test-token-0123456789abcdef");

const POLICY: &str = r#"
[keys.hot]
chain_ids = [1, 11155111]
max_value_wei = "1000000000000000000"
max_value_per_day_wei = "1500000000000000000"
deny_to = ["0x000000000000000000000000000000000000dEaD"]
"#;

const EIP1559_BODY: &str = r#"{"type":"eip1559","chain_id":"1","nonce":"0",
    "to":"0x3535353535353535353535353535353535353535","value":"1000000000000000000",
    "gas_limit":"21000","max_fee_per_gas":"30000000000","max_priority_fee_per_gas":"1000000000",
    "data":"0x"}"#;

struct Server {
    socket: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("signer.sock");
        let hot = SigningKey::from_private_key("hot", &PrivateKey::from_bytes([0x46; 32])).unwrap();
        let nopolicy =
            SigningKey::from_private_key("nopolicy", &PrivateKey::from_bytes([0x47; 32])).unwrap();
        let shared = Arc::new(Shared {
            keys: KeyRing::from_keys([hot, nopolicy]),
            policy: PolicyEngine::from_toml(POLICY).unwrap(),
            token: BearerToken::new(TOKEN.to_owned()).unwrap(),
            metrics: Metrics::default(),
        });
        let listener = server::bind_unix(&socket).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server::serve_unix(listener, server::router(shared), async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            socket,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap();
    }
}

fn assert_problem(answer: &common::Answer, status: u16) -> serde_json::Value {
    assert_eq!(answer.status, status, "{}", answer.text());
    assert_eq!(answer.content_type, "application/problem+json");
    let problem = answer.json();
    assert_eq!(problem["status"], status);
    assert!(problem["type"].as_str().is_some());
    assert!(problem["title"].as_str().is_some());
    assert!(problem["detail"].as_str().is_some());
    problem
}

#[tokio::test]
async fn bad_or_missing_token_is_401_problem() {
    let server = Server::start().await;
    for headers in [
        vec![("authorization", "Bearer wrong-token")],
        vec![("authorization", "Basic dGVzdA==")],
        vec![],
    ] {
        let answer = call(&server.socket, "GET", "/v1/keys", &headers, "").await;
        let problem = assert_problem(&answer, 401);
        assert_eq!(problem["type"], "urn:tessera:signer:problem:unauthorized");
    }
    let answer = call(
        &server.socket,
        "POST",
        "/v1/keys/hot/sign",
        &[],
        EIP1559_BODY,
    )
    .await;
    assert_problem(&answer, 401);
    let answer = call(&server.socket, "GET", "/healthz", &[], "").await;
    assert_problem(&answer, 401);
    server.stop().await;
}

#[tokio::test]
async fn good_token_lists_keys_and_signs() {
    let server = Server::start().await;

    let answer = call(&server.socket, "GET", "/healthz", &[AUTH], "").await;
    assert_eq!(answer.status, 200);

    let answer = call(&server.socket, "GET", "/v1/keys", &[AUTH], "").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        serde_json::json!([
            {"id": "hot", "address": "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"},
            {"id": "nopolicy", "address": answer.json()[1]["address"]},
        ])
    );

    let answer = call(
        &server.socket,
        "POST",
        "/v1/keys/hot/sign",
        &[
            AUTH,
            ("x-request-id", "withdrawal-42"),
            ("content-type", "application/json"),
        ],
        EIP1559_BODY,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.request_id.as_deref(), Some("withdrawal-42"));
    // The EIP-1559 known-answer vector of tests/vectors.rs.
    assert_eq!(
        answer.json(),
        serde_json::json!({
            "raw_transaction": "0x02f8730180843b9aca008506fc23ac00825208943535353535353535353535353535353535353535880de0b6b3a764000080c080a0ace296070c5d78d56992465b1a122be5095f5b96cce3ee324a5e4c844f3c65e9a015f8e8ea010d5a7141afdd77c625eaf6274154c7fd5287f205341bb3dff4d776",
            "tx_hash": "0x7316c0cd73737da743132590135e279930748befe182ec66b959174cb0b58ef1",
            "from": "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F",
        })
    );

    let answer = call(&server.socket, "GET", "/v1/keys/hot/sign", &[AUTH], "").await;
    assert_problem(&answer, 405);
    let answer = call(&server.socket, "GET", "/v2/nothing", &[AUTH], "").await;
    assert_problem(&answer, 404);

    let metrics = call(&server.socket, "GET", "/metrics", &[AUTH], "").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .text()
        .contains("signer_signatures_total{key=\"hot\",type=\"eip1559\"} 1"));
    assert!(metrics
        .text()
        .contains("signer_request_duration_seconds_count{route=\"/v1/keys/{id}/sign\"} 2"));
    assert!(metrics
        .text()
        .contains("signer_requests_total{route=\"/v1/keys/{id}/sign\",status=\"405\"} 1"));
    server.stop().await;
}

#[tokio::test]
async fn refusals_are_problems_naming_the_rule() {
    let server = Server::start().await;
    let sign = |key: &'static str, body: String| {
        let socket = server.socket.clone();
        async move {
            call(
                &socket,
                "POST",
                &format!("/v1/keys/{key}/sign"),
                &[AUTH],
                &body,
            )
            .await
        }
    };

    let cases = [
        (
            "hot",
            EIP1559_BODY.replace(r#""chain_id":"1""#, r#""chain_id":"137""#),
            403,
            "chain_id_not_allowed",
        ),
        (
            "hot",
            EIP1559_BODY.replace("1000000000000000000", "1000000000000000001"),
            403,
            "max_value_exceeded",
        ),
        (
            "hot",
            EIP1559_BODY.replace(
                "0x3535353535353535353535353535353535353535",
                "0x000000000000000000000000000000000000dEaD",
            ),
            403,
            "destination_denied",
        ),
        ("nopolicy", EIP1559_BODY.to_owned(), 403, "no_policy"),
        ("ghost", EIP1559_BODY.to_owned(), 404, "unknown_key"),
        (
            "hot",
            EIP1559_BODY.replace(r#""value":"1000000000000000000""#, r#""value":1"#),
            422,
            "invalid_request",
        ),
        (
            "hot",
            EIP1559_BODY.replace(r#""data":"0x""#, r#""data":"0x","extra":"1""#),
            422,
            "invalid_request",
        ),
        ("hot", "{not json".to_owned(), 400, "invalid_request"),
    ];
    for (key, body, status, rule) in cases {
        let answer = sign(key, body).await;
        let problem = assert_problem(&answer, status);
        assert_eq!(problem["rule"], rule, "{problem}");
        assert_eq!(
            problem["type"],
            format!("urn:tessera:signer:problem:{rule}")
        );
        assert!(problem["request_id"].as_str().is_some());
    }

    let answer = sign(
        "hot",
        EIP1559_BODY.replace(r#""value":"1000000000000000000""#, r#""value":"-5""#),
    )
    .await;
    let problem = assert_problem(&answer, 422);
    assert_eq!(problem["field"], "value");

    // The daily limit (1.5 ether) holds across requests: 1 ether passes, the next does not.
    let answer = sign("hot", EIP1559_BODY.to_owned()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = sign(
        "hot",
        EIP1559_BODY.replace(r#""nonce":"0""#, r#""nonce":"1""#),
    )
    .await;
    let problem = assert_problem(&answer, 403);
    assert_eq!(problem["rule"], "daily_limit_exceeded");

    let metrics = call(&server.socket, "GET", "/metrics", &[AUTH], "")
        .await
        .text();
    assert!(metrics.contains("signer_refusals_total{key=\"hot\",rule=\"chain_id_not_allowed\"} 1"));
    assert!(metrics.contains("signer_refusals_total{key=\"hot\",rule=\"daily_limit_exceeded\"} 1"));
    assert!(metrics.contains("signer_refusals_total{key=\"_unknown\",rule=\"unknown_key\"} 1"));
    server.stop().await;
}
