//! Parsing of sign request bodies: decimal strings only, unknown fields refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a panic is a failed test"
)]

use rstest::rstest;
use signer::tx::{parse_sign_request, RequestError, UnsignedTx};

const LEGACY: &str = r#""type":"legacy","chain_id":"1","nonce":"0","to":"0x3535353535353535353535353535353535353535","value":"1","gas_limit":"21000""#;
const EIP1559: &str = r#""type":"eip1559","chain_id":"1","nonce":"0","to":"0x3535353535353535353535353535353535353535","value":"1","gas_limit":"21000""#;

fn field_of(body: &str) -> String {
    match parse_sign_request(body.as_bytes()) {
        Err(RequestError::Fields(errors)) => errors.first().unwrap().field.clone(),
        other => panic!("expected a field error for {body}, got {other:?}"),
    }
}

#[rstest]
#[case::legacy(format!(r#"{{{LEGACY},"gas_price":"1"}}"#), "legacy")]
#[case::legacy_with_data(format!(r#"{{{LEGACY},"gas_price":"1","data":"0x"}}"#), "legacy")]
#[case::eip1559(format!(r#"{{{EIP1559},"max_fee_per_gas":"2","max_priority_fee_per_gas":"1"}}"#), "eip1559")]
#[case::eip1559_empty_access_list(format!(r#"{{{EIP1559},"max_fee_per_gas":"2","max_priority_fee_per_gas":"1","access_list":[]}}"#), "eip1559")]
#[case::lowercase_address(r#"{"type":"legacy","chain_id":"1","nonce":"0","to":"0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f","value":"1","gas_limit":"21000","gas_price":"1"}"#.to_owned(), "legacy")]
fn accepted(#[case] body: String, #[case] kind: &str) {
    let tx: UnsignedTx = parse_sign_request(body.as_bytes()).unwrap();
    assert_eq!(tx.kind(), kind);
}

#[rstest]
#[case::value_as_number(format!(r#"{{{},"value":1,"gas_price":"1"}}"#, LEGACY.replace(r#","value":"1""#, "")), "value")]
#[case::negative_value(format!(r#"{{{},"value":"-1","gas_price":"1"}}"#, LEGACY.replace(r#","value":"1""#, "")), "value")]
#[case::hex_value(format!(r#"{{{},"value":"0x1","gas_price":"1"}}"#, LEGACY.replace(r#","value":"1""#, "")), "value")]
#[case::float_value(format!(r#"{{{},"value":"1.5","gas_price":"1"}}"#, LEGACY.replace(r#","value":"1""#, "")), "value")]
#[case::float_gas_price(format!(r#"{{{LEGACY},"gas_price":1.5}}"#), "gas_price")]
#[case::chain_id_number(format!(r#"{{{},"chain_id":1,"gas_price":"1"}}"#, LEGACY.replace(r#","chain_id":"1""#, "")), "chain_id")]
#[case::chain_id_zero(format!(r#"{{{},"chain_id":"0","gas_price":"1"}}"#, LEGACY.replace(r#","chain_id":"1""#, "")), "chain_id")]
#[case::legacy_without_chain_id(format!(r#"{{{},"gas_price":"1"}}"#, LEGACY.replace(r#","chain_id":"1""#, "")), "chain_id")]
#[case::unknown_field(format!(r#"{{{LEGACY},"gas_price":"1","from":"0x00"}}"#), "from")]
#[case::missing_gas_price(format!(r#"{{{LEGACY}}}"#), "gas_price")]
#[case::legacy_with_1559_fees(format!(r#"{{{LEGACY},"gas_price":"1","max_fee_per_gas":"1"}}"#), "max_fee_per_gas")]
#[case::eip1559_with_gas_price(format!(r#"{{{EIP1559},"max_fee_per_gas":"2","max_priority_fee_per_gas":"1","gas_price":"1"}}"#), "gas_price")]
#[case::priority_over_max(format!(r#"{{{EIP1559},"max_fee_per_gas":"1","max_priority_fee_per_gas":"2"}}"#), "max_priority_fee_per_gas")]
#[case::bad_type(format!(r#"{{{},"type":"eip4844","gas_price":"1"}}"#, LEGACY.replace(r#""type":"legacy","#, "")), "type")]
#[case::bad_checksum(r#"{"type":"legacy","chain_id":"1","nonce":"0","to":"0x9D8a62f656a8d1615C1294fd71e9CFb3E4855A4F","value":"1","gas_limit":"21000","gas_price":"1"}"#.to_owned(), "to")]
#[case::data_without_prefix(format!(r#"{{{LEGACY},"gas_price":"1","data":"dead"}}"#), "data")]
#[case::data_odd_length(format!(r#"{{{LEGACY},"gas_price":"1","data":"0xabc"}}"#), "data")]
#[case::access_list_bad_key(format!(r#"{{{EIP1559},"max_fee_per_gas":"2","max_priority_fee_per_gas":"1","access_list":[{{"address":"0x3535353535353535353535353535353535353535","storage_keys":["0x01"]}}]}}"#), "access_list[0].storage_keys[0]")]
#[case::access_list_unknown_member(format!(r#"{{{EIP1559},"max_fee_per_gas":"2","max_priority_fee_per_gas":"1","access_list":[{{"address":"0x3535353535353535353535353535353535353535","storageKeys":[]}}]}}"#), "access_list[0].storageKeys")]
fn refused(#[case] body: String, #[case] field: &str) {
    assert_eq!(field_of(&body), field);
}

#[rstest]
#[case::not_json("nope")]
#[case::array("[]")]
#[case::string("\"x\"")]
fn malformed(#[case] body: &str) {
    assert!(matches!(
        parse_sign_request(body.as_bytes()),
        Err(RequestError::Malformed(_))
    ));
}
