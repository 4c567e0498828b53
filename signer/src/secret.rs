//! Types that hold secrets: wiped from memory on drop, never printed.

use std::fmt;

use alloy_primitives::hex;
use rand::RngCore;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// Length of a secp256k1 private key in bytes.
pub const PRIVATE_KEY_LEN: usize = 32;

/// Why a secret could not be built from its text form.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The private key text is not 32 bytes of hex.
    #[error("the private key must be 32 bytes of hex (64 hex digits, optional 0x prefix)")]
    BadPrivateKey,
    /// The secret is empty after trimming.
    #[error("the {0} is empty")]
    Empty(&'static str),
}

/// A raw secp256k1 private key. Zeroized on drop; `Debug` shows nothing of it.
pub struct PrivateKey(Zeroizing<[u8; PRIVATE_KEY_LEN]>);

impl PrivateKey {
    /// Wraps 32 key bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; PRIVATE_KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies a 32-byte key out of `bytes` into zeroized storage.
    ///
    /// # Errors
    ///
    /// [`SecretError::BadPrivateKey`] when `bytes` is not 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, SecretError> {
        let mut key = Zeroizing::new([0_u8; PRIVATE_KEY_LEN]);
        if bytes.len() != PRIVATE_KEY_LEN {
            return Err(SecretError::BadPrivateKey);
        }
        key.copy_from_slice(bytes);
        Ok(Self(key))
    }

    /// Draws a random key from the operating system's generator, filled in place.
    #[must_use]
    pub fn random() -> Self {
        let mut key = Zeroizing::new([0_u8; PRIVATE_KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(key.as_mut_slice());
        Self(key)
    }

    /// Parses a hex private key (64 hex digits, with or without `0x`, surrounding
    /// whitespace ignored).
    ///
    /// # Errors
    ///
    /// [`SecretError::BadPrivateKey`] when the text is not 32 bytes of hex.
    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        let mut bytes = Zeroizing::new([0_u8; PRIVATE_KEY_LEN]);
        hex::decode_to_slice(digits, bytes.as_mut_slice())
            .map_err(|_| SecretError::BadPrivateKey)?;
        Ok(Self(bytes))
    }

    /// The key bytes, for handing to the signing library.
    #[must_use]
    pub fn expose(&self) -> &[u8; PRIVATE_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// The keystore password. Zeroized on drop; `Debug` shows nothing of it.
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a password, dropping one trailing newline (as left by `echo` into a file).
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] when nothing is left.
    pub fn new(mut text: String) -> Result<Self, SecretError> {
        let keep = text.trim_end_matches(['\n', '\r']).len();
        text.truncate(keep);
        let text = Zeroizing::new(text);
        if text.is_empty() {
            return Err(SecretError::Empty("keystore password"));
        }
        Ok(Self(text))
    }

    /// The password bytes, for the key derivation function.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The bearer token every HTTP call must present. Compared in constant time.
pub struct BearerToken(Zeroizing<Vec<u8>>);

impl BearerToken {
    /// Wraps a token, ignoring surrounding whitespace.
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] when the token is empty.
    pub fn new(mut text: String) -> Result<Self, SecretError> {
        let token = Zeroizing::new(text.trim().as_bytes().to_vec());
        text.zeroize();
        if token.is_empty() {
            return Err(SecretError::Empty("bearer token"));
        }
        Ok(Self(token))
    }

    /// Whether `presented` equals the token, in time independent of where they differ.
    #[must_use]
    pub fn matches(&self, presented: &[u8]) -> bool {
        self.0.as_slice().ct_eq(presented).into()
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_key_parses_with_and_without_prefix() {
        let plain = PrivateKey::from_hex(&"46".repeat(32)).ok();
        let prefixed = PrivateKey::from_hex(&format!("0x{}\n", "46".repeat(32))).ok();
        assert_eq!(plain.map(|k| *k.expose()), Some([0x46; 32]));
        assert_eq!(prefixed.map(|k| *k.expose()), Some([0x46; 32]));
    }

    #[test]
    fn private_key_rejects_wrong_length_and_non_hex() {
        assert!(PrivateKey::from_hex("0x1234").is_err());
        assert!(PrivateKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(PrivateKey::from_hex(&"46".repeat(33)).is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let key = PrivateKey::from_bytes([0x46; 32]);
        let password = Password::new("hunter2-hunter2".to_owned()).ok();
        let token = BearerToken::new("tok-secret-value".to_owned()).ok();
        let printed = format!("{key:?} {password:?} {token:?}");
        assert!(!printed.contains("4646"));
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains("tok-secret"));
    }

    #[test]
    fn token_compare() {
        let token = BearerToken::new(" abc123 \n".to_owned()).ok();
        assert!(token.as_ref().is_some_and(|t| t.matches(b"abc123")));
        assert!(token.as_ref().is_some_and(|t| !t.matches(b"abc124")));
        assert!(token.as_ref().is_some_and(|t| !t.matches(b"abc12")));
        assert!(BearerToken::new("  \n".to_owned()).is_err());
    }

    #[test]
    fn password_drops_one_trailing_newline_only() {
        let password = Password::new("pw with spaces \n".to_owned()).ok();
        assert_eq!(
            password.as_ref().map(Password::expose),
            Some(&b"pw with spaces "[..])
        );
        assert!(Password::new("\n".to_owned()).is_err());
    }
}
