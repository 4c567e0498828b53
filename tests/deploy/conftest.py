"""Fixtures of the deployment tests: the Helm binary (installed by `infra/helm.sh`), rendered charts.

Nothing here is skipped when a tool is missing: a test that cannot get Helm or hadolint fails.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import PRODUCTION_VALUES, ROOT, Rendered, render_ok


@pytest.fixture(scope="session")
def helm() -> str:
    """Path of the Helm binary; installs it on first use (cached outside the checkout)."""
    result = subprocess.run(
        [str(ROOT / "infra" / "helm.sh")], capture_output=True, text=True, check=False, timeout=1800
    )
    assert result.returncode == 0, f"infra/helm.sh failed:\n{result.stderr[-4000:]}"
    path = result.stdout.strip().splitlines()[-1]
    assert os.access(path, os.X_OK), f"infra/helm.sh printed {path!r}, which is not an executable"
    return path


@pytest.fixture(scope="session")
def default_render(helm: str) -> Rendered:
    return Rendered("default", render_ok(helm))


@pytest.fixture(scope="session")
def production_render(helm: str) -> Rendered:
    return Rendered("production", render_ok(helm, PRODUCTION_VALUES))


@pytest.fixture(scope="session")
def everything_render(helm: str, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Trial values with every optional part switched on, so the policy tests see every pod."""
    values = tmp_path_factory.mktemp("values") / "everything.yaml"
    values.write_text(
        yaml.safe_dump(
            {
                "marketMaker": {"enabled": True, "existingSecret": "tessera-market-maker"},
                "evm": {"rpcUrl": "https://rpc.example.net"},
                "otel": {"endpoint": "http://otel-collector.observability:4318"},
                "metrics": {"serviceMonitor": {"enabled": True}},
                "networkPolicy": {
                    "metricsFrom": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
                    ],
                    "egress": {
                        "evmRpc": {
                            "to": [{"ipBlock": {"cidr": "203.0.113.10/32"}}],
                            "ports": [{"port": 443, "protocol": "TCP"}],
                        },
                        "otlp": {
                            "to": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {"kubernetes.io/metadata.name": "observability"}
                                    }
                                }
                            ],
                            "ports": [{"port": 4318, "protocol": "TCP"}],
                        },
                    },
                },
            }
        )
    )
    return Rendered("everything", render_ok(helm, values))


@pytest.fixture(params=["default", "production", "everything"])
def rendered(request: pytest.FixtureRequest) -> Rendered:
    result: Rendered = request.getfixturevalue(f"{request.param}_render")
    return result


@pytest.fixture
def write_values(tmp_path: Path) -> Iterator[Callable[[Any], Path]]:
    def write(values: Any) -> Path:
        path = tmp_path / f"values-{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(yaml.safe_dump(values))
        return path

    return write
