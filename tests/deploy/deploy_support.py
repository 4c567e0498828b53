"""Helpers of the deployment tests: paths, `helm` invocations, rendered manifests."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "tessera"
PRODUCTION_VALUES = ROOT / "helm" / "examples" / "values-production.yaml"
KUBE_VERSION = "1.37.0"
RELEASE = "tessera"
NAMESPACE = "tessera"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """The objects `helm template` produced for one set of values."""

    name: str
    objects: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str) -> Manifest:
        matches = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
        return matches[0]


# Helm's own state, apart from the user's: no repositories or plugins of theirs change what the tests see.
HELM_HOME = Path.home() / ".cache" / "tessera" / "helm-home"


def run_helm(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(HELM_HOME / "cache"),
        "HELM_CONFIG_HOME": str(HELM_HOME / "config"),
        "HELM_DATA_HOME": str(HELM_HOME / "data"),
    }
    return subprocess.run(
        [helm, *args], capture_output=True, text=True, check=False, timeout=300, cwd=ROOT, env=env
    )


def template(helm: str, *values_files: Path, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
    for values in values_files:
        args += ["--values", str(values)]
    return run_helm(helm, *args, *extra)


def parse(stdout: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(stdout) if doc]


def render_ok(helm: str, *values_files: Path, extra: tuple[str, ...] = ()) -> list[Manifest]:
    result = template(helm, *values_files, extra=extra)
    assert result.returncode == 0, result.stderr
    return parse(result.stdout)
