//! Known-answer vectors: a fixed key and transaction give exact bytes and hash
//! (RFC 6979 makes ECDSA signatures deterministic).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a panic is a failed test"
)]

use alloy_consensus::{TxEip1559, TxLegacy};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{address, b256, bytes, Address, Bytes, TxKind, B256, U256};
use rstest::rstest;
use signer::keystore::SigningKey;
use signer::secret::PrivateKey;
use signer::tx::{self, UnsignedTx};

/// The private key of EIP-155's example, 0x4646…46.
fn eip155_key() -> SigningKey {
    SigningKey::from_private_key("eip155", &PrivateKey::from_bytes([0x46; 32])).unwrap()
}

const TO: Address = address!("3535353535353535353535353535353535353535");
const FROM: Address = address!("9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");

fn legacy(chain_id: u64, nonce: u64, gas_price: u128, value: U256, input: Bytes) -> UnsignedTx {
    UnsignedTx::Legacy(TxLegacy {
        chain_id: Some(chain_id),
        nonce,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(TO),
        value,
        input,
    })
}

#[allow(clippy::too_many_arguments)]
fn eip1559(
    chain_id: u64,
    nonce: u64,
    max_priority_fee_per_gas: u128,
    max_fee_per_gas: u128,
    gas_limit: u64,
    value: U256,
    input: Bytes,
    access_list: AccessList,
) -> UnsignedTx {
    UnsignedTx::Eip1559(TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas,
        max_priority_fee_per_gas,
        to: TxKind::Call(TO),
        value,
        access_list,
        input,
    })
}

const ONE_ETHER: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

#[rstest]
// EIP-155's own example (from the text of EIP-155): nonce 9, gas price 20 gwei,
// gas 21000, 1 ether to 0x3535…35 on chain 1.
#[case::eip155_example(
    legacy(1, 9, 20_000_000_000, ONE_ETHER, Bytes::new()),
    bytes!("f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"),
    b256!("33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788"),
)]
// The vectors below were computed independently with Python eth-account 0.14.0
// (`Account.from_key("0x" + "46" * 32).sign_transaction({...})`, raw_transaction and hash).
// Legacy on eth-tester's chain id 131277322940537 (a chain id needing 6 bytes), with data.
#[case::eip155_large_chain_id(
    legacy(131_277_322_940_537, 0, 1, U256::ZERO, bytes!("deadbeef")),
    bytes!("f86980018252089435353535353535353535353535353535353535358084deadbeef86eecac466e115a0546a2c874f208752008a460c82fcfdfc4d3b762cdfddc78d646d05dd613bf7b2a0534c81f615e2006a1dbc9b910c75e057cf43406cafaa32777bca4da79497fcf3"),
    b256!("60d7a2348fdb2946f66f74196062c13e50714105389a3b7cec858251590a0c3e"),
)]
// EIP-1559, chain 1, nonce 0, priority fee 1 gwei, max fee 30 gwei, 1 ether.
#[case::eip1559_transfer(
    eip1559(1, 0, 1_000_000_000, 30_000_000_000, 21_000, ONE_ETHER, Bytes::new(), AccessList::default()),
    bytes!("02f8730180843b9aca008506fc23ac00825208943535353535353535353535353535353535353535880de0b6b3a764000080c080a0ace296070c5d78d56992465b1a122be5095f5b96cce3ee324a5e4c844f3c65e9a015f8e8ea010d5a7141afdd77c625eaf6274154c7fd5287f205341bb3dff4d776"),
    b256!("7316c0cd73737da743132590135e279930748befe182ec66b959174cb0b58ef1"),
)]
// EIP-1559 on Sepolia with data and an access list.
#[case::eip1559_access_list(
    eip1559(
        11_155_111, 42, 1_500_000_000, 120_000_000_000, 60_000, U256::from(123_456_789),
        bytes!("a9059cbb"),
        AccessList(vec![AccessListItem {
            address: TO,
            storage_keys: vec![
                b256!("0000000000000000000000000000000000000000000000000000000000000001"),
                b256!("abababababababababababababababababababababababababababababababab"),
            ],
        }]),
    ),
    bytes!("02f8d283aa36a72a8459682f00851bf08eb00082ea6094353535353535353535353535353535353535353584075bcd1584a9059cbbf85bf859943535353535353535353535353535353535353535f842a00000000000000000000000000000000000000000000000000000000000000001a0abababababababababababababababababababababababababababababababab01a064cdf13661566d2222b70c36c02b9402abd859d6e82d31864f3ec3f59828427aa0796ef1747a1efc699770bba79cbb0db8c9ba671052f7c5a764222085ffa98782"),
    b256!("da8c529e5306c77070bd3d7f8484ed82cf6f4c4dff4766ab08751f5570e5bd3f"),
)]
fn known_answer(#[case] unsigned: UnsignedTx, #[case] raw: Bytes, #[case] hash: B256) {
    let key = eip155_key();
    assert_eq!(key.address(), FROM);
    let signed = tx::sign(unsigned, key.signer()).unwrap();
    assert_eq!(signed.raw_transaction, raw);
    assert_eq!(signed.tx_hash, hash);
    assert_eq!(signed.from, FROM);
}

/// The same vectors reached through the JSON request parser, as the API sees them.
#[rstest]
#[case::eip155_example(
    r#"{"type":"legacy","chain_id":"1","nonce":"9","to":"0x3535353535353535353535353535353535353535",
        "value":"1000000000000000000","gas_limit":"21000","gas_price":"20000000000","data":"0x"}"#,
    "0x33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788"
)]
#[case::eip1559_access_list(
    r#"{"type":"eip1559","chain_id":"11155111","nonce":"42","to":"0x3535353535353535353535353535353535353535",
        "value":"123456789","gas_limit":"60000","max_fee_per_gas":"120000000000",
        "max_priority_fee_per_gas":"1500000000","data":"0xa9059cbb",
        "access_list":[{"address":"0x3535353535353535353535353535353535353535","storage_keys":[
          "0x0000000000000000000000000000000000000000000000000000000000000001",
          "0xabababababababababababababababababababababababababababababababab"]}]}"#,
    "0xda8c529e5306c77070bd3d7f8484ed82cf6f4c4dff4766ab08751f5570e5bd3f"
)]
fn known_answer_from_json(#[case] body: &str, #[case] hash: &str) {
    let unsigned = tx::parse_sign_request(body.as_bytes()).unwrap();
    let signed = tx::sign(unsigned, eip155_key().signer()).unwrap();
    assert_eq!(signed.tx_hash.to_string(), hash);
}

#[test]
fn legacy_without_chain_id_is_refused() {
    let unsigned = UnsignedTx::Legacy(TxLegacy {
        chain_id: None,
        to: TxKind::Call(TO),
        ..TxLegacy::default()
    });
    assert!(matches!(
        tx::sign(unsigned, eip155_key().signer()),
        Err(tx::SignError::LegacyWithoutChainId)
    ));
}
