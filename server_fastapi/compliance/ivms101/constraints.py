"""The cross-field constraints of IVMS101, checked on the JSON form.

Pydantic runs a model's after-validators only when all its fields are valid, so a payload with a bad field
would hide a broken constraint in the same object. These functions read the raw JSON (tolerating any
shape), so `validate_ivms101` reports every violation at once; the models call the same functions on their
own dump, so each model enforces them when used alone. Field-level rules (C2, C3, C7, C10, lengths,
characters, codes) live in `fields.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from server_fastapi.compliance.ivms101.codes import (
    LEGAL_PERSON_IDENTIFYING_ADDRESS_TYPES,
    NATURAL_PERSON_IDENTIFYING_ADDRESS_TYPES,
    lei_problem,
)

Edition = Literal["2020", "2023"]
Loc = tuple[str | int, ...]

# Rules owned here; the validate functions take these from the walker and drop the models' copies.
CROSS_FIELD_RULES: Final = frozenset({"one_of", "C1", "C4", "C5", "C6", "C8", "C9", "C11", "C12", "lei"})


@dataclass(frozen=True, slots=True)
class Issue:
    loc: Loc
    rule: str
    message: str


def _obj(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _items(value: object) -> Sequence[Any]:
    return value if isinstance(value, list) else ()


def _present(mapping: Mapping[str, Any], key: str) -> bool:
    return mapping.get(key) is not None


def _code(value: object) -> str | None:
    return value.upper() if isinstance(value, str) else None


def _name_type_key(edition: Edition) -> str:
    return "naturalPersonNameIdentifierType" if edition == "2023" else "nameIdentifierType"


def address_issues(address: object) -> Iterator[Issue]:
    """C8 ValidAddress: addressLine, or streetName with buildingName and/or buildingNumber."""
    data = _obj(address)
    if data is None:
        return
    structured = _present(data, "streetName") and (
        _present(data, "buildingName") or _present(data, "buildingNumber")
    )
    if not _items(data.get("addressLine")) and not structured:
        yield Issue(
            (), "C8", "an address needs addressLine, or streetName with buildingName or buildingNumber"
        )


def natural_person_name_issues(name: object, edition: Edition) -> Iterator[Issue]:
    """C6 LegalNamePresentNaturalPerson."""
    data = _obj(name)
    if data is None:
        return
    key = _name_type_key(edition)
    entries = [_obj(entry) for entry in _items(data.get("nameIdentifier"))]
    if entries and not any(entry is not None and _code(entry.get(key)) == "LEGL" for entry in entries):
        yield Issue(
            ("nameIdentifier",), "C6", f"at least one nameIdentifier needs {key} LEGL (the legal name)"
        )


def legal_person_name_issues(name: object) -> Iterator[Issue]:
    """C5 LegalNamePresentLegalPerson."""
    data = _obj(name)
    if data is None:
        return
    entries = [_obj(entry) for entry in _items(data.get("nameIdentifier"))]
    if entries and not any(
        entry is not None and _code(entry.get("legalPersonNameIdentifierType")) == "LEGL" for entry in entries
    ):
        yield Issue(
            ("nameIdentifier",),
            "C5",
            "at least one nameIdentifier needs legalPersonNameIdentifierType LEGL (the legal name)",
        )


def national_identification_issues(identification: object, *, legal_person: bool) -> Iterator[Issue]:
    """C9 CompleteNationalIdentifierLegalPerson and C11 ValidLEI (for a natural person's LEI: rule "lei")."""
    data = _obj(identification)
    if data is None:
        return
    kind = _code(data.get("nationalIdentifierType"))
    if legal_person:
        if _present(data, "countryOfIssue"):
            yield Issue(
                ("countryOfIssue",), "C9", "a legal person's national identification has no countryOfIssue"
            )
        if kind == "LEIX" and _present(data, "registrationAuthority"):
            yield Issue(("registrationAuthority",), "C9", "an LEI (LEIX) takes no registrationAuthority")
        if kind is not None and kind != "LEIX" and not _present(data, "registrationAuthority"):
            yield Issue(
                ("registrationAuthority",),
                "C9",
                f"a legal person's {kind} identifier needs a registrationAuthority",
            )
    identifier = data.get("nationalIdentifier")
    if kind == "LEIX" and isinstance(identifier, str):
        problem = lei_problem(identifier.upper())
        if problem:
            yield Issue(("nationalIdentifier",), "C11" if legal_person else "lei", problem)


def natural_person_issues(person: object, edition: Edition, *, originator: bool) -> Iterator[Issue]:
    data = _obj(person)
    if data is None:
        return
    for issue in natural_person_name_issues(data.get("name"), edition):
        yield Issue(("name", *issue.loc), issue.rule, issue.message)
    addresses = _items(data.get("geographicAddress"))
    for index, address in enumerate(addresses):
        for issue in address_issues(address):
            yield Issue(("geographicAddress", index, *issue.loc), issue.rule, issue.message)
    for issue in national_identification_issues(data.get("nationalIdentification"), legal_person=False):
        yield Issue(("nationalIdentification", *issue.loc), issue.rule, issue.message)
    if originator:
        yield from natural_originator_issues(data)


def natural_originator_issues(person: object) -> Iterator[Issue]:
    """C1 OriginatorInformationNaturalPerson."""
    data = _obj(person)
    if data is None:
        return
    identified = (
        any(
            _code((_obj(address) or {}).get("addressType")) in NATURAL_PERSON_IDENTIFYING_ADDRESS_TYPES
            for address in _items(data.get("geographicAddress"))
        )
        or _has_customer_identification(data)
        or _present(data, "nationalIdentification")
        or _present(data, "dateAndPlaceOfBirth")
    )
    if not identified:
        yield Issue(
            (),
            "C1",
            "an originating natural person needs a GEOG, HOME or BIZZ geographicAddress, "
            "customerIdentification, nationalIdentification or dateAndPlaceOfBirth",
        )


def legal_person_issues(person: object, *, originator: bool) -> Iterator[Issue]:
    data = _obj(person)
    if data is None:
        return
    for issue in legal_person_name_issues(data.get("name")):
        yield Issue(("name", *issue.loc), issue.rule, issue.message)
    addresses = _items(data.get("geographicAddress"))
    for index, address in enumerate(addresses):
        for issue in address_issues(address):
            yield Issue(("geographicAddress", index, *issue.loc), issue.rule, issue.message)
    for issue in national_identification_issues(data.get("nationalIdentification"), legal_person=True):
        yield Issue(("nationalIdentification", *issue.loc), issue.rule, issue.message)
    if originator:
        yield from legal_originator_issues(data)


def legal_originator_issues(person: object) -> Iterator[Issue]:
    """C4 OriginatorInformationLegalPerson."""
    data = _obj(person)
    if data is None:
        return
    identified = (
        any(
            _code((_obj(address) or {}).get("addressType")) in LEGAL_PERSON_IDENTIFYING_ADDRESS_TYPES
            for address in _items(data.get("geographicAddress"))
        )
        or _has_customer_identification(data)
        or _present(data, "nationalIdentification")
    )
    if not identified:
        yield Issue(
            (),
            "C4",
            "an originating legal person needs a GEOG geographicAddress, customerIdentification "
            "or nationalIdentification",
        )


def _has_customer_identification(data: Mapping[str, Any]) -> bool:
    return _present(data, "customerIdentification") or _present(data, "customerNumber")


def person_choice_issues(person: object) -> Iterator[Issue]:
    """A Person is exactly one of naturalPerson or legalPerson (the standard's {Or ... Or} choice)."""
    data = _obj(person)
    if data is None:
        return
    natural, legal = _present(data, "naturalPerson"), _present(data, "legalPerson")
    if natural and legal:
        yield Issue((), "one_of", "a person is either a naturalPerson or a legalPerson, not both")
    elif not natural and not legal:
        yield Issue((), "one_of", "a person needs a naturalPerson or a legalPerson")


def person_issues(person: object, edition: Edition, *, originator: bool) -> Iterator[Issue]:
    """Every cross-field constraint inside one Person; C1/C4 only when it is an originator."""
    data = _obj(person)
    if data is None:
        return
    yield from person_choice_issues(data)
    for issue in natural_person_issues(data.get("naturalPerson"), edition, originator=originator):
        yield Issue(("naturalPerson", *issue.loc), issue.rule, issue.message)
    for issue in legal_person_issues(data.get("legalPerson"), originator=originator):
        yield Issue(("legalPerson", *issue.loc), issue.rule, issue.message)


def originator_issues(person: object) -> Iterator[Issue]:
    """C1 and C4 for one originator Person (the decision: they bind originators only)."""
    data = _obj(person)
    if data is None:
        return
    for issue in natural_originator_issues(data.get("naturalPerson")):
        yield Issue(("naturalPerson", *issue.loc), issue.rule, issue.message)
    for issue in legal_originator_issues(data.get("legalPerson")):
        yield Issue(("legalPerson", *issue.loc), issue.rule, issue.message)


def transfer_path_issues(path: object) -> Iterator[Issue]:
    """C12 sequentialIntegrity: the sequence values are 0, 1, ... n-1 (in any order), each once."""
    data = _obj(path)
    if data is None:
        return
    entries = _items(data.get("transferPath"))
    raw = [(_obj(entry) or {}).get("sequence") for entry in entries]
    sequences = [value for value in raw if isinstance(value, int) and not isinstance(value, bool)]
    if len(sequences) != len(raw):
        return  # a missing or mistyped sequence is reported on its own field
    if sorted(sequences) != list(range(len(sequences))):
        yield Issue(
            ("transferPath",),
            "C12",
            f"sequence values must run 0..{len(sequences) - 1} without gaps or repeats; found {sequences}",
        )


def payload_issues(payload: object, edition: Edition) -> Iterator[Issue]:
    """Every cross-field constraint of a whole payload, each with its location."""
    data = _obj(payload)
    if data is None:
        return
    suffix = "s" if edition == "2020" else ""
    for entity, key, originator in (
        ("originator", f"originatorPerson{suffix}", True),
        ("beneficiary", f"beneficiaryPerson{suffix}", False),
    ):
        for index, person in enumerate(_items((_obj(data.get(entity)) or {}).get(key))):
            for issue in person_issues(person, edition, originator=originator):
                yield Issue((entity, key, index, *issue.loc), issue.rule, issue.message)
    for entity in ("originatingVASP", "beneficiaryVASP"):
        person = (_obj(data.get(entity)) or {}).get(entity)
        for issue in person_issues(person, edition, originator=False):
            yield Issue((entity, entity, *issue.loc), issue.rule, issue.message)
    transfer_path = data.get("transferPath")
    for issue in transfer_path_issues(transfer_path):
        yield Issue(("transferPath", *issue.loc), issue.rule, issue.message)
    for index, entry in enumerate(_items((_obj(transfer_path) or {}).get("transferPath"))):
        person = (_obj(entry) or {}).get("intermediaryVASP")
        for issue in person_issues(person, edition, originator=False):
            yield Issue(
                ("transferPath", "transferPath", index, "intermediaryVASP", *issue.loc),
                issue.rule,
                issue.message,
            )
