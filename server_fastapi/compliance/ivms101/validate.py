"""Validation entry points: a whole payload, or one person. Each returns every violation at once.

A violation's `path` is an RFC 6901 JSON Pointer into the input (`/originator/originatorPersons/0/
naturalPerson/name/nameIdentifier/0/primaryIdentifier`; "" is the whole document), the same form the API's
problem details use; `loc` holds the same steps as a tuple. `rule` is a numbered constraint of the
standard ("C1" ... "C12") or one of: required, unknown_field, type, min_length, max_length, charset, enum,
date, min_items, max_items, max_digits, one_of, lei, payload_version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from server_fastapi.compliance.ivms101 import constraints
from server_fastapi.compliance.ivms101.constraints import CROSS_FIELD_RULES, Edition, Issue, Loc
from server_fastapi.compliance.ivms101.fields import Options, context_for, utc_today
from server_fastapi.compliance.ivms101.legacy import IVMS101Payload2020
from server_fastapi.compliance.ivms101.models import IVMS101Payload, NaturalPerson, Person
from server_fastapi.core.json_pointer import json_pointer

ModelT = TypeVar("ModelT", bound=BaseModel)

_PYDANTIC_RULES: Final = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "model_type": "type",
    "model_attributes_type": "type",
    "dict_type": "type",
    "list_type": "type",
    "string_type": "type",
    "int_type": "type",
    "too_short": "min_items",
    "too_long": "max_items",
}
_PYDANTIC_MESSAGES: Final = {
    "missing": "is required",
    "extra_forbidden": "is not an element of IVMS101 {edition} (unknown fields are refused)",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be an array",
}
_VERSION_LOCS: Final = {("payloadMetadata",), ("payloadMetadata", "payloadVersion")}


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: where (RFC 6901 pointer), which rule, and why."""

    path: str
    rule: str
    message: str
    loc: Loc = ()

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "rule": self.rule, "message": self.message}


@dataclass(frozen=True, slots=True)
class ValidationResult(Generic[ModelT]):
    """The validated model (None when anything is wrong) and every violation found."""

    value: ModelT | None
    violations: tuple[Violation, ...]
    edition: Edition = "2023"

    @property
    def ok(self) -> bool:
        return self.value is not None and not self.violations

    def normalised(self) -> dict[str, Any] | None:
        """The normalised JSON (2023 form, canonical codes, absent elements left out), or None."""
        return self.value.model_dump(mode="json", by_alias=True, exclude_none=True) if self.value else None


def _sort_key(violation: Violation) -> tuple[tuple[int, int | str], ...]:
    steps = tuple((0, step) if isinstance(step, int) else (1, step) for step in violation.loc)
    return (*steps, (1, violation.rule))


def _from_pydantic(error: ValidationError, prefix: Loc, edition: Edition) -> list[Violation]:
    found = []
    for item in error.errors(include_url=False):
        kind = item["type"]
        if kind in CROSS_FIELD_RULES:
            continue  # reported by the walker, with the exact location
        loc = prefix + tuple(item["loc"])
        rule = _PYDANTIC_RULES.get(kind, kind)
        template = _PYDANTIC_MESSAGES.get(kind)
        message = template.format(edition=edition) if template else item["msg"]
        if kind in {"too_short", "too_long"}:
            context = item.get("ctx", {})
            bound = context.get("min_length" if kind == "too_short" else "max_length")
            which = "least" if kind == "too_short" else "most"
            message = f"needs at {which} {bound} item{'s' if bound != 1 else ''}"
        found.append(Violation(json_pointer(loc), rule, message, loc))
    return found


def _from_issues(issues: Iterable[Issue], prefix: Loc) -> list[Violation]:
    return [
        Violation(json_pointer(prefix + issue.loc), issue.rule, issue.message, prefix + issue.loc)
        for issue in issues
    ]


def _finish(violations: Iterable[Violation]) -> tuple[Violation, ...]:
    unique = {(violation.path, violation.rule, violation.message): violation for violation in violations}
    return tuple(sorted(unique.values(), key=_sort_key))


def _edition_of(payload: Mapping[str, Any]) -> tuple[Edition, list[Violation]]:
    """The edition a payload claims, or, without a payloadVersion, the one its shape shows."""
    metadata = payload.get("payloadMetadata")
    version = metadata.get("payloadVersion") if isinstance(metadata, Mapping) else None
    if version == "101.2023":
        return "2023", []
    if version == "101":
        return "2020", []
    originator, beneficiary = payload.get("originator"), payload.get("beneficiary")
    shaped_2023 = (isinstance(originator, Mapping) and "originatorPerson" in originator) or (
        isinstance(beneficiary, Mapping) and "beneficiaryPerson" in beneficiary
    )
    if version is None and shaped_2023:
        loc: Loc = ("payloadMetadata", "payloadVersion")
        return "2023", [
            Violation(
                json_pointer(loc),
                "payload_version",
                "a 2023 payload (originatorPerson, beneficiaryPerson) requires "
                "payloadMetadata.payloadVersion = 101.2023",
                loc,
            )
        ]
    return ("2023" if shaped_2023 else "2020"), []


def validate_ivms101(
    payload: object, *, strict_2020_charset: bool = False, today: date | None = None
) -> ValidationResult[IVMS101Payload]:
    """Validate a whole IVMS101 payload, 2023 or 2020 edition; on success `value` is the 2023 form.

    The edition is the one `payloadMetadata.payloadVersion` names ("101.2023" or "101"); without one, a
    payload shaped as 2023 is reported (payload_version) and otherwise read as 2020. `strict_2020_charset`
    applies the 2020 text's `[a-zA-Z0-9' ]` character rule to a 2020 payload's Latin text fields, which by
    default (both editions) take printable ASCII. `today` fixes the date C2 compares with (default: UTC now).
    """
    if not isinstance(payload, Mapping):
        return ValidationResult(None, (Violation("", "type", "an IVMS101 payload must be a JSON object"),))
    edition, violations = _edition_of(payload)
    options = Options(
        strict_2020_charset=strict_2020_charset and edition == "2020", today=today or utc_today()
    )
    context = context_for(options)
    value: IVMS101Payload | None = None
    try:
        if edition == "2023":
            value = IVMS101Payload.model_validate(payload, context=context)
        else:
            legacy = IVMS101Payload2020.model_validate(payload, context=context)
            value = IVMS101Payload.model_validate(legacy.to_2023_json(), context=context)
    except ValidationError as error:
        from_models = _from_pydantic(error, (), edition)
        if violations:  # the missing payloadVersion is already reported, with its reason
            from_models = [
                item for item in from_models if not (item.rule == "required" and item.loc in _VERSION_LOCS)
            ]
        violations += from_models
    violations += _from_issues(constraints.payload_issues(payload, edition), ())
    found = _finish(violations)
    return ValidationResult(None if found else value, found, edition)


def validate_person(
    person: object, *, originator: bool, today: date | None = None
) -> ValidationResult[Person]:
    """Validate one IVMS101.2023 Person (a withdrawal's beneficiary, say); C1/C4 only when `originator`."""
    return _validate_part(
        Person, person, lambda data: constraints.person_issues(data, "2023", originator=originator), today
    )


def validate_natural_person(
    person: object, *, originator: bool = True, today: date | None = None
) -> ValidationResult[NaturalPerson]:
    """Validate one IVMS101.2023 NaturalPerson, e.g. a trader's KYC identity (an originator: C1 applies)."""
    return _validate_part(
        NaturalPerson,
        person,
        lambda data: constraints.natural_person_issues(data, "2023", originator=originator),
        today,
    )


def _validate_part(
    model: type[ModelT], data: object, issues: Callable[[object], Iterable[Issue]], today: date | None
) -> ValidationResult[ModelT]:
    context = context_for(Options(today=today or utc_today()))
    violations: list[Violation] = []
    value: ModelT | None = None
    try:
        value = model.model_validate(data, context=context)
    except ValidationError as error:
        violations += _from_pydantic(error, (), "2023")
    violations += _from_issues(issues(data), ())
    found = _finish(violations)
    return ValidationResult(None if found else value, found, "2023")
