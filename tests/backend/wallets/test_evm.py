"""Keccak-256, EIP-55 addresses, exact wei conversions and the transaction request, without the signer."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from eth_hash.auto import keccak as reference_keccak
from eth_utils.address import to_checksum_address as reference_checksum
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from server_fastapi.wallets.evm import (
    NATIVE_TRANSFER_GAS,
    U256_MAX,
    ChecksumAddress,
    Eip1559Fees,
    FeeMarket,
    InvalidAddress,
    InvalidAmount,
    LegacyFees,
    TransactionRequest,
    TransactionType,
    from_base_units,
    from_wei,
    is_checksum_address,
    keccak256,
    native_transfer,
    normalize_address,
    suggest_fees,
    to_base_units,
    to_checksum_address,
    to_wei,
)
from server_fastapi.wallets.signer_client import sign_request_body

# The test cases in EIP-55's own text: each is already in its checksummed form.
EIP55_EXAMPLES = [
    # all caps
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    # all lower
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    # normal
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


# --- Keccak-256 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "digest"),
    [
        (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
        # one full rate block (136 bytes) forces a second, padding-only block
        (b"a" * 136, reference_keccak(b"a" * 136).hex()),
    ],
)
def test_keccak256_known_answers(data: bytes, digest: str) -> None:
    assert keccak256(data).hex() == digest


@given(st.binary(max_size=400))
def test_keccak256_matches_the_reference(data: bytes) -> None:
    assert keccak256(data) == reference_keccak(data)


# --- EIP-55 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("address", EIP55_EXAMPLES)
def test_eip55_examples_from_the_eip(address: str) -> None:
    assert to_checksum_address(address.lower()) == address
    assert to_checksum_address(address.upper().replace("0X", "0x")) == address
    assert to_checksum_address(bytes.fromhex(address[2:])) == address
    assert is_checksum_address(address)
    assert normalize_address(address, require_checksum=True) == address


@given(st.binary(min_size=20, max_size=20))
def test_checksum_matches_the_reference(raw: bytes) -> None:
    assert to_checksum_address(raw) == reference_checksum(raw)


@given(st.binary(min_size=20, max_size=20), st.integers(min_value=0, max_value=39))
def test_flipping_the_case_of_any_letter_breaks_the_checksum(raw: bytes, position: int) -> None:
    address = to_checksum_address(raw)
    digits = address[2:]
    letters = [i for i, char in enumerate(digits) if char.isalpha()]
    if not letters:
        return
    flip = letters[position % len(letters)]
    mistyped = "0x" + digits[:flip] + digits[flip].swapcase() + digits[flip + 1 :]
    if mistyped[2:] in (digits.lower(), digits.upper()):
        return  # the flip made it single-case: a form without a checksum

    assert not is_checksum_address(mistyped)
    with pytest.raises(InvalidAddress, match="checksum is wrong"):
        normalize_address(mistyped)


def test_single_case_addresses_carry_no_checksum() -> None:
    lower = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"

    assert normalize_address(lower) == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert normalize_address("0x" + lower[2:].upper()) == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert not is_checksum_address(lower)
    with pytest.raises(InvalidAddress, match="no EIP-55 checksum"):
        normalize_address(lower, require_checksum=True)


@pytest.mark.parametrize(
    "text",
    [
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # no 0x
        "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # 0X
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",  # 39 digits
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00",  # 42 digits
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg",  # not hex
        " 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # whitespace
        "",
    ],
)
def test_malformed_addresses_are_refused(text: str) -> None:
    with pytest.raises(InvalidAddress, match="40 hexadecimal digits"):
        normalize_address(text)


def test_a_checksum_address_field_refuses_a_bad_checksum_in_a_schema() -> None:
    from pydantic import TypeAdapter

    adapter: TypeAdapter[str] = TypeAdapter(ChecksumAddress)

    assert adapter.validate_python(EIP55_EXAMPLES[4]) == EIP55_EXAMPLES[4]
    with pytest.raises(ValidationError, match="checksum is wrong"):
        adapter.validate_python("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")
    with pytest.raises(ValidationError, match="no EIP-55 checksum"):
        adapter.validate_python(EIP55_EXAMPLES[4].lower())


# --- amounts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "wei"),
    [
        (Decimal("1"), 10**18),
        (Decimal("0.000000000000000001"), 1),
        (Decimal("1.500000000000000000000000"), 15 * 10**17),  # trailing zeros beyond 18 places are fine
        (Decimal("123456789.123456789123456789"), 123456789123456789123456789),
        (Decimal("1E+3"), 1000 * 10**18),
        ("0.1", 10**17),
        (7, 7 * 10**18),
        (Decimal("-0"), 0),
    ],
)
def test_to_wei_is_exact(amount: Decimal | int | str, wei: int) -> None:
    assert to_wei(amount) == wei


def test_from_wei_is_exact_and_trims_zeros() -> None:
    assert from_wei(10**18) == Decimal("1")
    assert str(from_wei(10**19)) == "10"
    assert str(from_wei(15 * 10**17)) == "1.5"
    assert f"{from_wei(1):f}" == "0.000000000000000001"
    assert from_wei(U256_MAX) == Decimal(
        "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    )
    assert from_wei(0) == 0
    assert from_base_units(1234, 6) == Decimal("0.001234")


@given(st.integers(min_value=0, max_value=U256_MAX), st.integers(min_value=0, max_value=30))
def test_base_units_round_trip(units: int, decimals: int) -> None:
    assert to_base_units(from_base_units(units, decimals), decimals) == units


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("0.0000000000000000001"), "more than 18 decimal places"),
        (Decimal("1E-1000000000"), "more than 18 decimal places"),
        (Decimal("-0.5"), "negative"),
        (Decimal("NaN"), "finite"),
        (Decimal("Infinity"), "finite"),
        (Decimal("1E+1000000000"), "too large"),
        (Decimal(f"{U256_MAX + 1}E-18"), "too large"),
        ("abc", "not a decimal number"),
        (0.1, "not float"),
        (True, "not bool"),
    ],
)
def test_to_wei_refuses(amount: Any, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message):
        to_wei(amount)


def test_from_wei_refuses_what_is_not_a_non_negative_int() -> None:
    for bad in (-1, 1.0, Decimal(1), True):
        with pytest.raises(InvalidAmount):
            from_wei(bad)  # type: ignore[arg-type]


# --- the transaction request ------------------------------------------------------------------------------

FEES = Eip1559Fees(max_fee_per_gas=30 * 10**9, max_priority_fee_per_gas=10**9)


def test_native_transfer_builds_the_signer_request_with_decimal_strings_only() -> None:
    tx = native_transfer(
        chain_id=1,
        nonce=12,
        to="0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        amount=Decimal("0.015"),
        fees=FEES,
    )

    body = sign_request_body(tx)

    assert body == {
        "type": "eip1559",
        "chain_id": "1",
        "nonce": "12",
        "to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "value": "15000000000000000",
        "gas_limit": "21000",
        "data": "0x",
        "max_fee_per_gas": "30000000000",
        "max_priority_fee_per_gas": "1000000000",
    }
    assert tx.max_cost_wei == 15 * 10**15 + NATIVE_TRANSFER_GAS * 30 * 10**9


def test_a_legacy_transfer_and_values_beyond_float_precision() -> None:
    tx = native_transfer(
        chain_id=131277322940537,
        nonce=2**64 - 1,
        to="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        amount=Decimal("9007199254740993.000000000000000001"),  # 2**53 + 1 ether and a wei
        fees=LegacyFees(gas_price=10**10),
    )

    body = sign_request_body(tx)

    assert tx.type is TransactionType.LEGACY
    assert body["value"] == "9007199254740993000000000000000001"
    assert body["nonce"] == "18446744073709551615"
    assert body["gas_price"] == "10000000000"
    assert "max_fee_per_gas" not in body
    assert all(isinstance(value, str) for value in body.values())
    assert '"value":"9007199254740993000000000000000001"' in json.dumps(body, separators=(",", ":"))


def _request(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "type": "eip1559",
        "chain_id": 1,
        "nonce": 0,
        "to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "value": 1,
        "gas_limit": 21000,
        "fees": FEES,
    }
    request.update(changes)
    return request


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value": 1.0}, "not float"),
        ({"value": True}, "not bool"),
        ({"value": Decimal("1.5")}, "whole number"),
        ({"value": -1}, "greater than or equal to 0"),
        ({"value": U256_MAX + 1}, "less than or equal to"),
        ({"value": "1e18"}, "decimal digits only"),
        ({"chain_id": 0}, "greater than or equal to 1"),
        ({"nonce": 2**64}, "less than or equal to"),
        ({"to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}, "checksum is wrong"),
        ({"data": "0x123"}, "should match pattern"),
        ({"fees": LegacyFees(gas_price=1)}, "eip1559 transaction takes Eip1559Fees"),
        ({"type": "legacy"}, "legacy transaction takes LegacyFees"),
        (
            {
                "type": "legacy",
                "fees": LegacyFees(gas_price=1),
                "access_list": [{"address": "0x" + "11" * 20}],
            },
            "access list",
        ),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_transaction_request_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TransactionRequest.model_validate(_request(**changes))


def test_transaction_request_accepts_integral_decimals_and_digit_strings() -> None:
    tx = TransactionRequest.model_validate(
        _request(value=Decimal("1000000000000000000"), nonce="7", data="0xABCD")
    )

    assert (tx.value, tx.nonce, tx.data) == (10**18, 7, "0xabcd")


def test_the_priority_fee_cannot_exceed_the_cap() -> None:
    with pytest.raises(ValidationError, match="cannot exceed"):
        Eip1559Fees(max_fee_per_gas=1, max_priority_fee_per_gas=2)


# --- Fees from the chain's fee market ---------------------------------------------------------------------

GWEI = 10**9
CAPS = {"max_fee_per_gas": 50 * GWEI, "max_priority_fee_per_gas": 2 * GWEI}


@pytest.mark.parametrize(
    ("base_fee", "tips", "max_fee", "tip"),
    [
        # the median tip (of an odd and of an even count), twice the next base fee plus the tip
        (10 * GWEI, (3 * 10**8, 10**9, 5 * 10**8), 20 * GWEI + 5 * 10**8, 5 * 10**8),
        (10 * GWEI, (10**8, 4 * 10**8, 9 * 10**8, 7 * 10**8), 20 * GWEI + 7 * 10**8, 7 * 10**8),
        # tips above the cap pay the cap
        (10 * GWEI, (5 * GWEI, 9 * GWEI, 7 * GWEI), 22 * GWEI, 2 * GWEI),
        # empty recent blocks (no tips paid, or no blocks reported): no tip
        (GWEI, (0, 0, 0), 2 * GWEI, 0),
        (GWEI, (), 2 * GWEI, 0),
        # twice the base fee would pass the cap: the cap, still above the next base fee plus the tip
        (30 * GWEI, (GWEI,), 50 * GWEI, GWEI),
        # exactly affordable
        (48 * GWEI, (3 * GWEI,), 50 * GWEI, 2 * GWEI),
    ],
)
def test_fees_follow_the_chain_within_the_caps(
    base_fee: int, tips: tuple[int, ...], max_fee: int, tip: int
) -> None:
    fees = suggest_fees(FeeMarket(next_base_fee_per_gas=base_fee, recent_tips=tips), **CAPS)

    assert fees == Eip1559Fees(max_fee_per_gas=max_fee, max_priority_fee_per_gas=tip)


def test_no_fees_while_the_chain_charges_more_than_the_cap() -> None:
    dear = FeeMarket(next_base_fee_per_gas=49 * GWEI, recent_tips=(3 * GWEI,))  # 49 + 2 > 50

    assert suggest_fees(dear, **CAPS) is None
    assert suggest_fees(FeeMarket(next_base_fee_per_gas=51 * GWEI, recent_tips=()), **CAPS) is None


@given(
    base_fee=st.integers(0, 10**12),
    tips=st.lists(st.integers(0, 10**12), max_size=12),
    max_fee=st.integers(1, 10**12),
    max_tip=st.integers(0, 10**12),
)
def test_suggested_fees_never_pass_the_caps_and_always_cover_the_next_block(
    base_fee: int, tips: list[int], max_fee: int, max_tip: int
) -> None:
    max_tip = min(max_tip, max_fee)
    market = FeeMarket(next_base_fee_per_gas=base_fee, recent_tips=tuple(tips))
    fees = suggest_fees(market, max_fee_per_gas=max_fee, max_priority_fee_per_gas=max_tip)

    if fees is None:
        assert base_fee + min(sorted(tips)[len(tips) // 2] if tips else 0, max_tip) > max_fee
    else:
        assert fees.max_fee_per_gas <= max_fee
        assert fees.max_priority_fee_per_gas <= max_tip
        assert fees.max_fee_per_gas >= base_fee + fees.max_priority_fee_per_gas


def test_an_access_list_reaches_the_signer_request() -> None:
    entry = {"address": "0x" + "ab" * 20, "storage_keys": ["0x" + "00" * 31 + "01"]}
    tx = TransactionRequest.model_validate(_request(access_list=[entry]))

    assert sign_request_body(tx)["access_list"] == [
        {"address": to_checksum_address("0x" + "ab" * 20), "storage_keys": ["0x" + "00" * 31 + "01"]}
    ]
