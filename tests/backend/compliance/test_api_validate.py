"""`POST /api/v1/compliance/ivms101/validate`: the normalised payload, or every violation at once as problem
details with JSON Pointers, for any signed-in account."""

from __future__ import annotations

import pytest
from compliance_support import FAST_ARGON2, client_for, make_account, sign_in
from fastapi import FastAPI
from ivms101_cases import BEN, NAME, NP, OVASP, payload_2020, payload_2023, set_at
from tests_support import assert_problem, make_settings

from server_fastapi.compliance.ivms101 import validate_ivms101
from server_fastapi.core.settings import Settings

URL = "/api/v1/compliance/ivms101/validate"


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url, **FAST_ARGON2)


async def test_validation_needs_a_signed_in_account(app: FastAPI) -> None:
    async with client_for(app) as client:
        assert_problem(await client.post(URL, json=payload_2023()), 401)


async def test_a_valid_payload_comes_back_normalised(app: FastAPI, settings: Settings) -> None:
    account = await make_account(settings)
    async with client_for(app) as client:
        headers = await sign_in(client, account.email)
        payload = payload_2023()
        set_at(payload, f"{NP}/countryOfResidence", "us")  # codes are matched in canonical upper case
        response = await client.post(URL, json=payload, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["edition"] == "2023"
        assert (
            body["payload"]["originator"]["originatorPerson"][0]["naturalPerson"]["countryOfResidence"]
            == "US"
        )

        legacy = await client.post(URL, json=payload_2020(), headers=headers)
        assert legacy.status_code == 200, legacy.text
        assert legacy.json()["edition"] == "2020"
        assert "originatorPerson" in legacy.json()["payload"]["originator"]  # converted to the 2023 form


async def test_every_violation_is_reported_at_once_with_its_json_pointer(
    app: FastAPI, settings: Settings
) -> None:
    account = await make_account(settings)
    payload = payload_2023()
    set_at(payload, f"{NAME}/primaryIdentifier", "x" * 101)  # too long
    set_at(payload, f"{NP}/countryOfResidence", "UK")  # not an ISO 3166 code (GB is)
    set_at(payload, f"{NP}/dateAndPlaceOfBirth/dateOfBirth", "2999-01-01")  # in the future
    set_at(payload, f"{BEN}/naturalPerson/favouriteColour", "blue")  # unknown field
    set_at(payload, f"{OVASP}/legalPerson/nationalIdentification/nationalIdentifier", "506700GE1G29325QX364")
    expected = validate_ivms101(payload).violations
    assert len(expected) >= 5

    async with client_for(app) as client:
        headers = await sign_in(client, account.email)
        response = await client.post(URL, json=payload, headers=headers)
    body = assert_problem(response, 422, "validation")
    errors = body["errors"]
    assert [(e["pointer"], e["code"], e["detail"]) for e in errors] == [
        (v.path, v.rule, v.message) for v in expected
    ]
    assert all(error["location"] == "body" for error in errors)
    pointers = {error["pointer"] for error in errors}
    assert {
        f"{NAME}/primaryIdentifier",
        f"{NP}/countryOfResidence",
        f"{NP}/dateAndPlaceOfBirth/dateOfBirth",
        f"{BEN}/naturalPerson/favouriteColour",
    } <= pointers
    assert any(e["code"] == "C11" for e in errors)  # the LEI check digits
    assert str(len(errors)) in body["detail"]


async def test_malformed_and_oversized_bodies_are_refused(app: FastAPI, settings: Settings) -> None:
    account = await make_account(settings)
    async with client_for(app) as client:
        headers = await sign_in(client, account.email)
        not_json = await client.post(
            URL, content=b"{not json", headers={**headers, "content-type": "application/json"}
        )
        assert assert_problem(not_json, 422)["errors"][0]["code"] == "json_invalid"
        not_object = await client.post(URL, json=[1, 2], headers=headers)
        assert assert_problem(not_object, 422)["errors"][0]["pointer"] == ""
        huge = await client.post(
            URL,
            content=b'{"a": "' + b"x" * 300_000 + b'"}',
            headers={**headers, "content-type": "application/json"},
        )
        assert_problem(huge, 413, "too-large")
