"""values.yaml and values.schema.json: every key documented, every object closed, bad values refused."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import CHART, template

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text())


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _object_schemas(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _object_schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _object_schemas(value, f"{path}/{index}")


def test_every_object_in_the_schema_is_closed() -> None:
    objects = list(_object_schemas(SCHEMA))
    assert len(objects) > 40
    for path, node in objects:
        extra = node.get("additionalProperties")
        # Fixed objects refuse unknown keys; free-form maps (labels, annotations) still type their values.
        if "properties" in node:
            assert extra is False, path
        else:
            assert isinstance(extra, dict), path
            assert extra.get("type") == "string", path


def _schema_keys(node: dict[str, Any], path: str = "") -> set[str]:
    node = _resolve(node)
    keys = set()
    for key, child in node.get("properties", {}).items():
        child_path = f"{path}.{key}" if path else key
        keys.add(child_path)
        if "properties" in _resolve(child):
            keys |= _schema_keys(child, child_path)
    return keys


def _value_keys(values: dict[str, Any], schema: dict[str, Any], path: str = "") -> set[str]:
    keys = set()
    schema = _resolve(schema)
    for key, value in values.items():
        child_path = f"{path}.{key}" if path else key
        keys.add(child_path)
        child_schema = _resolve(schema.get("properties", {}).get(key, {}))
        if isinstance(value, dict) and "properties" in child_schema:
            keys |= _value_keys(value, child_schema, child_path)
    return keys


def test_schema_and_values_describe_the_same_keys() -> None:
    assert _schema_keys(SCHEMA) == _value_keys(DEFAULTS, SCHEMA)


def test_every_value_is_documented_by_a_comment() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    list_indent: int | None = None
    undocumented = []
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        if list_indent is not None and indent > list_indent:
            continue  # inside a list item or a block scalar: data of the value documented above it
        list_indent = None
        if stripped.startswith("#"):
            continue
        if stripped.startswith("- "):
            list_indent = indent
            continue
        if re.match(r"^[A-Za-z0-9_.-]+:", stripped):
            if not lines[number - 1].strip().startswith("#"):
                undocumented.append(f"{number + 1}: {stripped}")
            if stripped.endswith("|"):
                list_indent = indent  # a block scalar's lines are data too
    assert undocumented == []


BAD_VALUES = {
    "unknown top-level key": {"replicas": 3},
    "unknown nested key": {"api": {"replicas": 3}},
    "typo in a deep key": {"networkPolicy": {"egress": {"evmRPC": {"to": []}}}},
    "string for an integer": {"api": {"replicaCount": "two"}},
    "string for a boolean": {"ingress": {"enabled": "yes"}},
    "sample ratio above 1": {"otel": {"tracesSuccessSampleRatio": 1.5}},
    "malformed digest": {"api": {"image": {"digest": "latest"}}},
    "unknown environment": {"environment": "staging"},
    "number for a label value": {"commonLabels": {"tier": 1}},
    "unknown key in a peer": {"networkPolicy": {"ingressFrom": [{"namespaceSelectors": {}}]}},
    "list for an object": {"api": {"resources": []}},
    "lower-case env name": {"api": {"extraEnv": {"log_level": "debug"}}},
    "host name for a trusted proxy network": {"api": {"trustedProxies": ["ingress-nginx"]}},
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_schema_refuses_bad_values(helm: str, write_values: Callable[[Any], Path], case: str) -> None:
    result = template(helm, write_values(BAD_VALUES[case]))
    assert result.returncode != 0, f"{case} was accepted"
    assert "schema" in result.stderr.lower(), result.stderr


def test_schema_accepts_a_reasonable_override(helm: str, write_values: Callable[[Any], Path]) -> None:
    resources = {"requests": {"cpu": 1, "memory": "1Gi"}, "limits": {"cpu": 2, "memory": "2Gi"}}
    values = {
        "api": {
            "replicaCount": 3,
            "autoscaling": {"enabled": False},
            "resources": resources,
            "extraEnv": {"DB_POOL_MAX_SIZE": "40"},
        },
        "commonLabels": {"team": "exchange"},
    }
    result = template(helm, write_values(values))
    assert result.returncode == 0, result.stderr
