//! The signer is built on the individual Alloy crates, never the `alloy` umbrella, whose
//! defaults pull in HTTP transports, providers and contract code a key holder has no use for.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a panic is a failed test"
)]

use std::collections::BTreeSet;
use std::path::Path;

/// Every package name in the workspace's `Cargo.lock`: what the build resolves to.
fn locked_packages() -> BTreeSet<String> {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    let text = std::fs::read_to_string(&lock).unwrap();
    let lock: toml::Table = toml::from_str(&text).unwrap();
    lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| package["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn individual_alloy_crates_and_no_umbrella() {
    let packages = locked_packages();
    for wanted in [
        "alloy-consensus",
        "alloy-eips",
        "alloy-primitives",
        "alloy-signer",
        "alloy-signer-local",
    ] {
        assert!(packages.contains(wanted), "{wanted} is not a dependency");
    }
    for unwanted in [
        "alloy",
        "alloy-provider",
        "alloy-contract",
        "alloy-transport",
        "alloy-transport-http",
        "alloy-rpc-client",
        "reqwest",
    ] {
        assert!(
            !packages.contains(unwanted),
            "{unwanted} is in Cargo.lock: depend on the individual Alloy crates instead"
        );
    }
}
