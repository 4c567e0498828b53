"""The Helm chart: it lints, renders, validates against Kubernetes' schemas and keeps its hardening rules."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    CHART,
    KUBE_VERSION,
    NAMESPACE,
    PRODUCTION_VALUES,
    RELEASE,
    ROOT,
    Manifest,
    Rendered,
    run_helm,
    template,
)
from kubernetes_validate import utils as kubernetes_validate

POD_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
# Custom resources that Kubernetes' own schemas do not describe; checked by hand below.
CUSTOM_KINDS = {"ServiceMonitor"}


def pod_specs(rendered: Rendered) -> Iterator[tuple[str, Manifest]]:
    for obj in rendered.objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in POD_OWNERS:
            yield name, obj["spec"]["template"]["spec"]
        elif obj["kind"] == "CronJob":
            yield name, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif obj["kind"] == "Pod":
            yield name, obj["spec"]


def containers(spec: Manifest) -> list[Manifest]:
    return [*spec.get("initContainers", []), *spec["containers"], *spec.get("ephemeralContainers", [])]


def pod_labels(rendered: Rendered) -> dict[str, dict[str, str]]:
    """Pod template labels by component."""
    labels = {}
    for obj in rendered.objects:
        if obj["kind"] in POD_OWNERS:
            template_labels = obj["spec"]["template"]["metadata"]["labels"]
            labels[template_labels["app.kubernetes.io/component"]] = template_labels
    return labels


def selects(selector: Manifest, labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector matches a set of labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def policies_for(rendered: Rendered, labels: dict[str, str]) -> list[Manifest]:
    return [p for p in rendered.of_kind("NetworkPolicy") if selects(p["spec"]["podSelector"], labels)]


# Rendering, lint, schemas ----------------------------------------------------------------------------------


def test_helm_is_installed_outside_the_checkout(helm: str) -> None:
    assert not Path(helm).resolve().is_relative_to(ROOT)
    result = run_helm(helm, "version", "--template", "{{.Version}}")
    assert result.stdout.startswith("v4."), result.stdout + result.stderr


def test_helm_lint_passes_for_default_and_production_values(helm: str) -> None:
    for args in ([], ["--values", str(PRODUCTION_VALUES)]):
        result = run_helm(helm, "lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION, *args)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 chart(s) failed" in result.stdout


def test_renders_the_expected_objects(default_render: Rendered, production_render: Rendered) -> None:
    kinds = {o["kind"] for o in default_render.objects}
    assert {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
        "Ingress",
        "StatefulSet",
        "NetworkPolicy",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
    } <= kinds
    components = set(pod_labels(default_render))
    assert components == {"api", "signer", "migrations", "postgresql", "redis"}, "no market-maker by default"
    # Production: external database and Redis, every secret supplied by the operator.
    assert set(pod_labels(production_render)) == {"api", "signer", "migrations"}
    assert production_render.of_kind("Secret") == []
    assert production_render.of_kind("StatefulSet") == []


def test_every_object_validates_against_the_kubernetes_schemas(rendered: Rendered) -> None:
    checked = 0
    for obj in rendered.objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {error.message} at {list(error.path)}")
        checked += 1
    assert checked >= 15


def test_service_monitor_scrapes_the_api_metrics(everything_render: Rendered) -> None:
    (monitor,) = everything_render.of_kind("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    api_service = everything_render.one("Service", f"{RELEASE}-api")
    assert monitor["spec"]["selector"]["matchLabels"] == api_service["spec"]["selector"]
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]


# Hardening of every pod ------------------------------------------------------------------------------------


def test_every_pod_and_container_is_hardened(rendered: Rendered) -> None:
    specs = list(pod_specs(rendered))
    assert specs
    for name, spec in specs:
        pod = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, name
        for host_namespace in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(host_namespace), f"{name}: {host_namespace}"
        assert all("hostPath" not in v for v in spec.get("volumes", [])), name
        for container in containers(spec):
            where = f"{name} container {container['name']}"
            own = container.get("securityContext", {})

            def effective(field: str, own: Manifest = own, pod: Manifest = pod) -> Any:
                return own.get(field, pod.get(field))

            assert effective("runAsNonRoot") is True, where
            assert effective("runAsUser") == 10001, where
            assert effective("seccompProfile") == {"type": "RuntimeDefault"}, where
            assert own.get("readOnlyRootFilesystem") is True, where
            assert own.get("allowPrivilegeEscalation") is False, where
            assert own.get("privileged", False) is False, where
            assert own.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not own.get("capabilities", {}).get("add"), where


def test_every_container_has_a_writable_tmp_on_an_empty_dir(rendered: Rendered) -> None:
    for name, spec in pod_specs(rendered):
        empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for container in containers(spec):
            tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]  # noqa: S108
            assert len(tmp) == 1, f"{name} {container['name']}"
            assert tmp[0]["name"] in empty_dirs, f"{name} {container['name']}"


def test_every_container_has_requests_and_limits(rendered: Rendered) -> None:
    for name, spec in pod_specs(rendered):
        for container in containers(spec):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{name} {container['name']} {kind}"


def test_secret_files_are_never_world_readable(rendered: Rendered) -> None:
    for name, spec in pod_specs(rendered):
        for volume in spec.get("volumes", []):
            source = volume.get("secret")
            if source is None:
                continue
            items = source.get("items", [])
            modes = [source.get("defaultMode", 0o644), *(i["mode"] for i in items if "mode" in i)]
            assert all(mode & 0o007 == 0 for mode in modes), f"{name} volume {volume['name']}: {modes}"


def test_images_are_pinned_by_digest_in_production(production_render: Rendered) -> None:
    for name, spec in pod_specs(production_render):
        for container in containers(spec):
            image = container["image"]
            assert re.fullmatch(r"[^@:]+(:[\w.-]+)?@sha256:[0-9a-f]{64}", image), (name, image)
    for name, spec in pod_specs(production_render):
        assert not any(c["image"].endswith(":latest") for c in containers(spec)), name


def test_images_use_the_app_version_tag_by_default(default_render: Rendered) -> None:
    api = default_render.one("Deployment", f"{RELEASE}-api")
    assert api["spec"]["template"]["spec"]["containers"][0]["image"] == "tessera-api:0.1.0"


# The API ---------------------------------------------------------------------------------------------------


def test_api_has_probes_autoscaling_and_a_disruption_budget(default_render: Rendered) -> None:
    api = default_render.one("Deployment", f"{RELEASE}-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "replicas" not in api["spec"], "the HPA owns the replica count"
    hpa = default_render.one("HorizontalPodAutoscaler", f"{RELEASE}-api")
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{RELEASE}-api"}
    assert hpa["spec"]["scaleTargetRef"] == target
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = default_render.one("PodDisruptionBudget", f"{RELEASE}-api")
    assert selects(pdb["spec"]["selector"], api["spec"]["template"]["metadata"]["labels"])
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"


def test_otlp_endpoint_and_sampling_come_from_values(production_render: Rendered) -> None:
    config = production_render.one("ConfigMap", f"{RELEASE}-config")["data"]
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"
    assert config["OTEL_TRACES_SUCCESS_SAMPLE_RATIO"] == "0.05"
    assert config["SIGNER_URL"] == f"https://{RELEASE}-signer:8443"


def test_the_ingress_network_is_trusted_for_forwarded_addresses(
    default_render: Rendered, production_render: Rendered
) -> None:
    """Without TRUSTED_PROXIES every trader would seem to come from the ingress controller."""
    production = production_render.one("ConfigMap", f"{RELEASE}-config")["data"]
    assert production["TRUSTED_PROXIES"] == "10.244.0.0/16"
    assert default_render.one("ConfigMap", f"{RELEASE}-config")["data"]["TRUSTED_PROXIES"] == ""


def test_migrations_run_as_a_hook_before_upgrades(
    default_render: Rendered,
    production_render: Rendered,
) -> None:
    production_job = production_render.one("Job", f"{RELEASE}-migrate")
    assert production_job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert production_job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    # A bundled database exists only after install, so the first run follows it.
    trial_job = default_render.one("Job", f"{RELEASE}-migrate")
    assert trial_job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,pre-upgrade"


def test_market_maker_talks_to_the_api_with_its_own_credentials(everything_render: Rendered) -> None:
    bot = everything_render.one("Deployment", f"{RELEASE}-market-maker")
    env = {e["name"]: e for e in bot["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["TESSERA_API_URL"]["value"] == f"http://{RELEASE}-api:80"
    for name in ("MARKET_MAKER_EMAIL", "MARKET_MAKER_PASSWORD"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "tessera-market-maker"
        assert "optional" not in env[name]["valueFrom"]["secretKeyRef"]
    # The taking account is optional: the same Secret may name one.
    for name in ("MARKET_MAKER_TAKER_EMAIL", "MARKET_MAKER_TAKER_PASSWORD"):
        reference = env[name]["valueFrom"]["secretKeyRef"]
        assert reference == {"name": "tessera-market-maker", "key": name, "optional": True}


# The signer ------------------------------------------------------------------------------------------------


def test_signer_mounts_keystore_and_token_from_secrets_read_only(rendered: Rendered) -> None:
    signer = rendered.one("Deployment", f"{RELEASE}-signer")
    spec = signer["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    for name in ("password", "token", "tls"):
        assert "secret" in volumes[name], name
        assert mounts[name]["readOnly"] is True, name
    # An init container copies the keystore Secret into a private in-memory directory, mounted read-only.
    assert "secret" in volumes["keystore-secret"]
    assert volumes["keystore"]["emptyDir"]["medium"] == "Memory"
    assert mounts["keystore"]["readOnly"] is True
    (copy,) = spec["initContainers"]
    read_only = {m["name"] for m in copy["volumeMounts"] if m.get("readOnly")}
    assert read_only == {"keystore-secret"}
    args = spec["containers"][0]["args"]
    assert args[0] == "serve"
    assert "--keystore-dir=/run/signer-keystore/keys" in args
    assert "--token-file=/etc/signer/token/token" in args
    assert signer["spec"]["replicas"] == 1


def test_signer_is_reachable_only_from_api_pods(rendered: Rendered) -> None:
    labels = pod_labels(rendered)
    signer_service = rendered.one("Service", f"{RELEASE}-signer")
    assert signer_service["spec"]["type"] == "ClusterIP"
    policies = policies_for(rendered, labels["signer"])
    assert any(p["spec"]["podSelector"] == {} for p in policies), "default deny must cover the signer"
    rules = [rule for p in policies for rule in p["spec"].get("ingress", [])]
    allowed_from = [peer for rule in rules for peer in rule.get("from", [])]
    assert allowed_from, "the API must be allowed in"
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), f"{policy['metadata']['name']} admits every source"
            for peer in rule["from"]:
                assert set(peer) == {"podSelector"}, peer
                assert selects(peer["podSelector"], labels["api"]), peer
                others = [c for c, pod in labels.items() if c != "api" and selects(peer["podSelector"], pod)]
                assert others == [], f"{others} may reach the signer"


# Network policies ------------------------------------------------------------------------------------------


def test_a_default_deny_policy_covers_the_namespace(rendered: Rendered) -> None:
    deny = [p for p in rendered.of_kind("NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert len(deny) == 1
    spec = deny[0]["spec"]
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert not spec.get("ingress")
    assert not spec.get("egress")


def test_every_allow_rule_names_its_peers(rendered: Rendered) -> None:
    for policy in rendered.of_kind("NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), f"{policy['metadata']['name']}: ingress from anywhere"
            assert rule.get("ports"), f"{policy['metadata']['name']}: ingress on every port"
        for rule in policy["spec"].get("egress", []):
            assert rule.get("to"), f"{policy['metadata']['name']}: egress to anywhere"
            assert rule.get("ports"), f"{policy['metadata']['name']}: egress on every port"


def _egress_ports(rendered: Rendered, component: str) -> set[int]:
    labels = pod_labels(rendered)[component]
    return {
        port["port"]
        for p in policies_for(rendered, labels)
        for rule in p["spec"].get("egress", [])
        for port in rule["ports"]
    }


def _ingress_sources(rendered: Rendered, component: str) -> set[str]:
    """Components (or "outside") admitted to a component's pods."""
    labels = pod_labels(rendered)
    sources = set()
    for policy in policies_for(rendered, labels[component]):
        for rule in policy["spec"].get("ingress", []):
            for peer in rule["from"]:
                if set(peer) == {"podSelector"}:
                    sources |= {c for c, pod in labels.items() if selects(peer["podSelector"], pod)}
                else:
                    sources.add("outside")
    return sources


def test_only_the_listed_flows_are_allowed(everything_render: Rendered, production_render: Rendered) -> None:
    r = everything_render
    assert _ingress_sources(r, "api") == {"outside", "market-maker"}
    assert _ingress_sources(r, "signer") == {"api"}
    assert _ingress_sources(r, "postgresql") == {"api", "migrations"}
    assert _ingress_sources(r, "redis") == {"api"}
    assert _ingress_sources(r, "migrations") == set()
    assert _ingress_sources(r, "market-maker") == set()
    # DNS, signer, database, Redis, EVM RPC (443), OTLP (4318).
    assert _egress_ports(r, "api") == {53, 8443, 5432, 6379, 443, 4318}
    assert _egress_ports(r, "signer") == set()
    assert _egress_ports(r, "postgresql") == set()
    assert _egress_ports(r, "redis") == set()
    assert _egress_ports(r, "migrations") == {53, 5432}
    assert _egress_ports(r, "market-maker") == {53, 8000, 4318}
    assert _egress_ports(production_render, "api") == {53, 8443, 5432, 6380, 443, 4318}


def test_egress_to_external_endpoints_must_be_declared(helm: str, write_values: Any) -> None:

    cases = {
        "evmRpc": {"evm": {"rpcUrl": "https://rpc.example.net"}},
        "otlp": {"otel": {"endpoint": "http://collector:4318"}},
        "database": {"postgresql": {"enabled": False}, "externalDatabase": {"existingSecret": "db"}},
    }
    for name, values in cases.items():
        result = template(helm, write_values(values))
        assert result.returncode != 0, name
        assert f"networkPolicy.egress.{name}.to" in result.stderr


# Ingress ---------------------------------------------------------------------------------------------------


def test_only_the_api_service_is_an_ingress_backend(rendered: Rendered) -> None:
    (ingress,) = rendered.of_kind("Ingress")
    backends = [path["backend"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    if "defaultBackend" in ingress["spec"]:
        backends.append(ingress["spec"]["defaultBackend"])
    assert backends
    assert all(b["service"]["name"] == f"{RELEASE}-api" for b in backends)
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    for service in rendered.of_kind("Service"):
        assert service["spec"]["type"] == "ClusterIP", service["metadata"]["name"]


# Secrets ---------------------------------------------------------------------------------------------------


def _secret_values(rendered: Rendered) -> list[str]:
    values = []
    for secret in rendered.of_kind("Secret"):
        values += [base64.b64decode(v).decode() for v in (secret.get("data") or {}).values()]
        values += list((secret.get("stringData") or {}).values())
    return values


def test_no_secret_value_appears_in_a_config_map(rendered: Rendered) -> None:
    secrets = [v for v in _secret_values(rendered) if len(v) >= 8]
    if rendered.name == "default":
        assert len(secrets) >= 6, "the trial generates its secrets"
    for config_map in rendered.of_kind("ConfigMap"):
        for key, value in (config_map.get("data") or {}).items():
            assert not any(secret in value for secret in secrets), key
            assert not re.search(r"PASSWORD|SECRET_KEY|DATABASE_URL|REDIS_URL|TOKEN$", key), key


def test_no_secret_value_is_a_literal_env_value(rendered: Rendered) -> None:
    secrets = [v for v in _secret_values(rendered) if len(v) >= 8]
    for name, spec in pod_specs(rendered):
        for container in containers(spec):
            for env in container.get("env", []):
                secret_name = re.search(r"PASSWORD|SECRET|TOKEN$|DATABASE_URL|REDIS_URL|AUTH", env["name"])
                if secret_name and not env["name"].endswith(("_FILE", "_DIR")):
                    assert "valueFrom" in env, f"{name}: {env['name']} must come from a Secret"
                assert not any(secret in env.get("value", "") for secret in secrets), f"{name}: {env['name']}"


def test_generated_secrets_are_hooks_created_before_the_migrations(default_render: Rendered) -> None:
    for secret in default_render.of_kind("Secret"):
        annotations = secret["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade", secret["metadata"]["name"]
        assert int(annotations["helm.sh/hook-weight"]) < 0


def _walk(values: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(values, dict):
        for key, value in values.items():
            yield from _walk(value, f"{path}.{key}" if path else key)
    elif isinstance(values, list):
        for index, value in enumerate(values):
            yield from _walk(value, f"{path}[{index}]")
    else:
        yield path, values


def test_values_defaults_hold_no_secret() -> None:
    import yaml

    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    for path, value in _walk(defaults):
        leaf = path.rsplit(".", 1)[-1]
        references = {"key", "name", "existingSecret", "secretName"}
        if re.search(r"(?i)password|secret|token|private", path) and leaf not in references:
            assert value in ("", None), f"{path} has a default: a secret must be referenced, not given"
        if leaf == "existingSecret":
            assert value == "", path


def test_required_references_fail_with_a_clear_message(helm: str, write_values: Any) -> None:
    no_policies = {"enabled": False}
    cases = {
        "marketMaker.existingSecret": {"marketMaker": {"enabled": True}},
        "externalDatabase.existingSecret": {"postgresql": {"enabled": False}, "networkPolicy": no_policies},
        "externalRedis.existingSecret": {"redis": {"enabled": False}, "networkPolicy": no_policies},
    }
    for name, values in cases.items():
        result = template(helm, write_values(values))
        assert result.returncode != 0, name
        assert f"{name} is required" in result.stderr


# NOTES.txt -------------------------------------------------------------------------------------------------


def _notes(helm: str, *args: str) -> str:
    result = run_helm(
        helm, "install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client", *args
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split("NOTES:", 1)[1]


def test_notes_say_how_to_reach_the_app(helm: str) -> None:
    notes = _notes(helm)
    assert "https://tessera.example.com/" in notes
    assert "create secret generic tessera-signer-keystore" in notes
    assert "bundled PostgreSQL + TimescaleDB and Redis" in notes
    notes = _notes(helm, "--set", "ingress.enabled=false")
    assert "port-forward svc/tessera-api 8000:80" in notes
    notes = _notes(helm, "--values", str(PRODUCTION_VALUES))
    assert "https://trade.example.com/" in notes
    assert "bundled" not in notes
