"""ISO 17442 LEI check digits (MOD 97-10) against real LEIs from the public GLEIF records."""

from __future__ import annotations

import pytest
from ivms101_cases import BAD_CHECK_DIGIT_LEIS, REAL_LEIS

from server_fastapi.compliance.ivms101 import LegalPersonNationalIdentification, lei_check_digits_valid
from server_fastapi.compliance.ivms101.codes import lei_problem


def _check_digits(base: str) -> int:
    """ISO 17442 generation: 98 minus (the base with "00" appended, letters as 10..35) mod 97."""
    return 98 - int("".join(str(int(char, 36)) for char in base) + "00") % 97


@pytest.mark.parametrize("lei", REAL_LEIS)
def test_real_leis_pass(lei: str) -> None:
    assert lei_check_digits_valid(lei)
    assert lei_problem(lei) is None
    assert _check_digits(lei[:18]) == int(lei[18:])


@pytest.mark.parametrize("lei", BAD_CHECK_DIGIT_LEIS)
def test_wrong_check_digits_fail(lei: str) -> None:
    assert not lei_check_digits_valid(lei)
    assert lei_problem(lei) == "the LEI's check digits are wrong (ISO 17442 MOD 97-10)"


@pytest.mark.parametrize("lei", REAL_LEIS)
def test_every_other_check_digit_pair_fails(lei: str) -> None:
    passing = [pair for pair in range(100) if lei_check_digits_valid(f"{lei[:18]}{pair:02d}")]
    assert passing
    assert all(pair % 97 == int(lei[18:]) % 97 for pair in passing)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "506700GE1G29325QX36",
        "506700GE1G29325QX3633",
        "506700ge1g29325qx363",
        "506700GE1G29325QX3A3",
        "506700GE1G29325QX-63",
    ],
)
def test_malformed_leis_fail(text: str) -> None:
    assert not lei_check_digits_valid(text)
    assert lei_problem(text) is not None
    assert "20 characters" in (lei_problem(text) or "")


def test_the_model_upper_cases_an_lei_before_checking_it() -> None:
    identification = LegalPersonNationalIdentification.model_validate(
        {"nationalIdentifier": REAL_LEIS[0].lower(), "nationalIdentifierType": "leix"}
    )
    assert identification.national_identifier == REAL_LEIS[0]
    assert identification.national_identifier_type == "LEIX"
