//! Tessera's transaction signer.
//!
//! Keys live in encrypted keystores (Web3 Secret Storage v3, scrypt) and never leave this
//! process: the HTTP API lists key ids and addresses and signs EVM transactions (EIP-1559,
//! and legacy only with an EIP-155 chain id) that pass the per-key [`policy`].
//!
//! - [`secret`]: zeroize-on-drop holders of keys, passwords and tokens.
//! - [`keystore`]: reading and writing keystores; the world-readable checks.
//! - [`quantity`]: decimal-string quantities.
//! - [`tx`]: sign requests and signing.
//! - [`policy`]: the signing policy and its rolling daily totals.
//! - [`server`], [`problem`], [`metrics`]: the HTTP API.

pub mod keystore;
pub mod metrics;
pub mod policy;
pub mod problem;
pub mod quantity;
pub mod secret;
pub mod server;
pub mod tx;
