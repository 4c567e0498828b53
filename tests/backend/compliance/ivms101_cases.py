"""IVMS101 cases shared by the rule tests and the differential test: two valid payloads (2023 and 2020
editions) and, for each field rule and numbered constraint, payloads that keep or break it.

Each case names the rule and the RFC 6901 path of the violation it must produce (or none when valid).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Edition = Literal["2020", "2023"]
Json = dict[str, Any]

# Real LEIs from the public GLEIF records: GLEIF itself, Apple Inc., Deutsche Bank AG, BNP Paribas.
LEI_GLEIF = "506700GE1G29325QX363"
LEI_APPLE = "HWUPKR0MPOU8FGXBT394"
LEI_DEUTSCHE_BANK = "7LTWFZYICNSX8D621K86"
LEI_BNP_PARIBAS = "R0MUWSFPU8MPRO8K5P83"
REAL_LEIS = (
    LEI_GLEIF,
    LEI_APPLE,
    LEI_DEUTSCHE_BANK,
    LEI_BNP_PARIBAS,
    "784F5XWPLTWKTBV3E584",
    "INR2EJN1ERAN0W5ZP974",
)
# The same LEIs with their check digits changed, and the LEI printed in the IVMS101 text's own Example 1
# (VASP A), which does not pass MOD 97-10.
BAD_CHECK_DIGIT_LEIS = (
    "506700GE1G29325QX364",
    "HWUPKR0MPOU8FGXBT349",
    "7LTWFZYICNSX8D621K68",
    "3M5E1GQKGL17HI8CPN20",
)


def _address(**fields: Any) -> Json:
    return {
        "addressType": "GEOG",
        "streetName": "Potential Street",
        "buildingNumber": "24",
        "buildingName": "Weathering Views",
        "postcode": "91765",
        "townName": "Walnut",
        "countrySubDivision": "California",
        "country": "US",
        **fields,
    }


def _legal_person(name: str, lei: str) -> Json:
    return {
        "legalPerson": {
            "name": {"nameIdentifier": [{"legalPersonName": name, "legalPersonNameIdentifierType": "LEGL"}]},
            "nationalIdentification": {"nationalIdentifier": lei, "nationalIdentifierType": "LEIX"},
        }
    }


def payload_2023() -> Json:
    """The IVMS101.2023 text's Example 1, completed: every part present and valid."""
    return {
        "originator": {
            "originatorPerson": [
                {
                    "naturalPerson": {
                        "name": {
                            "nameIdentifier": [
                                {
                                    "primaryIdentifier": "Smith",
                                    "secondaryIdentifier": "Dr Alice",
                                    "naturalPersonNameIdentifierType": "LEGL",
                                }
                            ]
                        },
                        "geographicAddress": [_address()],
                        "customerIdentification": "1002390",
                        "dateAndPlaceOfBirth": {"dateOfBirth": "1990-02-25", "placeOfBirth": "Walnut"},
                        "countryOfResidence": "US",
                    },
                    "accountNumber": ["10023909"],
                }
            ]
        },
        "beneficiary": {
            "beneficiaryPerson": [
                {
                    "naturalPerson": {
                        "name": {
                            "nameIdentifier": [
                                {
                                    "primaryIdentifier": "Barnes",
                                    "secondaryIdentifier": "Robert",
                                    "naturalPersonNameIdentifierType": "LEGL",
                                }
                            ]
                        },
                        "dateAndPlaceOfBirth": {
                            "dateOfBirth": "1963-01-14",
                            "placeOfBirth": "London, Ontario",
                        },
                    },
                    "accountNumber": ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"],
                }
            ]
        },
        "originatingVASP": {"originatingVASP": _legal_person("VASP A", LEI_GLEIF)},
        "beneficiaryVASP": {
            "beneficiaryVASP": {
                "legalPerson": {
                    "name": {
                        "nameIdentifier": [
                            {"legalPersonName": "VASP B Limited", "legalPersonNameIdentifierType": "LEGL"},
                            {"legalPersonName": "VASP B", "legalPersonNameIdentifierType": "TRAD"},
                        ]
                    },
                    "geographicAddress": [
                        _address(addressType="BIZZ", townName="Dar es Salaam", country="TZ")
                    ],
                    "nationalIdentification": {
                        "nationalIdentifier": "446005",
                        "nationalIdentifierType": "RAID",
                        "registrationAuthority": "RA000553",
                    },
                    "countryOfRegistration": "TZ",
                }
            }
        },
        "transferPath": {
            "transferPath": [{"intermediaryVASP": _legal_person("VASP E", LEI_APPLE), "sequence": 0}]
        },
        "payloadMetadata": {"transliterationMethod": ["hani"], "payloadVersion": "101.2023"},
    }


def payload_2020() -> Json:
    """The same transfer in the 2020 edition's form."""
    payload = payload_2023()
    originator = payload["originator"]["originatorPerson"][0]
    beneficiary = payload["beneficiary"]["beneficiaryPerson"][0]
    for person in (originator, beneficiary):
        for entry in person["naturalPerson"]["name"]["nameIdentifier"]:
            entry["nameIdentifierType"] = entry.pop("naturalPersonNameIdentifierType")
    originator["naturalPerson"]["customerNumber"] = originator["naturalPerson"].pop("customerIdentification")
    payload["originator"] = {
        "originatorPersons": [originator],
        "accountNumber": originator.pop("accountNumber"),
    }
    payload["beneficiary"] = {
        "beneficiaryPersons": [beneficiary],
        "accountNumber": beneficiary.pop("accountNumber"),
    }
    payload["payloadMetadata"] = {"transliterationMethod": ["hani"]}
    return payload


def _steps(path: str) -> list[str | int]:
    return [
        int(step) if step.isdigit() else step.replace("~1", "/").replace("~0", "~")
        for step in path.split("/")[1:]
    ]


def set_at(payload: Json, path: str, value: Any) -> None:
    *parents, last = _steps(path)
    node: Any = payload
    for step in parents:
        node = node[step]
    node[last] = value


def delete_at(payload: Json, path: str) -> None:
    *parents, last = _steps(path)
    node: Any = payload
    for step in parents:
        node = node[step]
    del node[last]


DELETE = object()


@dataclass(frozen=True)
class Case:
    id: str
    edition: Edition
    changes: dict[str, Any] = field(default_factory=dict)  # pointer -> new value (DELETE removes it)
    rule: str | None = None  # None: the payload is valid
    path: str | None = None  # where the violation is reported
    build: Callable[[Json], None] | None = None

    def payload(self) -> Json:
        result = copy.deepcopy(payload_2023() if self.edition == "2023" else payload_2020())
        for pointer, value in self.changes.items():
            if value is DELETE:
                delete_at(result, pointer)
            else:
                set_at(result, pointer, value)
        if self.build:
            self.build(result)
        return result


O23 = "/originator/originatorPerson/0"
O20 = "/originator/originatorPersons/0"
NP = f"{O23}/naturalPerson"
NP20 = f"{O20}/naturalPerson"
ADDR = f"{NP}/geographicAddress/0"
NAME = f"{NP}/name/nameIdentifier/0"
BEN = "/beneficiary/beneficiaryPerson/0"
OVASP = "/originatingVASP/originatingVASP"
BVASP = "/beneficiaryVASP/beneficiaryVASP"
BNI = f"{BVASP}/legalPerson/nationalIdentification"
OVNI = f"{OVASP}/legalPerson/nationalIdentification"
HOP = "/transferPath/transferPath"

LEGAL_ORIGINATOR = {
    "legalPerson": {
        "name": {
            "nameIdentifier": [{"legalPersonName": "ABC Limited", "legalPersonNameIdentifierType": "LEGL"}]
        }
    }
}
NATURAL_NAME_ONLY = {
    "name": {"nameIdentifier": [{"primaryIdentifier": "Wu", "naturalPersonNameIdentifierType": "LEGL"}]}
}


def _with(base: Json, **extra: Any) -> Json:
    return {**copy.deepcopy(base), **extra}


def _legal_originator(**extra: Any) -> Json:
    person = copy.deepcopy(LEGAL_ORIGINATOR)
    person["legalPerson"].update(extra)
    return person


def _hops(*sequences: int) -> list[Json]:
    return [{"intermediaryVASP": _legal_person(f"VASP {n}", LEI_APPLE), "sequence": n} for n in sequences]


CASES: tuple[Case, ...] = (
    # The two editions, whole.
    Case("valid_2023", "2023"),
    Case("valid_2020", "2020"),
    Case("valid_2020_payload_version_101", "2020", {"/payloadMetadata/payloadVersion": "101"}),
    Case(
        "valid_2020_customer_identification_name",
        "2020",
        {f"{NP20}/customerIdentification": "1002390", f"{NP20}/customerNumber": DELETE},
    ),
    # Field rules: required elements.
    Case("required_originator", "2023", {"/originator": DELETE}, "required", "/originator"),
    Case(
        "required_primary_identifier",
        "2023",
        {f"{NAME}/primaryIdentifier": DELETE},
        "required",
        f"{NAME}/primaryIdentifier",
    ),
    Case("required_town_name", "2023", {f"{ADDR}/townName": DELETE}, "required", f"{ADDR}/townName"),
    Case("required_country", "2023", {f"{ADDR}/country": DELETE}, "required", f"{ADDR}/country"),
    Case("required_address_type", "2023", {f"{ADDR}/addressType": DELETE}, "required", f"{ADDR}/addressType"),
    Case(
        "required_place_of_birth",
        "2023",
        {f"{NP}/dateAndPlaceOfBirth/placeOfBirth": DELETE},
        "required",
        f"{NP}/dateAndPlaceOfBirth/placeOfBirth",
    ),
    Case("required_sequence", "2023", {f"{HOP}/0/sequence": DELETE}, "required", f"{HOP}/0/sequence"),
    Case(
        "required_national_identifier",
        "2023",
        {f"{OVNI}/nationalIdentifier": DELETE},
        "required",
        f"{OVNI}/nationalIdentifier",
    ),
    # Unknown fields and wrong JSON types.
    Case("unknown_field_root", "2023", {"/travelRule": True}, "unknown_field", "/travelRule"),
    Case("unknown_field_address", "2023", {f"{ADDR}/city": "Walnut"}, "unknown_field", f"{ADDR}/city"),
    Case(
        "unknown_field_2020_name_in_2023",
        "2023",
        {f"{NAME}/nameIdentifierType": "LEGL"},
        "unknown_field",
        f"{NAME}/nameIdentifierType",
    ),
    Case(
        "type_primary_identifier_number",
        "2023",
        {f"{NAME}/primaryIdentifier": 42},
        "type",
        f"{NAME}/primaryIdentifier",
    ),
    Case(
        "type_address_not_array",
        "2023",
        {f"{NP}/geographicAddress": _address()},
        "type",
        f"{NP}/geographicAddress",
    ),
    Case("type_sequence_string", "2023", {f"{HOP}/0/sequence": "0"}, "type", f"{HOP}/0/sequence"),
    Case("type_sequence_fraction", "2023", {f"{HOP}/0/sequence": 0.5}, "type", f"{HOP}/0/sequence"),
    # Lengths of each text datatype, at the limit and one past it.
    Case("valid_max100_at_limit", "2023", {f"{NAME}/primaryIdentifier": "S" * 100}),
    Case(
        "max_length_max100",
        "2023",
        {f"{NAME}/primaryIdentifier": "S" * 101},
        "max_length",
        f"{NAME}/primaryIdentifier",
    ),
    Case(
        "max_length_legal_person_name",
        "2023",
        {f"{OVASP}/legalPerson/name/nameIdentifier/0/legalPersonName": "V" * 101},
        "max_length",
        f"{OVASP}/legalPerson/name/nameIdentifier/0/legalPersonName",
    ),
    Case("valid_max70_at_limit", "2023", {f"{ADDR}/streetName": "S" * 70}),
    Case("max_length_max70", "2023", {f"{ADDR}/streetName": "S" * 71}, "max_length", f"{ADDR}/streetName"),
    Case(
        "max_length_place_of_birth",
        "2023",
        {f"{NP}/dateAndPlaceOfBirth/placeOfBirth": "W" * 71},
        "max_length",
        f"{NP}/dateAndPlaceOfBirth/placeOfBirth",
    ),
    Case("valid_max50_at_limit", "2023", {f"{NP}/customerIdentification": "C" * 50}),
    Case(
        "max_length_max50",
        "2023",
        {f"{NP}/customerIdentification": "C" * 51},
        "max_length",
        f"{NP}/customerIdentification",
    ),
    Case("valid_max35_at_limit", "2023", {f"{ADDR}/townName": "T" * 35}),
    Case("max_length_max35", "2023", {f"{ADDR}/townName": "T" * 36}, "max_length", f"{ADDR}/townName"),
    Case(
        "max_length_national_identifier",
        "2023",
        {f"{BNI}/nationalIdentifier": "4" * 36},
        "max_length",
        f"{BNI}/nationalIdentifier",
    ),
    Case("valid_max16_at_limit", "2023", {f"{ADDR}/buildingNumber": "1" * 16}),
    Case(
        "max_length_max16",
        "2023",
        {f"{ADDR}/buildingNumber": "1" * 17},
        "max_length",
        f"{ADDR}/buildingNumber",
    ),
    Case("max_length_postcode", "2023", {f"{ADDR}/postcode": "9" * 17}, "max_length", f"{ADDR}/postcode"),
    Case("valid_max512_at_limit", "2023", {f"{O23}/accountNumber": ["a" * 512]}),
    Case(
        "max_length_max512",
        "2023",
        {f"{O23}/accountNumber": ["a" * 513]},
        "max_length",
        f"{O23}/accountNumber/0",
    ),
    Case(
        "max_length_2020_account_number",
        "2020",
        {"/originator/accountNumber": ["a" * 101]},
        "max_length",
        "/originator/accountNumber/0",
    ),
    Case(
        "valid_local_max100_at_limit",
        "2023",
        {f"{NP}/name/localNameIdentifier": [{"primaryIdentifier": "吴" * 100, "nameIdentifierType": "LEGL"}]},
    ),
    Case(
        "max_length_local_max100",
        "2023",
        {f"{NP}/name/localNameIdentifier": [{"primaryIdentifier": "吴" * 101, "nameIdentifierType": "LEGL"}]},
        "max_length",
        f"{NP}/name/localNameIdentifier/0/primaryIdentifier",
    ),
    Case(
        "min_length_empty_text",
        "2023",
        {f"{NAME}/primaryIdentifier": ""},
        "min_length",
        f"{NAME}/primaryIdentifier",
    ),
    # Characters.
    Case("valid_printable_ascii", "2023", {f"{NAME}/primaryIdentifier": "Smith-Jones (O'Hara) & Co. #2"}),
    Case(
        "charset_latin_text",
        "2023",
        {f"{NAME}/primaryIdentifier": "Müller"},
        "charset",
        f"{NAME}/primaryIdentifier",
    ),
    Case(
        "valid_local_script",
        "2023",
        {
            f"{NP}/name/localNameIdentifier": [
                {"primaryIdentifier": "吴", "secondaryIdentifier": "信利", "nameIdentifierType": "LEGL"}
            ]
        },
    ),
    Case(
        "charset_local_control",
        "2023",
        {f"{NP}/name/localNameIdentifier": [{"primaryIdentifier": "吴\n信利", "nameIdentifierType": "LEGL"}]},
        "charset",
        f"{NP}/name/localNameIdentifier/0/primaryIdentifier",
    ),
    # Code lists, matched in canonical case.
    Case(
        "valid_codes_lower_case",
        "2023",
        {
            f"{NAME}/naturalPersonNameIdentifierType": "legl",
            f"{ADDR}/country": "us",
            f"{ADDR}/addressType": "geog",
        },
    ),
    Case("enum_address_type", "2023", {f"{ADDR}/addressType": "MAIL"}, "enum", f"{ADDR}/addressType"),
    Case(
        "enum_natural_name_type",
        "2023",
        {f"{NAME}/naturalPersonNameIdentifierType": "NICK"},
        "enum",
        f"{NAME}/naturalPersonNameIdentifierType",
    ),
    Case(
        "enum_legal_name_type",
        "2023",
        {f"{BVASP}/legalPerson/name/nameIdentifier/1/legalPersonNameIdentifierType": "FULL"},
        "enum",
        f"{BVASP}/legalPerson/name/nameIdentifier/1/legalPersonNameIdentifierType",
    ),
    Case(
        "enum_national_identifier_type",
        "2023",
        {f"{NP}/nationalIdentification": {"nationalIdentifier": "X1", "nationalIdentifierType": "PASS"}},
        "enum",
        f"{NP}/nationalIdentification/nationalIdentifierType",
    ),
    Case(
        "enum_transliteration_method",
        "2023",
        {"/payloadMetadata/transliterationMethod": ["latn"]},
        "enum",
        "/payloadMetadata/transliterationMethod/0",
    ),
    # Multiplicities.
    Case(
        "valid_address_lines_seven",
        "2023",
        {
            ADDR: {
                "addressType": "HOME",
                "addressLine": [f"line {n}" for n in range(7)],
                "townName": "Walnut",
                "country": "US",
            }
        },
    ),
    Case(
        "max_items_address_lines",
        "2023",
        {
            ADDR: {
                "addressType": "HOME",
                "addressLine": [f"line {n}" for n in range(8)],
                "townName": "Walnut",
                "country": "US",
            }
        },
        "max_items",
        f"{ADDR}/addressLine",
    ),
    Case(
        "max_length_address_line",
        "2023",
        {ADDR: {"addressType": "HOME", "addressLine": ["L" * 71], "townName": "Walnut", "country": "US"}},
        "max_length",
        f"{ADDR}/addressLine/0",
    ),
    Case(
        "min_items_originator_persons",
        "2023",
        {"/originator/originatorPerson": []},
        "min_items",
        "/originator/originatorPerson",
    ),
    Case(
        "min_items_beneficiary_persons_2020",
        "2020",
        {"/beneficiary/beneficiaryPersons": []},
        "min_items",
        "/beneficiary/beneficiaryPersons",
    ),
    Case(
        "min_items_name_identifier",
        "2023",
        {f"{NP}/name/nameIdentifier": []},
        "min_items",
        f"{NP}/name/nameIdentifier",
    ),
    # Dates.
    Case(
        "date_not_calendar",
        "2023",
        {f"{NP}/dateAndPlaceOfBirth/dateOfBirth": "1990-02-30"},
        "date",
        f"{NP}/dateAndPlaceOfBirth/dateOfBirth",
    ),
    Case(
        "date_not_iso",
        "2023",
        {f"{NP}/dateAndPlaceOfBirth/dateOfBirth": "25/02/1990"},
        "date",
        f"{NP}/dateAndPlaceOfBirth/dateOfBirth",
    ),
    # A Person is one of natural or legal.
    Case("one_of_neither", "2023", {BEN: {"accountNumber": ["x"]}}, "one_of", BEN),
    Case("one_of_both", "2023", {f"{BEN}/legalPerson": LEGAL_ORIGINATOR["legalPerson"]}, "one_of", BEN),
    # Payload version.
    Case(
        "payload_version_missing_2023",
        "2023",
        {"/payloadMetadata": DELETE},
        "payload_version",
        "/payloadMetadata/payloadVersion",
    ),
    Case(
        "payload_version_wrong",
        "2023",
        {"/payloadMetadata/payloadVersion": "2023"},
        "payload_version",
        "/payloadMetadata/payloadVersion",
    ),
    # C1 OriginatorInformationNaturalPerson: each way to meet it, and none.
    Case(
        "C1_valid_address_only",
        "2023",
        {f"{NP}/customerIdentification": DELETE, f"{NP}/dateAndPlaceOfBirth": DELETE},
    ),
    Case(
        "C1_valid_home_address_only",
        "2023",
        {
            f"{NP}/customerIdentification": DELETE,
            f"{NP}/dateAndPlaceOfBirth": DELETE,
            f"{ADDR}/addressType": "HOME",
        },
    ),
    Case(
        "C1_valid_bizz_address_only",
        "2023",
        {
            f"{NP}/customerIdentification": DELETE,
            f"{NP}/dateAndPlaceOfBirth": DELETE,
            f"{ADDR}/addressType": "BIZZ",
        },
    ),
    Case(
        "C1_valid_customer_identification_only",
        "2023",
        {f"{NP}/geographicAddress": DELETE, f"{NP}/dateAndPlaceOfBirth": DELETE},
    ),
    Case(
        "C1_valid_national_identification_only",
        "2023",
        {
            NP: _with(
                NATURAL_NAME_ONLY,
                nationalIdentification={
                    "nationalIdentifier": "AB123456",
                    "nationalIdentifierType": "CCPT",
                    "countryOfIssue": "TZ",
                },
            )
        },
    ),
    Case(
        "C1_valid_birth_only",
        "2023",
        {f"{NP}/geographicAddress": DELETE, f"{NP}/customerIdentification": DELETE},
    ),
    Case("C1_name_only", "2023", {NP: _with(NATURAL_NAME_ONLY, countryOfResidence="TZ")}, "C1", NP),
    Case(
        "C1_2020_name_only",
        "2020",
        {NP20: {"name": {"nameIdentifier": [{"primaryIdentifier": "Wu", "nameIdentifierType": "LEGL"}]}}},
        "C1",
        NP20,
    ),
    Case("C1_not_for_beneficiary", "2023", {f"{BEN}/naturalPerson/dateAndPlaceOfBirth": DELETE}),
    # C2 DateInPast (the day before the tests' fixed today, 2026-01-15).
    Case("C2_valid_born_day_before", "2023", {f"{NP}/dateAndPlaceOfBirth/dateOfBirth": "2026-01-14"}),
    Case(
        "C2_future_birth",
        "2023",
        {f"{NP}/dateAndPlaceOfBirth/dateOfBirth": "2999-01-01"},
        "C2",
        f"{NP}/dateAndPlaceOfBirth/dateOfBirth",
    ),
    # C3 Country.
    Case("C3_valid_xx", "2023", {f"{ADDR}/country": "XX"}),
    Case("C3_address_country", "2023", {f"{ADDR}/country": "QQ"}, "C3", f"{ADDR}/country"),
    Case(
        "C3_country_of_residence",
        "2023",
        {f"{NP}/countryOfResidence": "ZZ"},
        "C3",
        f"{NP}/countryOfResidence",
    ),
    Case(
        "C3_country_of_issue_uk",
        "2023",
        {
            f"{NP}/nationalIdentification": {
                "nationalIdentifier": "AB123456",
                "nationalIdentifierType": "CCPT",
                "countryOfIssue": "UK",
            }
        },
        "C3",
        f"{NP}/nationalIdentification/countryOfIssue",
    ),
    Case(
        "C3_country_of_registration",
        "2023",
        {f"{BVASP}/legalPerson/countryOfRegistration": "EU"},
        "C3",
        f"{BVASP}/legalPerson/countryOfRegistration",
    ),
    # C4 OriginatorInformationLegalPerson.
    Case("C4_valid_geog_address", "2023", {O23: _legal_originator(geographicAddress=[_address()])}),
    Case("C4_valid_customer_identification", "2023", {O23: _legal_originator(customerIdentification="C-77")}),
    Case(
        "C4_valid_national_identification",
        "2023",
        {
            O23: _legal_originator(
                nationalIdentification={
                    "nationalIdentifier": LEI_DEUTSCHE_BANK,
                    "nationalIdentifierType": "LEIX",
                }
            )
        },
    ),
    Case("C4_name_only", "2023", {O23: _legal_originator()}, "C4", f"{O23}/legalPerson"),
    Case(
        "C4_business_address_only",
        "2023",
        {O23: _legal_originator(geographicAddress=[_address(addressType="BIZZ")])},
        "C4",
        f"{O23}/legalPerson",
    ),
    # C5 LegalNamePresentLegalPerson.
    Case(
        "C5_valid_legal_among_trading_names",
        "2023",
        {
            f"{BVASP}/legalPerson/name/nameIdentifier/0/legalPersonNameIdentifierType": "TRAD",
            f"{BVASP}/legalPerson/name/nameIdentifier/1/legalPersonNameIdentifierType": "LEGL",
        },
    ),
    Case(
        "C5_trading_name_only",
        "2023",
        {f"{BVASP}/legalPerson/name/nameIdentifier/0/legalPersonNameIdentifierType": "SHRT"},
        "C5",
        f"{BVASP}/legalPerson/name/nameIdentifier",
    ),
    # C6 LegalNamePresentNaturalPerson.
    Case(
        "C6_valid_legal_among_aliases",
        "2023",
        {
            f"{NP}/name/nameIdentifier": [
                {"primaryIdentifier": "Smithy", "naturalPersonNameIdentifierType": "ALIA"},
                {"primaryIdentifier": "Smith", "naturalPersonNameIdentifierType": "LEGL"},
            ]
        },
    ),
    Case(
        "C6_alias_only",
        "2023",
        {f"{NAME}/naturalPersonNameIdentifierType": "ALIA"},
        "C6",
        f"{NP}/name/nameIdentifier",
    ),
    Case(
        "C6_2020_alias_only",
        "2020",
        {f"{NP20}/name/nameIdentifier/0/nameIdentifierType": "ALIA"},
        "C6",
        f"{NP20}/name/nameIdentifier",
    ),
    # C7 ValidNationalIdentifierLegalPerson.
    Case("C7_valid_txid", "2023", {f"{BNI}/nationalIdentifierType": "TXID"}),
    Case(
        "C7_passport",
        "2023",
        {f"{BNI}/nationalIdentifierType": "CCPT"},
        "C7",
        f"{BNI}/nationalIdentifierType",
    ),
    Case(
        "C7_foreign_investment_number",
        "2023",
        {f"{BNI}/nationalIdentifierType": "FIIN"},
        "C7",
        f"{BNI}/nationalIdentifierType",
    ),
    Case(
        "C7_valid_natural_person_raid",
        "2023",
        {
            f"{NP}/nationalIdentification": {
                "nationalIdentifier": "446005",
                "nationalIdentifierType": "RAID",
                "registrationAuthority": "RA000553",
            }
        },
    ),
    # C8 ValidAddress.
    Case("C8_valid_street_and_building_name", "2023", {f"{ADDR}/buildingNumber": DELETE}),
    Case(
        "C8_valid_address_line_only",
        "2023",
        {
            ADDR: {
                "addressType": "GEOG",
                "addressLine": ["24 Potential Street"],
                "townName": "Walnut",
                "country": "US",
            }
        },
    ),
    Case(
        "C8_town_only",
        "2023",
        {ADDR: {"addressType": "GEOG", "townName": "Walnut", "country": "US"}},
        "C8",
        ADDR,
    ),
    Case(
        "C8_street_without_building",
        "2023",
        {f"{ADDR}/buildingNumber": DELETE, f"{ADDR}/buildingName": DELETE},
        "C8",
        ADDR,
    ),
    # C9 CompleteNationalIdentifierLegalPerson.
    Case("C9_valid_misc_with_authority", "2023", {f"{BNI}/nationalIdentifierType": "MISC"}),
    Case("C9_valid_lei_without_authority", "2023", {f"{OVNI}/nationalIdentifier": LEI_BNP_PARIBAS}),
    Case("C9_country_of_issue", "2023", {f"{BNI}/countryOfIssue": "TZ"}, "C9", f"{BNI}/countryOfIssue"),
    Case(
        "C9_raid_without_authority",
        "2023",
        {f"{BNI}/registrationAuthority": DELETE},
        "C9",
        f"{BNI}/registrationAuthority",
    ),
    Case(
        "C9_lei_with_authority",
        "2023",
        {f"{OVNI}/registrationAuthority": "RA000553"},
        "C9",
        f"{OVNI}/registrationAuthority",
    ),
    # C10 RegistrationAuthority.
    Case("C10_valid_lower_case", "2023", {f"{BNI}/registrationAuthority": "ra000553"}),
    Case(
        "C10_not_on_gleif_list",
        "2023",
        {f"{BNI}/registrationAuthority": "RA999998"},
        "C10",
        f"{BNI}/registrationAuthority",
    ),
    Case(
        "C10_malformed",
        "2023",
        {f"{BNI}/registrationAuthority": "BRELA"},
        "C10",
        f"{BNI}/registrationAuthority",
    ),
    # C11 ValidLEI.
    Case("C11_valid_lower_case", "2023", {f"{OVNI}/nationalIdentifier": LEI_GLEIF.lower()}),
    Case(
        "C11_check_digits",
        "2023",
        {f"{OVNI}/nationalIdentifier": BAD_CHECK_DIGIT_LEIS[0]},
        "C11",
        f"{OVNI}/nationalIdentifier",
    ),
    Case(
        "C11_standard_example_lei",
        "2023",
        {f"{OVNI}/nationalIdentifier": "3M5E1GQKGL17HI8CPN20"},
        "C11",
        f"{OVNI}/nationalIdentifier",
    ),
    Case(
        "C11_malformed",
        "2023",
        {f"{OVNI}/nationalIdentifier": "VASP-A-LEI"},
        "C11",
        f"{OVNI}/nationalIdentifier",
    ),
    Case(
        "lei_natural_person",
        "2023",
        {
            f"{NP}/nationalIdentification": {
                "nationalIdentifier": BAD_CHECK_DIGIT_LEIS[1],
                "nationalIdentifierType": "LEIX",
            }
        },
        "lei",
        f"{NP}/nationalIdentification/nationalIdentifier",
    ),
    # C12 sequentialIntegrity.
    Case("C12_valid_two_hops", "2023", {HOP: _hops(0, 1)}),
    Case("C12_valid_two_hops_any_order", "2023", {HOP: _hops(1, 0)}),
    Case("C12_not_from_zero", "2023", {HOP: _hops(1)}, "C12", HOP),
    Case("C12_gap", "2023", {HOP: _hops(0, 2)}, "C12", HOP),
    Case("C12_repeat", "2023", {HOP: _hops(0, 0)}, "C12", HOP),
)

CASES_BY_ID = {case.id: case for case in CASES}
