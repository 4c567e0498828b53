"""RFC 9457 problem details: one error base class, one renderer, and the handlers that route every
failure (ours, FastAPI's validation, Starlette's 404/405, the database being down, anything unexpected)
through it. An expected outcome never becomes a 500, and a 500 never shows a traceback or SQL."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from server_fastapi.core.context import current_request_id
from server_fastapi.core.json_pointer import json_pointer

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:tessera:problem:"


class FieldError(BaseModel):
    """One invalid input: where it is (JSON Pointer into the part of the request) and what is wrong."""

    location: str = Field(description="body, query, path, header or cookie")
    pointer: str = Field(description="RFC 6901 JSON Pointer inside that location, e.g. /items/0/price")
    detail: str
    code: str = Field(description="machine-readable reason, e.g. missing, decimal_parsing, off_tick")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    errors: list[FieldError] | None = None


class TesseraError(Exception):
    """Base of every expected failure; subclasses fix the status, problem type and title."""

    status: ClassVar[int] = HTTPStatus.INTERNAL_SERVER_ERROR
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extensions = extensions


class BadRequest(TesseraError):
    status, slug, title = HTTPStatus.BAD_REQUEST, "bad-request", "Bad Request"


class Unauthorized(TesseraError):
    status, slug, title = HTTPStatus.UNAUTHORIZED, "unauthorized", "Unauthorized"


class Forbidden(TesseraError):
    status, slug, title = HTTPStatus.FORBIDDEN, "forbidden", "Forbidden"


class NotFound(TesseraError):
    status, slug, title = HTTPStatus.NOT_FOUND, "not-found", "Not Found"


class Conflict(TesseraError):
    status, slug, title = HTTPStatus.CONFLICT, "conflict", "Conflict"


class InvalidInput(TesseraError):
    """Input that is well-formed but breaks a rule (off-grid price, unknown code): 422 with field errors."""

    status, slug, title = HTTPStatus.UNPROCESSABLE_ENTITY, "validation", "Invalid Input"


class TooManyRequests(TesseraError):
    status, slug, title = HTTPStatus.TOO_MANY_REQUESTS, "rate-limited", "Too Many Requests"


class ServiceUnavailable(TesseraError):
    status, slug, title = HTTPStatus.SERVICE_UNAVAILABLE, "unavailable", "Service Unavailable"


def problem_response(
    request_path: str,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request_path,
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = [error.model_dump() for error in errors]
    if extensions:
        body.update({key: value for key, value in extensions.items() if key not in body})
    return Response(
        orjson.dumps(body, default=str), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def error_responses(*errors: type[TesseraError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route, so generated clients know its problem shapes."""
    described: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        described[int(error.status)] = {
            "model": Problem,
            "description": error.title,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return described


def _validation_field_errors(error: RequestValidationError) -> list[FieldError]:
    field_errors = []
    for item in error.errors():
        location, *path = item.get("loc", ("body",))
        field_errors.append(
            FieldError(
                location=str(location),
                pointer=json_pointer(path),
                detail=_validation_detail(item),
                code=str(item.get("type", "invalid")),
            )
        )
    return field_errors


def _validation_detail(item: Mapping[str, Any]) -> str:
    # Pydantic prefixes a validator's own message with "Value error, "; the message alone is what people read.
    context = item.get("ctx") or {}
    if item.get("type") == "value_error" and "error" in context:
        return str(context["error"])
    return str(item.get("msg", "invalid value"))


async def _tessera_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TesseraError)
    return problem_response(
        request.url.path,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_field_errors(exc)
    return problem_response(
        request.url.path,
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
        slug="validation",
        title="Invalid Input",
        detail=f"The request has {len(errors)} invalid field{'s' if len(errors) != 1 else ''}.",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = HTTPStatus(exc.status_code)
    if status == HTTPStatus.NOT_FOUND and exc.detail == status.phrase:
        detail = f"Nothing is at {request.method} {request.url.path}."
    elif status == HTTPStatus.METHOD_NOT_ALLOWED:
        detail = f"{request.method} is not allowed on {request.url.path}."
    else:
        detail = str(exc.detail)
    slug = status.phrase.lower().replace(" ", "-").replace("'", "")
    return problem_response(
        request.url.path, status=status, slug=slug, title=status.phrase, detail=detail, headers=exc.headers
    )


async def _dependency_unavailable(request: Request, exc: Exception) -> Response:
    what = "Redis" if isinstance(exc, RedisConnectionError | RedisTimeoutError) else "The database"
    logger.warning("dependency unavailable", extra={"error_type": type(exc).__name__})
    return problem_response(
        request.url.path,
        status=HTTPStatus.SERVICE_UNAVAILABLE,
        slug="unavailable",
        title="Service Unavailable",
        detail=f"{what} is unavailable; try again shortly.",
        headers={"Retry-After": "5"},
    )


def internal_error_response(request_path: str) -> Response:
    """The body of every unexpected failure: the request id to quote, nothing from inside."""
    return problem_response(
        request_path,
        status=HTTPStatus.INTERNAL_SERVER_ERROR,
        slug="internal",
        title="Internal Server Error",
        detail="Something went wrong on our side. Quote the request id when you report it.",
    )


DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    ConnectionRefusedError,
    ConnectionResetError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    RedisConnectionError,
    RedisTimeoutError,
)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TesseraError, _tessera_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error_type in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error_type, _dependency_unavailable)
