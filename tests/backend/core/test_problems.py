"""Every error is RFC 9457 problem+json; a 500 shows nothing from inside."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field, field_validator

from server_fastapi.core.problems import PROBLEM_MEDIA_TYPE

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "request_id"}


class Widget(BaseModel):
    name: str = Field(min_length=1)
    sizes: list[int]
    colour: str = "red"

    @field_validator("colour")
    @classmethod
    def _known_colour(cls, value: str) -> str:
        if value not in ("red", "blue"):
            raise ValueError("choose red or blue")
        return value


@pytest.fixture
def probe_routes(app: FastAPI) -> None:
    @app.post("/probe/widgets", tags=["probe"])
    async def create_widget(widget: Widget) -> Widget:
        return widget

    @app.get("/probe/crash", tags=["probe"])
    async def crash() -> None:
        raise RuntimeError("SELECT secret FROM users WHERE password = 'hunter2'")


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, object] = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/thing"), 404)
    assert body["instance"] == "/no/such/thing"
    assert body["type"] == "urn:tessera:problem:not-found"


async def test_wrong_method_is_a_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.post("/healthz")
    body = assert_problem(response, 405)
    assert "GET" in response.headers["allow"]
    assert body["title"] == "Method Not Allowed"


@pytest.mark.usefixtures("probe_routes")
async def test_validation_error_lists_every_field_with_its_pointer(client: httpx.AsyncClient) -> None:
    response = await client.post("/probe/widgets", json={"name": "", "sizes": [1, "big", 3]})
    body = assert_problem(response, 422)
    errors = body["errors"]
    assert isinstance(errors, list)
    pointers = {(error["location"], error["pointer"]) for error in errors}
    assert pointers == {("body", "/name"), ("body", "/sizes/1")}
    assert all(error["detail"] and error["code"] for error in errors)


@pytest.mark.usefixtures("probe_routes")
async def test_a_validators_message_reaches_the_field_error_as_written(client: httpx.AsyncClient) -> None:
    response = await client.post("/probe/widgets", json={"name": "w", "sizes": [], "colour": "green"})
    errors = assert_problem(response, 422)["errors"]
    assert errors == [
        {"location": "body", "pointer": "/colour", "detail": "choose red or blue", "code": "value_error"}
    ]


@pytest.mark.usefixtures("probe_routes")
async def test_malformed_json_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/widgets", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


@pytest.mark.usefixtures("probe_routes")
async def test_unhandled_exception_is_a_500_problem_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/crash")
    body = assert_problem(response, 500)
    text = response.text
    assert "Traceback" not in text
    assert "SELECT" not in text
    assert "hunter2" not in text
    assert "RuntimeError" not in text
    assert body["type"] == "urn:tessera:problem:internal"


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/healthz"), await client.get("/missing")):
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "camera=()" in response.headers["permissions-policy"]
        assert "max-age" in response.headers["strict-transport-security"]


async def test_incoming_traceparent_is_honoured(client: httpx.AsyncClient) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await client.get(
        "/no/such/route", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    )
    assert response.status_code == 404
    server_spans = [span for span in exporter.get_finished_spans() if span.parent is not None]
    assert server_spans, "the request produced no span"
    assert {format(span.context.trace_id, "032x") for span in server_spans} == {trace_id}
    exporter.clear()
