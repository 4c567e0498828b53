//! The `signer` command line: manage keystores and serve the signing API.

use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use signer::keystore::{self, ensure_not_world_readable, KeyRing};
use signer::metrics::Metrics;
use signer::policy::PolicyEngine;
use signer::secret::{BearerToken, Password, PrivateKey};
use signer::server::{self, Shared};
use tracing_subscriber::EnvFilter;
use zeroize::Zeroizing;

/// The environment variable holding the keystore password.
const PASSWORD_ENV: &str = "SIGNER_KEYSTORE_PASSWORD";
/// The environment variable holding the log filter (`info` by default).
const LOG_ENV: &str = "SIGNER_LOG";

/// Tessera's transaction signer.
#[derive(Debug, Parser)]
#[command(name = "signer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage encrypted keystores.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Serve the signing API.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct KeystoreArgs {
    /// Directory of `<id>.json` keystores (created with mode 0700 if missing).
    #[arg(long, value_name = "DIR")]
    keystore_dir: PathBuf,
    #[arg(
        long,
        value_name = "FILE",
        help = "File holding the keystore password (default: $SIGNER_KEYSTORE_PASSWORD)"
    )]
    password_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Encrypt a hex private key read from standard input.
    Import {
        #[command(flatten)]
        store: KeystoreArgs,
        /// The new key's id (1 to 64 of A-Z a-z 0-9 _ -).
        #[arg(long)]
        id: String,
    },
    /// Generate a new random key.
    New {
        #[command(flatten)]
        store: KeystoreArgs,
        /// The new key's id (1 to 64 of A-Z a-z 0-9 _ -).
        #[arg(long)]
        id: String,
    },
    /// Print the id and address of every key.
    List {
        #[command(flatten)]
        store: KeystoreArgs,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    store: KeystoreArgs,
    /// Serve HTTP on this Unix socket (mode 0660).
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "listen",
        conflicts_with = "listen"
    )]
    socket: Option<PathBuf>,
    /// Serve HTTPS on this TCP address instead (needs --tls-cert and --tls-key).
    #[arg(long, value_name = "ADDR", requires_all = ["tls_cert", "tls_key"])]
    listen: Option<SocketAddr>,
    /// PEM certificate chain for --listen.
    #[arg(long, value_name = "FILE", requires = "listen")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --listen.
    #[arg(long, value_name = "FILE", requires = "listen")]
    tls_key: Option<PathBuf>,
    /// File holding the bearer token every request must present.
    #[arg(long, value_name = "FILE")]
    token_file: PathBuf,
    /// The signing policy (TOML).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
}

fn read_password(store: &KeystoreArgs) -> anyhow::Result<Password> {
    let text = if let Some(path) = &store.password_file {
        ensure_not_world_readable(path, "password file")?;
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read password file {}", path.display()))?
    } else {
        match std::env::var(PASSWORD_ENV) {
            Ok(text) => text,
            Err(_) => {
                bail!("no keystore password: set {PASSWORD_ENV} or pass --password-file FILE")
            }
        }
    };
    Password::new(text).with_context(|| {
        format!("no keystore password: {PASSWORD_ENV} or the --password-file is empty")
    })
}

fn print_key(id: &str, address: &alloy_primitives::Address) -> anyhow::Result<()> {
    writeln!(io::stdout(), "{id}\t{}", address.to_checksum(None)).context("writing to stdout")
}

fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Import { store, id } => {
            keystore::validate_id(&id)?;
            let password = read_password(&store)?;
            let mut text = Zeroizing::new(String::new());
            io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the private key from standard input")?;
            let key = PrivateKey::from_hex(&text)?;
            let address = keystore::import(&store.keystore_dir, &id, &key, &password)?;
            print_key(&id, &address)
        }
        KeysCommand::New { store, id } => {
            keystore::validate_id(&id)?;
            let password = read_password(&store)?;
            let address = keystore::generate(&store.keystore_dir, &id, &password)?;
            print_key(&id, &address)
        }
        KeysCommand::List { store } => {
            let password = read_password(&store)?;
            let ring = KeyRing::load_dir(&store.keystore_dir, &password)?;
            for key in ring.iter() {
                print_key(key.id(), &key.address())?;
            }
            Ok(())
        }
    }
}

fn read_token(path: &Path) -> anyhow::Result<BearerToken> {
    ensure_not_world_readable(path, "token file")?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read token file {}", path.display()))?;
    BearerToken::new(text).with_context(|| format!("token file {} is empty", path.display()))
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot watch SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Every check runs before the socket is bound: a misconfigured signer never listens.
    let token = read_token(&args.token_file)?;
    let password = read_password(&args.store)?;
    let keys = KeyRing::load_dir(&args.store.keystore_dir, &password)
        .context("cannot load the keystores")?;
    drop(password);
    let policy = PolicyEngine::from_file(&args.policy)?;
    if keys.is_empty() {
        tracing::warn!(dir = %args.store.keystore_dir.display(), "no keystores found; nothing can be signed");
    }
    for key in keys.iter() {
        if policy.policy(key.id()).is_none() {
            tracing::warn!(key = %key.id(), "key has no policy table; it will sign nothing");
        }
    }
    for id in policy.key_ids() {
        if keys.get(id).is_none() {
            tracing::warn!(key = %id, "policy names a key that is not in the keystore");
        }
    }
    let tls = match (&args.listen, &args.tls_cert, &args.tls_key) {
        (Some(_), Some(cert), Some(key)) => Some(server::tls_acceptor(cert, key)?),
        _ => None,
    };
    let key_count = keys.len();
    let app = server::router(Arc::new(Shared {
        keys,
        policy,
        token,
        metrics: Metrics::default(),
    }));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match (args.socket, args.listen, tls) {
            (Some(path), _, _) => {
                let listener = server::bind_unix(&path)?;
                tracing::info!(socket = %path.display(), keys = key_count, "listening");
                server::serve_unix(listener, app, shutdown_signal()).await?;
                let _ = std::fs::remove_file(&path);
            }
            (None, Some(addr), Some(acceptor)) => {
                let listener = server::bind_tcp(addr).await?;
                tracing::info!(listen = %addr, tls = true, keys = key_count, "listening");
                server::serve_tls(listener, acceptor, app, shutdown_signal()).await?;
            }
            _ => bail!("pass --socket PATH, or --listen ADDR with --tls-cert and --tls-key"),
        }
        Ok(())
    })
}

fn init_logging() {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Keys { command } => keys(command),
        Command::Serve(args) => serve(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "signer failed");
            let _ = writeln!(io::stderr(), "signer: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
