//! Sign requests: parsing the JSON body and signing the EVM transaction it describes.

use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{hex, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::quantity::{self, QuantityError};

/// Fields a sign request may carry; anything else is refused.
const KNOWN_FIELDS: &[&str] = &[
    "type",
    "chain_id",
    "nonce",
    "to",
    "value",
    "gas_limit",
    "data",
    "max_fee_per_gas",
    "max_priority_fee_per_gas",
    "access_list",
    "gas_price",
];

/// One problem with one field of a sign request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's JSON path, e.g. `value` or `access_list[0].address`.
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

impl FieldError {
    fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

/// Why a sign request body was refused before any policy ran.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The body is not a JSON object.
    #[error("the body must be a JSON object: {0}")]
    Malformed(String),
    /// One or more fields are missing, unknown or invalid.
    #[error("invalid request: {}", describe(.0))]
    Fields(Vec<FieldError>),
}

/// Joins field errors into one sentence: `value: must be ...; gas_price: is required`.
#[must_use]
pub fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a transaction could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A legacy transaction without a chain id would be replayable on every chain (no EIP-155).
    #[error("refusing to sign a legacy transaction without a chain id (EIP-155)")]
    LegacyWithoutChainId,
    /// The signing library failed.
    #[error("signing failed: {0}")]
    Signer(#[from] alloy_signer::Error),
}

/// A transaction ready to sign, as described by a sign request.
#[derive(Debug, Clone, PartialEq)]
pub enum UnsignedTx {
    /// A legacy transaction; its chain id is always set (EIP-155).
    Legacy(TxLegacy),
    /// An EIP-1559 (type 2) transaction.
    Eip1559(TxEip1559),
}

impl UnsignedTx {
    /// The chain the transaction is for (`None` only for a hand-built legacy
    /// transaction, which [`sign`] refuses).
    #[must_use]
    pub fn chain_id(&self) -> Option<u64> {
        match self {
            Self::Legacy(tx) => tx.chain_id,
            Self::Eip1559(tx) => Some(tx.chain_id),
        }
    }

    /// The destination address (`None` for contract creation, which requests cannot express).
    #[must_use]
    pub fn to(&self) -> Option<Address> {
        let kind = match self {
            Self::Legacy(tx) => tx.to,
            Self::Eip1559(tx) => tx.to,
        };
        kind.to().copied()
    }

    /// The value moved, in wei.
    #[must_use]
    pub fn value(&self) -> U256 {
        match self {
            Self::Legacy(tx) => tx.value,
            Self::Eip1559(tx) => tx.value,
        }
    }

    /// The nonce.
    #[must_use]
    pub fn nonce(&self) -> u64 {
        match self {
            Self::Legacy(tx) => tx.nonce,
            Self::Eip1559(tx) => tx.nonce,
        }
    }

    /// `"legacy"` or `"eip1559"`, as in the request.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Legacy(_) => "legacy",
            Self::Eip1559(_) => "eip1559",
        }
    }
}

/// A signed transaction as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTx {
    /// The EIP-2718 encoding, ready for `eth_sendRawTransaction`.
    pub raw_transaction: Bytes,
    /// The transaction hash.
    pub tx_hash: B256,
    /// The signing address.
    pub from: Address,
}

/// Signs `tx` with `signer`. Signatures are deterministic (RFC 6979).
///
/// # Errors
///
/// [`SignError::LegacyWithoutChainId`] for a legacy transaction without a chain id,
/// [`SignError::Signer`] if the signing library fails.
pub fn sign(tx: UnsignedTx, signer: &PrivateKeySigner) -> Result<SignedTx, SignError> {
    let mut raw = Vec::new();
    let tx_hash = match tx {
        UnsignedTx::Legacy(tx) => {
            if tx.chain_id.is_none() {
                return Err(SignError::LegacyWithoutChainId);
            }
            let signature = signer.sign_hash_sync(&tx.signature_hash())?;
            let signed = tx.into_signed(signature);
            signed.eip2718_encode(&mut raw);
            *signed.hash()
        }
        UnsignedTx::Eip1559(tx) => {
            let signature = signer.sign_hash_sync(&tx.signature_hash())?;
            let signed = tx.into_signed(signature);
            signed.eip2718_encode(&mut raw);
            *signed.hash()
        }
    };
    Ok(SignedTx {
        raw_transaction: raw.into(),
        tx_hash,
        from: signer.address(),
    })
}

/// Parses an address; a mixed-case address must carry a valid EIP-55 checksum.
///
/// # Errors
///
/// A message saying what is wrong, for a [`FieldError`].
pub fn parse_address(text: &str) -> Result<Address, String> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| "must be a 0x-prefixed 20-byte hex address".to_owned())?;
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("must be a 0x-prefixed 20-byte hex address".to_owned());
    }
    let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
    if has_upper && has_lower {
        Address::parse_checksummed(text, None)
            .map_err(|_| "has an invalid EIP-55 checksum".to_owned())
    } else {
        text.parse()
            .map_err(|_| "must be a 0x-prefixed 20-byte hex address".to_owned())
    }
}

/// The fields both transaction types share.
struct Common {
    chain_id: u64,
    nonce: u64,
    to: Address,
    value: U256,
    gas_limit: u64,
    input: Bytes,
}

/// Reads the fields of one request object, remembering every problem.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    fn string(&mut self, name: &str, required: bool) -> Option<&'a str> {
        match self.object.get(name) {
            None | Some(Value::Null) => {
                if required {
                    self.errors.push(FieldError::new(name, "is required"));
                }
                None
            }
            Some(Value::String(text)) => Some(text),
            Some(Value::Number(_)) => {
                self.errors.push(FieldError::new(
                    name,
                    "must be a decimal string, not a JSON number",
                ));
                None
            }
            Some(_) => {
                self.errors.push(FieldError::new(name, "must be a string"));
                None
            }
        }
    }

    fn quantity<T>(
        &mut self,
        name: &str,
        required: bool,
        parse: fn(&str) -> Result<T, QuantityError>,
    ) -> Option<T> {
        let text = self.string(name, required)?;
        match parse(text) {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors.push(FieldError::new(name, error.to_string()));
                None
            }
        }
    }

    fn forbid(&mut self, name: &str, why: &str) {
        if self.object.get(name).is_some_and(|v| !v.is_null()) {
            self.errors.push(FieldError::new(name, why));
        }
    }
}

fn parse_data(text: &str) -> Result<Bytes, String> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| "must be 0x-prefixed hex (\"0x\" for none)".to_owned())?;
    hex::decode(digits)
        .map(Bytes::from)
        .map_err(|_| "must be 0x-prefixed hex with an even number of digits".to_owned())
}

fn parse_access_list(value: &Value, errors: &mut Vec<FieldError>) -> AccessList {
    let Value::Array(items) = value else {
        errors.push(FieldError::new("access_list", "must be an array"));
        return AccessList::default();
    };
    let mut list = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = format!("access_list[{index}]");
        let Value::Object(object) = item else {
            errors.push(FieldError::new(path, "must be an object"));
            continue;
        };
        for key in object.keys() {
            if key != "address" && key != "storage_keys" {
                errors.push(FieldError::new(
                    format!("{path}.{key}"),
                    "is not a known field",
                ));
            }
        }
        let address = match object.get("address") {
            Some(Value::String(text)) => parse_address(text)
                .map_err(|detail| errors.push(FieldError::new(format!("{path}.address"), detail)))
                .ok(),
            _ => {
                errors.push(FieldError::new(
                    format!("{path}.address"),
                    "must be a string",
                ));
                None
            }
        };
        let mut storage_keys = Vec::new();
        match object.get("storage_keys") {
            None => {}
            Some(Value::Array(keys)) => {
                for (key_index, key) in keys.iter().enumerate() {
                    let key_path = format!("{path}.storage_keys[{key_index}]");
                    match key.as_str().map(str::parse::<B256>) {
                        Some(Ok(slot)) if key.as_str().is_some_and(|s| s.starts_with("0x")) => {
                            storage_keys.push(slot);
                        }
                        _ => errors.push(FieldError::new(
                            key_path,
                            "must be a 0x-prefixed 32-byte hex string",
                        )),
                    }
                }
            }
            Some(_) => errors.push(FieldError::new(
                format!("{path}.storage_keys"),
                "must be an array",
            )),
        }
        if let Some(address) = address {
            list.push(AccessListItem {
                address,
                storage_keys,
            });
        }
    }
    AccessList(list)
}

/// Parses a sign request body into the transaction it describes.
///
/// Every quantity is a decimal string; unknown fields, JSON numbers, hex quantities,
/// a zero chain id and fee fields of the wrong transaction type are refused.
///
/// # Errors
///
/// [`RequestError::Malformed`] when the body is not a JSON object,
/// [`RequestError::Fields`] listing every invalid field otherwise.
pub fn parse_sign_request(body: &[u8]) -> Result<UnsignedTx, RequestError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| RequestError::Malformed(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(RequestError::Malformed("not an object".to_owned()));
    };
    let mut fields = Fields {
        object: &object,
        errors: Vec::new(),
    };
    for key in object.keys() {
        if !KNOWN_FIELDS.contains(&key.as_str()) {
            fields
                .errors
                .push(FieldError::new(key.as_str(), "is not a known field"));
        }
    }

    let kind = fields.string("type", true);
    let chain_id = fields.quantity("chain_id", true, quantity::parse_u64);
    if chain_id == Some(0) {
        fields.errors.push(FieldError::new(
            "chain_id",
            "must be a positive chain id (EIP-155)",
        ));
    }
    let nonce = fields.quantity("nonce", true, quantity::parse_u64);
    let to = fields.string("to", true).and_then(|text| {
        parse_address(text)
            .map_err(|detail| fields.errors.push(FieldError::new("to", detail)))
            .ok()
    });
    let value = fields.quantity("value", true, quantity::parse_u256);
    let gas_limit = fields.quantity("gas_limit", true, quantity::parse_u64);
    let input = match fields.string("data", false) {
        None => Some(Bytes::new()),
        Some(text) => parse_data(text)
            .map_err(|detail| fields.errors.push(FieldError::new("data", detail)))
            .ok(),
    };

    let common = match (chain_id, nonce, to, value, gas_limit, input) {
        (Some(chain_id), Some(nonce), Some(to), Some(value), Some(gas_limit), Some(input)) => {
            Some(Common {
                chain_id,
                nonce,
                to,
                value,
                gas_limit,
                input,
            })
        }
        _ => None,
    };

    let tx = match kind {
        Some("eip1559") => {
            fields.forbid("gas_price", "is not used by eip1559 transactions");
            let max_fee = fields.quantity("max_fee_per_gas", true, quantity::parse_u128);
            let max_priority =
                fields.quantity("max_priority_fee_per_gas", true, quantity::parse_u128);
            if let (Some(max_fee), Some(max_priority)) = (max_fee, max_priority) {
                if max_priority > max_fee {
                    fields.errors.push(FieldError::new(
                        "max_priority_fee_per_gas",
                        "must not exceed max_fee_per_gas",
                    ));
                }
            }
            let access_list = match object.get("access_list") {
                None | Some(Value::Null) => AccessList::default(),
                Some(value) => parse_access_list(value, &mut fields.errors),
            };
            match (common, max_fee, max_priority) {
                (Some(c), Some(max_fee_per_gas), Some(max_priority_fee_per_gas)) => {
                    Some(UnsignedTx::Eip1559(TxEip1559 {
                        chain_id: c.chain_id,
                        nonce: c.nonce,
                        gas_limit: c.gas_limit,
                        max_fee_per_gas,
                        max_priority_fee_per_gas,
                        to: TxKind::Call(c.to),
                        value: c.value,
                        access_list,
                        input: c.input,
                    }))
                }
                _ => None,
            }
        }
        Some("legacy") => {
            fields.forbid("max_fee_per_gas", "is not used by legacy transactions");
            fields.forbid(
                "max_priority_fee_per_gas",
                "is not used by legacy transactions",
            );
            fields.forbid("access_list", "is not used by legacy transactions");
            let gas_price = fields.quantity("gas_price", true, quantity::parse_u128);
            match (common, gas_price) {
                (Some(c), Some(gas_price)) => Some(UnsignedTx::Legacy(TxLegacy {
                    chain_id: Some(c.chain_id),
                    nonce: c.nonce,
                    gas_price,
                    gas_limit: c.gas_limit,
                    to: TxKind::Call(c.to),
                    value: c.value,
                    input: c.input,
                })),
                _ => None,
            }
        }
        Some(_) => {
            fields
                .errors
                .push(FieldError::new("type", "must be \"eip1559\" or \"legacy\""));
            None
        }
        None => None,
    };

    match tx {
        Some(tx) if fields.errors.is_empty() => Ok(tx),
        _ => Err(RequestError::Fields(fields.errors)),
    }
}
