"""Each IVMS101 field rule and numbered constraint, with a payload that keeps it and one that breaks it."""

from __future__ import annotations

from datetime import date

import pytest
from ivms101_cases import CASES, Case

from server_fastapi.compliance.ivms101 import validate_ivms101

TODAY = date(2026, 1, 15)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_case(case: Case) -> None:
    result = validate_ivms101(case.payload(), today=TODAY)

    found = [(violation.path, violation.rule) for violation in result.violations]
    if case.rule is None:
        assert found == []
        assert result.ok
        assert result.value is not None
    else:
        assert (case.path, case.rule) in found
        assert not result.ok
        assert result.value is None
    assert result.edition == case.edition


def test_every_numbered_constraint_is_exercised_both_ways() -> None:
    for number in range(1, 13):
        rule = f"C{number}"
        broken = [case for case in CASES if case.rule == rule]
        kept = [case for case in CASES if case.rule is None and case.id.startswith(f"{rule}_valid")]
        assert broken, f"no case breaks {rule}"
        assert kept, f"no case keeps {rule}"


def test_a_broken_case_reports_only_its_own_rule() -> None:
    for case in CASES:
        if case.rule is None or case.rule in {"type", "one_of"}:
            continue
        result = validate_ivms101(case.payload(), today=TODAY)
        rules = {violation.rule for violation in result.violations}
        # Breaking a field can also leave a constraint unmet (an unknown name type is no LEGL name: C6).
        assert rules <= {case.rule, "C1", "C4", "C5", "C6", "C8", "required", "unknown_field"}, (
            case.id,
            rules,
        )
