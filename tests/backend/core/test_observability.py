"""Tail sampling keeps every error trace and a fraction of the rest; logs are JSON with trace ids and no
secrets; `/metrics` counts requests by route."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from server_fastapi.core.logging import JsonFormatter
from server_fastapi.core.telemetry import ErrorKeepingTailSampler


def traced(ratio: float) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(ErrorKeepingTailSampler(SimpleSpanProcessor(exporter), ratio))
    return provider, exporter


def test_error_traces_are_always_kept_and_successes_follow_the_ratio() -> None:
    provider, exporter = traced(0.0)
    tracer = provider.get_tracer("test")
    for _ in range(50):
        with tracer.start_as_current_span("ok-request"), tracer.start_as_current_span("query"):
            pass
    with tracer.start_as_current_span("failing-request"), tracer.start_as_current_span("query") as child:
        child.set_status(Status(StatusCode.ERROR))
    names = [span.name for span in exporter.get_finished_spans()]
    assert names == ["query", "failing-request"], "the whole error trace, and nothing else"

    provider, exporter = traced(1.0)
    tracer = provider.get_tracer("test")
    for _ in range(10):
        with tracer.start_as_current_span("ok-request"):
            pass
    assert len(exporter.get_finished_spans()) == 10

    provider, exporter = traced(0.25)
    tracer = provider.get_tracer("test")
    for _ in range(2000):
        with tracer.start_as_current_span("ok-request"):
            pass
    assert 350 < len(exporter.get_finished_spans()) < 650


def test_json_logs_carry_trace_id_and_redact_secrets() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tessera.test.redaction")
    log.addHandler(handler)
    log.propagate = False
    provider, _ = traced(1.0)
    with provider.get_tracer("test").start_as_current_span("request") as span:
        log.warning(
            "login with Authorization: Bearer abc.def.ghi to postgresql://u:s3cret@db/x",
            extra={"password": "hunter2", "user": "ada", "headers": {"cookie": "session=xyz"}},
        )
        trace_id = format(span.get_span_context().trace_id, "032x")
    entry = json.loads(stream.getvalue())
    assert entry["trace_id"] == trace_id
    assert entry["user"] == "ada"
    text = stream.getvalue()
    for secret in ("hunter2", "abc.def.ghi", "s3cret", "session=xyz"):
        assert secret not in text


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.get("/healthz")
    await client.get("/missing/route")
    text = (await client.get("/metrics")).text
    assert 'tessera_http_requests_total{method="GET",route="/healthz",status="200"} 3.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "tessera_http_request_duration_seconds_bucket" in text


_QUERY_SPANS_SCRIPT = """
import asyncio, sys
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from server_fastapi.core.db import connect
from server_fastapi.core.settings import TelemetrySettings
from server_fastapi.core.telemetry import setup_telemetry

exporter = InMemorySpanExporter() if sys.argv[2] == "exporting" else None
telemetry = setup_telemetry(TelemetrySettings(), span_exporter=exporter)

async def main():
    conn = await connect(sys.argv[1])
    await conn.fetchval("SELECT 41 + 1")
    await conn.close()

asyncio.run(main())
telemetry.tracer_provider.force_flush()
spans = exporter.get_finished_spans() if exporter else []
queries = sum("41 + 1" in str(span.attributes) for span in spans)
root = telemetry.tracer_provider.get_tracer("test").start_span("request")
instrumented = AsyncPGInstrumentor().is_instrumented_by_opentelemetry
print(root.get_span_context().is_valid, root.is_recording(), instrumented, queries)
"""


def test_spans_are_recorded_only_when_spans_are_exported(database_url: str) -> None:
    """Without an exporter nothing reads spans: a request's span is not recorded (it still has a trace id for
    logs and propagation; a caller's sampled `traceparent` is honoured, see test_problems) and queries make
    none. With one, every span is recorded for the tail sampler, each query included. The providers are
    process-wide, hence a process per case."""
    outcomes = {}
    for mode in ("exporting", "not-exporting"):
        run = subprocess.run(
            [sys.executable, "-c", _QUERY_SPANS_SCRIPT, database_url, mode],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "", "OTEL_TRACES_SUCCESS_SAMPLE_RATIO": "1"},
            check=True,
        )
        outcomes[mode] = run.stdout.split()[-4:]
    # (root span has a trace id, it is recorded, asyncpg instrumented, query spans)
    assert outcomes == {
        "exporting": ["True", "True", "True", "1"],
        "not-exporting": ["True", "False", "False", "0"],
    }


_METER_SCRIPT = """
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from server_fastapi.core.settings import TelemetrySettings
from server_fastapi.core.telemetry import setup_telemetry

telemetry = setup_telemetry(TelemetrySettings())
histogram = metrics.get_meter("test").create_histogram("probe")
histogram.record(1.0)
print(isinstance(metrics.get_meter_provider(), MeterProvider), telemetry.meter_provider is not None)
telemetry.shutdown()
"""


def test_metrics_are_aggregated_only_when_a_reader_exports_them() -> None:
    """With an OTLP endpoint, an SDK meter provider aggregates the instrumentation's metrics for export;
    without one nothing would collect them, so none is installed and instruments are the API's no-ops. A
    process per case (the providers are process-wide); the endpoint is a closed loopback port."""
    outcomes = {}
    for endpoint in ("http://127.0.0.1:9", ""):
        run = subprocess.run(
            [sys.executable, "-c", _METER_SCRIPT],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_TIMEOUT": "1"},
            check=True,
        )
        outcomes[endpoint or "none"] = run.stdout.split()[-2:]
    assert outcomes == {"http://127.0.0.1:9": ["True", "True"], "none": ["False", "False"]}
