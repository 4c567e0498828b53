"""IVMS101 datatypes as annotated Pydantic types. Each validator raises a `PydanticCustomError` whose type is
the rule broken ("max_length", "charset", "enum", "C2", "C3", "C10", ...), so the error list can name it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from server_fastapi.compliance.ivms101.codes import (
    ADDRESS_TYPES,
    COUNTRY_CODES,
    LEGAL_PERSON_NAME_TYPES,
    LEGAL_PERSON_NATIONAL_IDENTIFIER_TYPES,
    NATIONAL_IDENTIFIER_TYPES,
    NATURAL_PERSON_NAME_TYPES,
    TRANSLITERATION_METHODS,
    AddressTypeCode,
    LegalPersonNameTypeCode,
    NationalIdentifierTypeCode,
    NaturalPersonNameTypeCode,
    TransliterationMethodCode,
    registration_authority_problem,
)

CONTEXT_KEY: Final = "ivms101"

# Max…Text: printable ASCII in both editions (the 2023 regex `^[ -~]{1,n}$`); the 2020 edition's own regex
# `^[a-zA-Z0-9' ]{1,n}$` is applied only when asked for. LocalMax100Text takes any character but controls.
_PRINTABLE_ASCII: Final = re.compile(r"[ -~]+")
_STRICT_2020: Final = re.compile(r"[a-zA-Z0-9' ]+")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DATE: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MAX_NUMBER: Final = 10**18  # "Number": totalDigits 18, fractionDigits 0


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class Options:
    """What a validation run depends on besides the data; passed as Pydantic context under CONTEXT_KEY."""

    strict_2020_charset: bool = False
    today: date = field(default_factory=utc_today)


def options_of(info: ValidationInfo) -> Options:
    context = info.context
    if isinstance(context, dict):
        found = context.get(CONTEXT_KEY)
        if isinstance(found, Options):
            return found
    return Options()


def context_for(options: Options) -> dict[str, Options]:
    return {CONTEXT_KEY: options}


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _require_string(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("type", "must be a string, not {actual}", {"actual": _type_name(value)})
    return value


def _text(max_length: int, *, local: bool = False) -> Callable[[Any, ValidationInfo], str]:
    def validate(value: Any, info: ValidationInfo) -> str:
        text = _require_string(value)
        if not text:
            raise PydanticCustomError("min_length", "must not be empty")
        if len(text) > max_length:
            raise PydanticCustomError(
                "max_length",
                "is {length} characters long; at most {max_length} are allowed",
                {"length": len(text), "max_length": max_length},
            )
        if local:
            if _CONTROL.search(text):
                raise PydanticCustomError("charset", "must not contain control characters or line breaks")
        elif options_of(info).strict_2020_charset:
            if not _STRICT_2020.fullmatch(text):
                raise PydanticCustomError(
                    "charset", "may contain only Latin letters, digits, spaces and apostrophes (IVMS101 2020)"
                )
        elif not _PRINTABLE_ASCII.fullmatch(text):
            raise PydanticCustomError(
                "charset",
                "may contain only printable ASCII characters; "
                "put names in other scripts in localNameIdentifier",
            )
        return text

    return validate


Max16Text = Annotated[str, BeforeValidator(_text(16))]
Max35Text = Annotated[str, BeforeValidator(_text(35))]
Max50Text = Annotated[str, BeforeValidator(_text(50))]
Max70Text = Annotated[str, BeforeValidator(_text(70))]
Max100Text = Annotated[str, BeforeValidator(_text(100))]
Max512Text = Annotated[str, BeforeValidator(_text(512))]
LocalMax100Text = Annotated[str, BeforeValidator(_text(100, local=True))]


def _code(allowed: Iterable[str], what: str, *, lower: bool = False) -> Callable[[Any], str]:
    choices = tuple(allowed)

    def validate(value: Any) -> str:
        canonical = _require_string(value)
        canonical = canonical.lower() if lower else canonical.upper()
        if canonical not in choices:
            raise PydanticCustomError(
                "enum",
                "'{value}' is not one of the {what} codes: {choices}",
                {"value": value, "what": what, "choices": ", ".join(choices)},
            )
        return canonical

    return validate


def _legal_person_identifier_type(value: Any) -> str:
    canonical = _code(NATIONAL_IDENTIFIER_TYPES, "national identifier type")(value)
    if canonical not in LEGAL_PERSON_NATIONAL_IDENTIFIER_TYPES:
        raise PydanticCustomError(
            "C7",
            "a legal person's nationalIdentifierType must be RAID, MISC, LEIX or TXID, not {value}",
            {"value": canonical},
        )
    return canonical


NaturalPersonNameType = Annotated[
    NaturalPersonNameTypeCode, BeforeValidator(_code(NATURAL_PERSON_NAME_TYPES, "natural person name type"))
]
LegalPersonNameType = Annotated[
    LegalPersonNameTypeCode, BeforeValidator(_code(LEGAL_PERSON_NAME_TYPES, "legal person name type"))
]
AddressType = Annotated[AddressTypeCode, BeforeValidator(_code(ADDRESS_TYPES, "address type"))]
NationalIdentifierType = Annotated[
    NationalIdentifierTypeCode, BeforeValidator(_code(NATIONAL_IDENTIFIER_TYPES, "national identifier type"))
]
LegalPersonNationalIdentifierType = Annotated[
    NationalIdentifierTypeCode, BeforeValidator(_legal_person_identifier_type)
]
TransliterationMethod = Annotated[
    TransliterationMethodCode,
    BeforeValidator(_code(TRANSLITERATION_METHODS, "transliteration method", lower=True)),
]


def _country(value: Any) -> str:
    canonical = _require_string(value).upper()
    if canonical not in COUNTRY_CODES:
        raise PydanticCustomError(
            "C3", "'{value}' is not an ISO 3166-1 alpha-2 country code (nor XX)", {"value": value}
        )
    return canonical


CountryCode = Annotated[str, BeforeValidator(_country)]


def _registration_authority(value: Any) -> str:
    canonical = _require_string(value).upper()
    problem = registration_authority_problem(canonical)
    if problem:
        raise PydanticCustomError("C10", problem)
    return canonical


RegistrationAuthority = Annotated[str, BeforeValidator(_registration_authority)]


def _date_of_birth(value: Any, info: ValidationInfo) -> date:
    text = _require_string(value)
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        born = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise PydanticCustomError(
            "date", "'{value}' is not a calendar date written YYYY-MM-DD", {"value": text}
        ) from None
    today = options_of(info).today
    if born >= today:
        raise PydanticCustomError(
            "C2",
            "dateOfBirth {born} is not before today ({today})",
            {"born": text, "today": today.isoformat()},
        )
    return born


DateOfBirth = Annotated[date, BeforeValidator(_date_of_birth)]


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("type", "must be an integer, not {actual}", {"actual": _type_name(value)})
    if abs(value) >= _MAX_NUMBER:
        raise PydanticCustomError("max_digits", "must have at most 18 digits")
    return value


Number = Annotated[int, BeforeValidator(_number)]


def _payload_version(expected: str) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        if value != expected:
            raise PydanticCustomError(
                "payload_version",
                "payloadVersion must be '{expected}' in this edition, not {value}",
                {"expected": expected, "value": value},
            )
        return expected

    return validate


PayloadVersion2023 = Annotated[str, BeforeValidator(_payload_version("101.2023"))]
PayloadVersion2020 = Annotated[str, BeforeValidator(_payload_version("101"))]
