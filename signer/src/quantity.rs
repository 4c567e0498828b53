//! Decimal-string quantities: how wei, gas and nonces cross the API.
//!
//! Only plain base-10 digit strings are accepted: no sign, no `0x`, no exponent,
//! no fraction, no whitespace, no JSON numbers. Leading zeros are allowed.

use alloy_primitives::U256;

/// Why a decimal string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Empty string.
    #[error("must be a non-empty decimal string")]
    Empty,
    /// Something other than ASCII digits.
    #[error("must be a decimal string of digits only (no sign, hex, exponent or fraction)")]
    NotDecimal,
    /// Too large for the field.
    #[error("is too large (at most {max})")]
    TooLarge {
        /// The largest value the field takes.
        max: String,
    },
}

fn check_digits(text: &str) -> Result<&str, QuantityError> {
    if text.is_empty() {
        return Err(QuantityError::Empty);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QuantityError::NotDecimal);
    }
    Ok(text)
}

/// Parses a decimal string into a [`U256`] (wei).
///
/// # Errors
///
/// [`QuantityError`] when the text is empty, not plain digits, or above `2^256 - 1`.
pub fn parse_u256(text: &str) -> Result<U256, QuantityError> {
    let digits = check_digits(text)?;
    U256::from_str_radix(digits, 10).map_err(|_| QuantityError::TooLarge {
        max: U256::MAX.to_string(),
    })
}

/// Parses a decimal string into a [`u128`] (gas prices).
///
/// # Errors
///
/// [`QuantityError`] when the text is empty, not plain digits, or above `u128::MAX`.
pub fn parse_u128(text: &str) -> Result<u128, QuantityError> {
    check_digits(text)?
        .parse()
        .map_err(|_| QuantityError::TooLarge {
            max: u128::MAX.to_string(),
        })
}

/// Parses a decimal string into a [`u64`] (chain id, nonce, gas limit).
///
/// # Errors
///
/// [`QuantityError`] when the text is empty, not plain digits, or above `u64::MAX`.
pub fn parse_u64(text: &str) -> Result<u64, QuantityError> {
    check_digits(text)?
        .parse()
        .map_err(|_| QuantityError::TooLarge {
            max: u64::MAX.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("0", U256::ZERO)]
    #[case("000", U256::ZERO)]
    #[case("1000000000000000000", U256::from(1_000_000_000_000_000_000_u128))]
    #[case(
        "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        U256::MAX
    )]
    fn u256_accepts(#[case] text: &str, #[case] expected: U256) {
        assert_eq!(parse_u256(text), Ok(expected));
    }

    #[rstest]
    #[case("", QuantityError::Empty)]
    #[case("-1", QuantityError::NotDecimal)]
    #[case("+1", QuantityError::NotDecimal)]
    #[case("0x10", QuantityError::NotDecimal)]
    #[case("1.5", QuantityError::NotDecimal)]
    #[case("1e18", QuantityError::NotDecimal)]
    #[case(" 1", QuantityError::NotDecimal)]
    #[case("1_000", QuantityError::NotDecimal)]
    #[case("١", QuantityError::NotDecimal)]
    fn u256_refuses(#[case] text: &str, #[case] expected: QuantityError) {
        assert_eq!(parse_u256(text), Err(expected));
    }

    #[test]
    fn u256_refuses_overflow() {
        let too_big =
            "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert!(matches!(
            parse_u256(too_big),
            Err(QuantityError::TooLarge { .. })
        ));
    }

    #[rstest]
    #[case("18446744073709551615", Ok(u64::MAX))]
    #[case("18446744073709551616", Err(()))]
    #[case("21000", Ok(21_000))]
    #[case("-0", Err(()))]
    fn u64_bounds(#[case] text: &str, #[case] expected: Result<u64, ()>) {
        assert_eq!(parse_u64(text).map_err(|_| ()), expected);
    }

    #[rstest]
    #[case("340282366920938463463374607431768211455", Ok(u128::MAX))]
    #[case("340282366920938463463374607431768211456", Err(()))]
    #[case("20000000000", Ok(20_000_000_000))]
    fn u128_bounds(#[case] text: &str, #[case] expected: Result<u128, ()>) {
        assert_eq!(parse_u128(text).map_err(|_| ()), expected);
    }
}
