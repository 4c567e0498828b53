//! The HTTP API: routes, bearer-token authentication, request ids, and serving over a
//! Unix socket or TCP with TLS.

use std::future::Future;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Extension, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio_rustls::TlsAcceptor;

use crate::keystore::{ensure_not_world_readable, KeyRing, KeystoreError};
use crate::metrics::Metrics;
use crate::policy::PolicyEngine;
use crate::problem::Problem;
use crate::secret::BearerToken;
use crate::tx::{self, RequestError};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The header carrying the request id, honoured when the caller sends one.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_REQUEST_ID_LEN: usize = 128;
/// How long a client may take to send its request headers or finish a TLS handshake.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Metrics label for sign requests naming a key that does not exist (kept out of labels).
const UNKNOWN_KEY_LABEL: &str = "_unknown";

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A private file is world-readable or unreadable.
    #[error(transparent)]
    Permissions(#[from] KeystoreError),
    /// Binding the socket failed.
    #[error("cannot listen on {target}: {source}")]
    Bind {
        /// The socket path or address.
        target: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Something other than a stale socket is in the way of the socket path.
    #[error("{0} exists and is not a socket; refusing to replace it")]
    NotASocket(PathBuf),
    /// The TLS certificate or key could not be loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// Accepting a connection failed.
    #[error("accept failed: {0}")]
    Accept(std::io::Error),
}

/// What the handlers share.
#[derive(Debug)]
pub struct Shared {
    /// The loaded keys.
    pub keys: KeyRing,
    /// The signing policy.
    pub policy: PolicyEngine,
    /// The bearer token callers must present.
    pub token: BearerToken,
    /// Counters and histograms.
    pub metrics: Metrics,
}

/// The id of one request, from `X-Request-Id` or generated.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

#[derive(Debug, Serialize)]
struct KeyView {
    id: String,
    address: String,
}

#[derive(Debug, Serialize)]
struct SignResponse {
    raw_transaction: String,
    tx_hash: String,
    from: String,
}

/// Builds the API router.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/keys", get(list_keys))
        .route("/v1/keys/{id}/sign", post(sign))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), guard))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID_LEN
                && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, token) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| token.trim_ascii())
}

/// Runs around every route: request id, authentication, latency.
async fn guard(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(request.headers());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();

    let authorized = bearer(request.headers()).is_some_and(|t| shared.token.matches(t));
    let mut response = if authorized {
        request.extensions_mut().insert(RequestId(id.clone()));
        next.run(request).await
    } else {
        tracing::warn!(request_id = %id, route = %route, "refused: missing or wrong bearer token");
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "a valid `Authorization: Bearer <token>` header is required",
        )
        .with_request_id(&id)
        .into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    shared
        .metrics
        .request(&route, response.status().as_u16(), started.elapsed());
    response
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "keys": shared.keys.len() }))
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        shared.metrics.render(),
    )
        .into_response()
}

async fn list_keys(State(shared): State<Arc<Shared>>) -> Json<Vec<KeyView>> {
    Json(
        shared
            .keys
            .iter()
            .map(|k| KeyView {
                id: k.id().to_owned(),
                address: k.address().to_checksum(None),
            })
            .collect(),
    )
}

async fn not_found(Extension(RequestId(rid)): Extension<RequestId>) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Not Found",
        "no such endpoint",
    )
    .with_request_id(&rid)
}

async fn method_not_allowed(Extension(RequestId(rid)): Extension<RequestId>) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method Not Allowed",
        "this endpoint does not take that method",
    )
    .with_request_id(&rid)
}

fn invalid_request(
    status: StatusCode,
    detail: impl Into<String>,
    errors: Vec<tx::FieldError>,
    rid: &str,
) -> Problem {
    Problem::refusal(status, "invalid_request", "Invalid request", detail)
        .with_fields(errors)
        .with_request_id(rid)
}

async fn sign(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    path: Result<axum::extract::Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SignResponse>, Problem> {
    // The id comes from a matched route, so this only fails on bad percent-encoding.
    let Ok(axum::extract::Path(key_id)) = path else {
        return Err(Problem::refusal(
            StatusCode::NOT_FOUND,
            "unknown_key",
            "Unknown key",
            "no such key",
        )
        .with_request_id(&rid));
    };
    let Some(key) = shared.keys.get(&key_id) else {
        shared.metrics.refused(UNKNOWN_KEY_LABEL, "unknown_key");
        tracing::warn!(request_id = %rid, key = %key_id, rule = "unknown_key", "refused");
        return Err(Problem::refusal(
            StatusCode::NOT_FOUND,
            "unknown_key",
            "Unknown key",
            format!("no key with id {key_id:?}"),
        )
        .with_request_id(&rid));
    };

    let parsed = match body {
        Err(rejection) => Err(invalid_request(
            rejection.status(),
            rejection.body_text(),
            Vec::new(),
            &rid,
        )),
        Ok(bytes) => tx::parse_sign_request(&bytes).map_err(|e| match e {
            RequestError::Malformed(detail) => invalid_request(
                StatusCode::BAD_REQUEST,
                format!("the body must be a JSON object: {detail}"),
                Vec::new(),
                &rid,
            ),
            RequestError::Fields(errors) => invalid_request(
                StatusCode::UNPROCESSABLE_ENTITY,
                tx::describe(&errors),
                errors,
                &rid,
            ),
        }),
    };
    let unsigned = match parsed {
        Ok(unsigned) => unsigned,
        Err(problem) => {
            shared.metrics.refused(key.id(), "invalid_request");
            tracing::warn!(
                request_id = %rid, key = %key.id(), rule = "invalid_request",
                detail = %problem.detail, "refused"
            );
            return Err(problem);
        }
    };

    let to = unsigned
        .to()
        .map(|a| a.to_checksum(None))
        .unwrap_or_default();
    let value = unsigned.value().to_string();
    let chain_id = unsigned.chain_id().unwrap_or_default();
    let nonce = unsigned.nonce();
    let kind = unsigned.kind();

    let reservation = match shared.policy.authorize(key.id(), &unsigned) {
        Ok(reservation) => reservation,
        Err(refusal) => {
            let rule = refusal.rule.as_str();
            shared.metrics.refused(key.id(), rule);
            tracing::warn!(
                request_id = %rid, key = %key.id(), rule, chain_id, nonce, to = %to,
                value = %value, detail = %refusal.detail, "refused"
            );
            return Err(Problem::refusal(
                StatusCode::FORBIDDEN,
                rule,
                "Refused by the signing policy",
                refusal.detail,
            )
            .with_request_id(&rid));
        }
    };

    match tx::sign(unsigned, key.signer()) {
        Ok(signed) => {
            reservation.commit();
            shared.metrics.signed(key.id(), kind);
            let tx_hash = signed.tx_hash.to_string();
            tracing::info!(
                request_id = %rid, key = %key.id(), kind, chain_id, nonce, to = %to,
                value = %value, tx_hash = %tx_hash, "signed"
            );
            Ok(Json(SignResponse {
                raw_transaction: signed.raw_transaction.to_string(),
                tx_hash,
                from: signed.from.to_checksum(None),
            }))
        }
        Err(error) => {
            drop(reservation);
            shared.metrics.refused(key.id(), "signing_failed");
            tracing::error!(request_id = %rid, key = %key.id(), error = %error, "signing failed");
            Err(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "signing_failed",
                "Signing failed",
                error.to_string(),
            )
            .with_request_id(&rid))
        }
    }
}

/// Binds the Unix socket at `path` (mode 0660), replacing a stale socket left by an
/// earlier run.
///
/// # Errors
///
/// [`ServeError::NotASocket`] when another kind of file is at `path`,
/// [`ServeError::Bind`] when binding or setting the mode fails.
pub fn bind_unix(path: &Path) -> Result<UnixListener, ServeError> {
    let bind_error = |source| ServeError::Bind {
        target: path.display().to_string(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            std::fs::remove_file(path).map_err(bind_error)?;
        }
        Ok(_) => return Err(ServeError::NotASocket(path.to_path_buf())),
        Err(_) => {}
    }
    let listener = UnixListener::bind(path).map_err(bind_error)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(bind_error)?;
    Ok(listener)
}

/// Binds a TCP listener at `addr`.
///
/// # Errors
///
/// [`ServeError::Bind`] when binding fails.
pub async fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            target: addr.to_string(),
            source,
        })
}

/// Loads a PEM certificate chain and private key into a TLS acceptor (TLS 1.2 and 1.3,
/// HTTP/1.1 by ALPN). The key file must not be world-readable.
///
/// # Errors
///
/// [`ServeError::Permissions`] for a world-readable key, [`ServeError::Tls`] when the files
/// cannot be read or do not make a valid configuration.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, ServeError> {
    ensure_not_world_readable(key, "TLS private key")?;
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no certificate",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn spawn_connection<I>(io: I, app: Router, graceful: &GracefulShutdown)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(CLIENT_TIMEOUT)
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "connection ended with an error");
        }
    });
}

async fn drain(graceful: GracefulShutdown) {
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("gave up waiting for in-flight requests");
    }
}

/// Serves `app` on a bound Unix socket until `shutdown` completes, then lets in-flight
/// requests finish.
///
/// # Errors
///
/// [`ServeError::Accept`] when accepting fails for a reason other than a transient one.
pub async fn serve_unix(
    listener: UnixListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => spawn_connection(stream, app.clone(), &graceful),
                Err(error) if is_transient(&error) => {
                    tracing::warn!(%error, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => return Err(ServeError::Accept(error)),
            },
        }
    }
    drain(graceful).await;
    Ok(())
}

/// Serves `app` over TLS on a bound TCP listener until `shutdown` completes.
///
/// # Errors
///
/// [`ServeError::Accept`] when accepting fails for a reason other than a transient one.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let graceful = GracefulShutdown::new();
    let (tls_streams, mut ready) = tokio::sync::mpsc::channel(64);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(stream) = ready.recv() => spawn_connection(stream, app.clone(), &graceful),
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    // Handshakes run apart from the accept loop so a slow client stalls no one.
                    let acceptor = acceptor.clone();
                    let tls_streams = tls_streams.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(CLIENT_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(stream)) => {
                                let _ = tls_streams.send(stream).await;
                            }
                            Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                        }
                    });
                }
                Err(error) if is_transient(&error) => {
                    tracing::warn!(%error, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => return Err(ServeError::Accept(error)),
            },
        }
    }
    drain(graceful).await;
    Ok(())
}

/// Accept errors that concern one connection or a passing shortage, not the listener.
fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        error.kind(),
        K::ConnectionAborted | K::ConnectionReset | K::Interrupted | K::WouldBlock
    ) || matches!(error.raw_os_error(), Some(23 | 24)) // ENFILE, EMFILE
}
