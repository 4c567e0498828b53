"""The committed OpenAPI contract is what the code serves; the generated clients are built from it."""

from __future__ import annotations

import json

from server_fastapi.__main__ import OPENAPI_PATH, export_openapi


def test_committed_openapi_json_is_current() -> None:
    committed = OPENAPI_PATH.read_text()
    assert json.loads(committed) == json.loads(export_openapi()), (
        "server_fastapi/openapi.json is stale: run `just openapi` and commit it"
    )


def test_operation_ids_are_stable_tag_name_pairs() -> None:
    spec = json.loads(export_openapi())
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all("-" in operation_id for operation_id in ids)
