"""OpenTelemetry tracing and metrics for HTTP requests and asyncpg queries.

Traces are sampled at the tail, inside the process: spans of a trace wait until its local root ends, then the
whole trace is exported if any span failed, or else with probability `success_sample_ratio` (decided on the
trace id, so every replica that sees a trace decides alike). Exporting is over OTLP/HTTP when
`OTEL_EXPORTER_OTLP_ENDPOINT` is set; without it traces still exist, so logs and `traceparent` carry ids.
Without an exporter nothing reads spans, so only requests whose caller sends a sampled `traceparent` record
them (the rest still carry trace ids), and query spans (asyncpg) are not made at all: recording a span per
request and per query was a large share of the order endpoint's profile. Likewise, without a metric reader no
SDK meter provider is installed, so the instrumentation's histograms are no-ops instead of aggregating
values nobody collects (Prometheus metrics at `/metrics` are separate and always on).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import StatusCode

from server_fastapi.core.settings import TelemetrySettings

logger = logging.getLogger(__name__)

_RATIO_SCALE = 1 << 64


class ErrorKeepingTailSampler(SpanProcessor):
    """Buffers each trace's spans until its local root ends, then keeps errors and a fraction of the rest."""

    def __init__(
        self, downstream: SpanProcessor, success_ratio: float, max_pending_traces: int = 10_000
    ) -> None:
        self._downstream = downstream
        self._threshold = int(success_ratio * _RATIO_SCALE)
        self._pending: OrderedDict[int, list[ReadableSpan]] = OrderedDict()
        self._max_pending = max_pending_traces
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        context = span.get_span_context()
        if context is None:
            return
        with self._lock:
            spans = self._pending.setdefault(context.trace_id, [])
            spans.append(span)
            if span.parent is not None and not span.parent.is_remote:
                if len(self._pending) > self._max_pending:
                    self._pending.popitem(last=False)
                return
            del self._pending[context.trace_id]
        if self._keep(context.trace_id, spans):
            for finished in spans:
                self._downstream.on_end(finished)

    def _keep(self, trace_id: int, spans: list[ReadableSpan]) -> bool:
        if any(span.status.status_code is StatusCode.ERROR for span in spans):
            return True
        return (trace_id & (_RATIO_SCALE - 1)) < self._threshold

    def shutdown(self) -> None:
        self._downstream.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._downstream.force_flush(timeout_millis)


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider | None
    """None when no reader collects metrics: the API's no-op provider stays in place."""

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


_installed: Telemetry | None = None
_install_lock = threading.Lock()


def setup_telemetry(settings: TelemetrySettings, *, span_exporter: SpanExporter | None = None) -> Telemetry:
    """Install the process-wide providers once; later calls (more apps in one test process) reuse them."""
    global _installed
    with _install_lock:
        if _installed is not None:
            return _installed
        resource = Resource.create({"service.name": settings.service_name})
        readers: list[MetricReader] = []
        exporter = span_exporter
        if exporter is None and settings.otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
            logger.info("exporting telemetry over OTLP", extra={"endpoint": settings.otlp_endpoint})
        # Tail sampling needs every span recorded. With nowhere to send them, a request records spans only
        # when its caller asks (a sampled `traceparent`); the others still get ids, for logs and propagation.
        sampler = ALWAYS_ON if exporter is not None else ParentBased(root=ALWAYS_OFF)
        tracer_provider = TracerProvider(resource=resource, sampler=sampler)
        if exporter is not None:
            tracer_provider.add_span_processor(
                ErrorKeepingTailSampler(BatchSpanProcessor(exporter), settings.success_sample_ratio)
            )
            AsyncPGInstrumentor().instrument(  # type: ignore[no-untyped-call]
                tracer_provider=tracer_provider
            )
        meter_provider = MeterProvider(resource=resource, metric_readers=readers) if readers else None
        trace.set_tracer_provider(tracer_provider)
        if meter_provider is not None:
            metrics.set_meter_provider(meter_provider)
        _installed = Telemetry(tracer_provider, meter_provider)
        return _installed
