"""The validation API: every violation at once with its JSON Pointer, normalisation (canonical codes, the
2020 edition converted to 2023), the charset option, the person-level validators and the models alone."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ivms101_cases import LEI_APPLE, LEI_GLEIF, NP, NP20, O23, payload_2020, payload_2023, set_at
from pydantic import ValidationError

from server_fastapi.compliance.ivms101 import (
    Address,
    IVMS101Payload2020,
    LegalPersonNationalIdentification,
    NaturalPerson,
    Person,
    registration_authority_codes,
    validate_ivms101,
    validate_natural_person,
    validate_person,
)

TODAY = date(2026, 1, 15)
DATA = Path(__file__).resolve().parents[3] / "server_fastapi" / "compliance" / "data"


def _rules(result: Any) -> set[tuple[str, str]]:
    return {(violation.path, violation.rule) for violation in result.violations}


def test_every_violation_is_reported_at_once() -> None:
    payload = payload_2023()
    address = f"{NP}/geographicAddress/0"
    set_at(payload, address, {"addressType": "HOME", "townName": "T" * 36, "country": "usa"})
    set_at(payload, f"{NP}/name/nameIdentifier/0/naturalPersonNameIdentifierType", "ALIA")
    set_at(payload, f"{NP}/name/nameIdentifier/0/primaryIdentifier", "S" * 101)
    set_at(payload, "/beneficiary/beneficiaryPerson/0", {})
    set_at(payload, "/transferPath/transferPath/0/sequence", 3)
    payload["originatingVASP"]["originatingVASP"]["legalPerson"]["nationalIdentification"][
        "countryOfIssue"
    ] = "CH"
    payload["unexpected"] = 1

    result = validate_ivms101(payload, today=TODAY)

    assert _rules(result) == {
        (f"{address}/townName", "max_length"),
        (f"{address}/country", "C3"),
        (address, "C8"),  # reported although the same address has field errors
        (f"{NP}/name/nameIdentifier/0/primaryIdentifier", "max_length"),
        (f"{NP}/name/nameIdentifier", "C6"),
        ("/beneficiary/beneficiaryPerson/0", "one_of"),
        ("/transferPath/transferPath", "C12"),
        ("/originatingVASP/originatingVASP/legalPerson/nationalIdentification/countryOfIssue", "C9"),
        ("/unexpected", "unknown_field"),
    }
    assert result.value is None
    assert result.normalised() is None
    assert all(violation.message for violation in result.violations)


def test_violations_are_sorted_by_document_position_and_serialisable() -> None:
    payload = payload_2023()
    payload["beneficiary"]["beneficiaryPerson"].extend({} for _ in range(10))
    result = validate_ivms101(payload, today=TODAY)
    paths = [violation.path for violation in result.violations]
    assert paths == [f"/beneficiary/beneficiaryPerson/{index}" for index in range(1, 11)]
    assert json.loads(json.dumps([violation.as_dict() for violation in result.violations]))[0] == {
        "path": "/beneficiary/beneficiaryPerson/1",
        "rule": "one_of",
        "message": "a person needs a naturalPerson or a legalPerson",
    }


def test_paths_are_rfc6901_pointers() -> None:
    payload = payload_2023()
    payload["a/b~c"] = 1
    result = validate_ivms101(payload, today=TODAY)
    assert [violation.path for violation in result.violations] == ["/a~1b~0c"]
    assert result.violations[0].loc == ("a/b~c",)


@pytest.mark.parametrize("payload", [[], "IVMS101", None, 7])
def test_a_payload_must_be_an_object(payload: Any) -> None:
    result = validate_ivms101(payload)
    assert [(violation.path, violation.rule) for violation in result.violations] == [("", "type")]


def test_normalised_2023_payload() -> None:
    payload = payload_2023()
    set_at(payload, f"{NP}/name/nameIdentifier/0/naturalPersonNameIdentifierType", "legl")
    set_at(payload, f"{NP}/geographicAddress/0/country", "us")
    address = payload["originator"]["originatorPerson"][0]["naturalPerson"]["geographicAddress"][0]
    address["postCode"] = address.pop("postcode")
    set_at(payload, "/payloadMetadata/transliterationMethod", ["HANI"])
    ovasp_id = payload["originatingVASP"]["originatingVASP"]["legalPerson"]["nationalIdentification"]
    ovasp_id["nationalIdentifier"] = LEI_GLEIF.lower()
    hop = payload["transferPath"]["transferPath"][0]
    payload["transferPath"]["transferPath"] = [{**copy.deepcopy(hop), "sequence": 1}, hop]
    payload["transferPath"]["transferPath"][0]["intermediaryVASP"]["legalPerson"]["name"]["nameIdentifier"][
        0
    ]["legalPersonName"] = "VASP F"
    expected = payload_2023()
    expected["transferPath"]["transferPath"].append(copy.deepcopy(payload["transferPath"]["transferPath"][0]))

    result = validate_ivms101(payload, today=TODAY)

    assert result.ok, result.violations
    assert result.normalised() == expected


def test_2020_payload_is_normalised_to_2023() -> None:
    result = validate_ivms101(payload_2020(), today=TODAY)

    assert result.ok, result.violations
    assert result.edition == "2020"
    assert result.normalised() == payload_2023()


def test_2020_account_numbers_go_to_every_person_of_a_joint_account() -> None:
    payload = payload_2020()
    payload["originator"]["originatorPersons"].append(
        copy.deepcopy(payload["originator"]["originatorPersons"][0])
    )
    normalised = validate_ivms101(payload, today=TODAY).normalised()
    assert normalised is not None
    assert [person["accountNumber"] for person in normalised["originator"]["originatorPerson"]] == [
        ["10023909"],
        ["10023909"],
    ]


def test_2020_model_reads_both_spellings_of_the_customer_identifier() -> None:
    payload = payload_2020()
    natural = payload["originator"]["originatorPersons"][0]["naturalPerson"]
    natural["customerIdentification"] = "1002390"
    result = validate_ivms101(payload, today=TODAY)
    assert _rules(result) == {(f"{NP20}/customerNumber", "unknown_field")}  # both spellings at once
    del natural["customerNumber"]
    model = IVMS101Payload2020.model_validate(payload)
    assert model.originator.originator_persons[0].natural_person is not None
    assert model.originator.originator_persons[0].natural_person.customer_identification == "1002390"


def test_strict_2020_charset_is_an_option_for_2020_payloads_only() -> None:
    payload = payload_2020()
    set_at(payload, f"{NP20}/name/nameIdentifier/0/primaryIdentifier", "Smith-Jones")
    assert validate_ivms101(payload, today=TODAY).ok

    strict = validate_ivms101(payload, strict_2020_charset=True, today=TODAY)

    assert _rules(strict) == {
        (f"{NP20}/name/nameIdentifier/0/primaryIdentifier", "charset"),  # the hyphen
        (
            "/beneficiary/beneficiaryPersons/0/naturalPerson/dateAndPlaceOfBirth/placeOfBirth",
            "charset",
        ),  # comma
    }
    lenient_2023 = payload_2023()
    set_at(lenient_2023, f"{NP}/name/nameIdentifier/0/primaryIdentifier", "Smith-Jones")
    assert validate_ivms101(lenient_2023, strict_2020_charset=True, today=TODAY).ok


def test_birth_date_must_be_before_today() -> None:
    payload = payload_2023()
    set_at(payload, f"{NP}/dateAndPlaceOfBirth/dateOfBirth", TODAY.isoformat())
    assert _rules(validate_ivms101(payload, today=TODAY)) == {(f"{NP}/dateAndPlaceOfBirth/dateOfBirth", "C2")}
    assert validate_ivms101(payload, today=date(2026, 1, 16)).ok


def test_standard_example_2_is_valid() -> None:
    """IVMS101.2023 text, Example 2: a sole trader identified by a registration authority, a legal
    beneficiary with a trading name, an intermediary VASP."""
    payload = {
        "originator": {
            "originatorPerson": [
                {
                    "naturalPerson": {
                        "name": {
                            "nameIdentifier": [
                                {
                                    "primaryIdentifier": "Wu",
                                    "secondaryIdentifier": "Xinli",
                                    "naturalPersonNameIdentifierType": "LEGL",
                                }
                            ],
                            "localNameIdentifier": [
                                {
                                    "primaryIdentifier": "吴",
                                    "secondaryIdentifier": "信利",
                                    "nameIdentifierType": "LEGL",
                                }
                            ],
                        },
                        "nationalIdentification": {
                            "nationalIdentifier": "446005",
                            "nationalIdentifierType": "RAID",
                            "registrationAuthority": "RA000553",
                        },
                        "countryOfResidence": "TZ",
                    }
                }
            ]
        },
        "beneficiary": {
            "beneficiaryPerson": [
                {
                    "legalPerson": {
                        "name": {
                            "nameIdentifier": [
                                {"legalPersonName": "ABC Limited", "legalPersonNameIdentifierType": "LEGL"},
                                {"legalPersonName": "CBA Trading", "legalPersonNameIdentifierType": "TRAD"},
                            ]
                        }
                    },
                    "accountNumber": ["00010190CBATRAD"],
                }
            ]
        },
        "transferPath": {
            "transferPath": [
                {
                    "intermediaryVASP": {
                        "legalPerson": {
                            "name": {
                                "nameIdentifier": [
                                    {"legalPersonName": "VASP E", "legalPersonNameIdentifierType": "LEGL"}
                                ]
                            }
                        }
                    },
                    "sequence": 0,
                }
            ]
        },
        "payloadMetadata": {"transliterationMethod": ["hani"], "payloadVersion": "101.2023"},
    }
    result = validate_ivms101(payload, today=TODAY)
    assert result.ok, result.violations


def test_validate_natural_person_for_a_kyc_profile() -> None:
    identity = payload_2023()["originator"]["originatorPerson"][0]["naturalPerson"]
    result = validate_natural_person(identity, today=TODAY)
    assert result.ok
    assert isinstance(result.value, NaturalPerson)
    assert result.value.date_of_birth == date(1990, 2, 25)

    name_only = {"name": identity["name"]}
    assert _rules(validate_natural_person(name_only, today=TODAY)) == {("", "C1")}
    assert validate_natural_person(name_only, originator=False, today=TODAY).ok
    broken = {
        **identity,
        "geographicAddress": [{"addressType": "HOME", "townName": "Walnut", "country": "US"}],
    }
    assert _rules(validate_natural_person(broken, today=TODAY)) == {("/geographicAddress/0", "C8")}


def test_validate_person_for_a_withdrawal_beneficiary() -> None:
    beneficiary = {
        "naturalPerson": {
            "name": {
                "nameIdentifier": [{"primaryIdentifier": "Barnes", "naturalPersonNameIdentifierType": "LEGL"}]
            }
        },
        "accountNumber": ["0xabc"],
    }
    result = validate_person(beneficiary, originator=False, today=TODAY)
    assert result.ok
    assert isinstance(result.value, Person)
    assert _rules(validate_person(beneficiary, originator=True, today=TODAY)) == {("/naturalPerson", "C1")}
    assert _rules(
        validate_person({"naturalPerson": beneficiary["naturalPerson"], "legalPerson": {}}, originator=False)
    ) >= {("", "one_of"), ("/legalPerson/name", "required")}


def test_models_enforce_their_own_constraints_alone() -> None:
    with pytest.raises(ValidationError) as raised:
        Address.model_validate({"addressType": "GEOG", "townName": "Walnut", "country": "US"})
    assert raised.value.errors()[0]["type"] == "C8"
    with pytest.raises(ValidationError) as raised:
        NaturalPerson.model_validate(
            {
                "name": {
                    "nameIdentifier": [
                        {"primaryIdentifier": "Smith", "naturalPersonNameIdentifierType": "ALIA"}
                    ]
                }
            }
        )
    assert raised.value.errors()[0]["type"] == "C6"
    with pytest.raises(ValidationError) as raised:
        LegalPersonNationalIdentification.model_validate(
            {"nationalIdentifier": "X", "nationalIdentifierType": "FIIN", "registrationAuthority": "RA000553"}
        )
    assert raised.value.errors()[0]["type"] == "C7"
    with pytest.raises(ValidationError) as raised:
        LegalPersonNationalIdentification.model_validate(
            {"nationalIdentifier": LEI_APPLE, "nationalIdentifierType": "LEIX", "countryOfIssue": "US"}
        )
    assert raised.value.errors()[0]["type"] == "C9"
    with pytest.raises(ValidationError) as raised:
        Person.model_validate({})
    assert raised.value.errors()[0]["type"] == "one_of"
    with pytest.raises(ValidationError):  # snake_case names are Python's, not the JSON's
        Address.model_validate(
            {"address_type": "GEOG", "town_name": "Walnut", "country": "US", "addressLine": ["x"]}
        )


def test_models_are_immutable_and_dump_camel_case() -> None:
    person = Person.model_validate(payload_2023()["originator"]["originatorPerson"][0])
    with pytest.raises(ValidationError):
        person.account_number = []  # type: ignore[misc]
    assert person.to_json() == payload_2023()["originator"]["originatorPerson"][0]


def test_gleif_list_is_shipped_with_its_source() -> None:
    codes = registration_authority_codes()
    assert len(codes) == 994  # 1,037 entries, some codes listed for several jurisdictions
    assert {"RA000553", "RA888888", "RA999999"} <= codes
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "gleif-registration-authorities.json" in readme
    assert "dbfd1ae" in readme


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
_POINTERS = (
    "/originator",
    f"{O23}",
    f"{NP}",
    f"{NP}/name",
    f"{NP}/name/nameIdentifier",
    f"{NP}/geographicAddress",
    f"{NP}/geographicAddress/0",
    f"{NP}/nationalIdentification",
    "/transferPath",
    "/transferPath/transferPath",
    "/transferPath/transferPath/0",
    "/originatingVASP",
    "/originatingVASP/originatingVASP",
    "/payloadMetadata",
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pointer=st.sampled_from(_POINTERS), value=_json)
def test_any_json_anywhere_gives_violations_not_exceptions(pointer: str, value: Any) -> None:
    payload = payload_2023()
    set_at(payload, pointer, value)
    result = validate_ivms101(payload, today=TODAY)
    assert result.ok == (not result.violations)
    assert all(violation.path.startswith("/") and violation.rule for violation in result.violations)


@settings(max_examples=50, deadline=None)
@given(value=_json)
def test_any_json_as_a_payload_gives_violations_not_exceptions(value: Any) -> None:
    result = validate_ivms101(value)
    assert not result.ok
