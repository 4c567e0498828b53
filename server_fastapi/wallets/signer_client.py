"""Async client of Tessera's Rust signer (`signer serve`, see `signer/README.md`).

The signer holds the hot-wallet keys and its own signing policy; this client only asks. It speaks HTTP over
the signer's Unix socket (`SIGNER_URL=unix:///path/signer.sock`) or over TLS (`https://host:port`, the
certificate verified with `SIGNER_CA_FILE`), with the bearer token read from `SIGNER_TOKEN_FILE`. Every
quantity crosses as a decimal string built from an `int`, never a float.

One transport per scheme. On the Unix socket (the default, and the hot path of withdrawals) the client writes
HTTP/1.1 itself on asyncio streams, keeping a small pool of keep-alive connections: the signer's answers are
small and fixed-length, and httpx spent more Python per call than the signer spends signing (the benchmark
reached 4.3x eth-account's throughput through httpx, against a target of 5x). Over TCP, TLS stays on httpx:
certificate verification, SNI and ALPN are not worth writing again for a deployment option.

Failures are `TesseraError`s, so a route that lets one through renders the right problem:

- `SignerUnavailable` (503, a `ServiceUnavailable`): socket missing, connection refused or dropped,
  timeout, or the signer itself answering 502/503/504.
- `SigningRefused` (403): the signer's policy refused; `rule` is the signer's (`chain_id_not_allowed`,
  `destination_denied`, `max_value_exceeded`, `daily_limit_exceeded`, `no_policy`).
- `SignerMisconfigured` (500): token file unreadable or empty, token refused (`SignerTokenRejected`),
  unknown key id, the signer's TLS certificate not trusted.
- `SignerError` (500, the base of the two above): the signer called our request invalid, or answered
  something unexpected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import select
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Literal, Protocol, Self, TypeVar

import httpx
import orjson
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from server_fastapi.core.context import current_request_id
from server_fastapi.core.problems import ServiceUnavailable, TesseraError
from server_fastapi.core.settings import SignerSettings
from server_fastapi.wallets.evm import (
    AccessListEntry,
    Eip1559Fees,
    LegacyFees,
    TransactionRequest,
    TransactionType,
)

__all__ = [
    "AccessListEntry",
    "Eip1559Fees",
    "LegacyFees",
    "SignedTransaction",
    "SignerClient",
    "SignerError",
    "SignerHealth",
    "SignerKey",
    "SignerMisconfigured",
    "SignerTokenRejected",
    "SignerUnavailable",
    "SigningRefused",
    "TransactionRequest",
    "TransactionType",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 5.0
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # it goes into a header: visible ASCII only
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_M = TypeVar("_M", bound=BaseModel)


# --- errors -----------------------------------------------------------------------------------------------


class SignerUnavailable(ServiceUnavailable):
    """The signer could not be reached or did not answer in time; retrying later may work."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "5"})


class SigningRefused(TesseraError):
    """The signer's policy refused to sign; `rule` names the rule, as the signer reported it.

    403, like the signer's own answer: the request is well-formed (422 is for invalid input only) but the
    hot wallet's policy forbids it, and asking again will not change that until the policy or the rolling
    daily total does.
    """

    status, slug, title = HTTPStatus.FORBIDDEN, "signing-refused", "Signing Refused"

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail, rule=rule)
        self.rule = rule


class SignerError(TesseraError):
    """The signer integration broke in a way no caller can fix: a bug or a misconfiguration on our side."""

    slug, title = "signer-error", "Signer Error"


class SignerMisconfigured(SignerError):
    """Tessera and the signer disagree about how they are set up (token, key ids, TLS trust)."""

    slug, title = "signer-misconfigured", "Signer Misconfigured"


class SignerTokenRejected(SignerMisconfigured):
    """The signer answered 401: the token in `SIGNER_TOKEN_FILE` is not the one it was started with."""


# --- wire models ------------------------------------------------------------------------------------------

_WireAddress = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
_WireHex = Annotated[str, Field(pattern=r"^0x(?:[0-9a-fA-F]{2})+$")]
_WireHash = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]


class _Answer(BaseModel):
    # What the signer answers is checked for shape only: it already writes addresses in EIP-55 form, and
    # re-deriving checksums here would cost more than the signature.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class SignerKey(_Answer):
    id: str
    address: _WireAddress


class SignedTransaction(_Answer):
    raw_transaction: _WireHex = Field(description="EIP-2718 bytes for eth_sendRawTransaction, 0x-hex")
    tx_hash: _WireHash
    from_address: _WireAddress = Field(validation_alias=AliasChoices("from", "from_address"))


class SignerHealth(_Answer):
    status: str
    keys: int


def sign_request_body(tx: TransactionRequest) -> dict[str, Any]:
    """The signer's JSON for `tx`: every quantity a decimal string of an int."""
    body: dict[str, Any] = {
        "type": tx.type.value,
        "chain_id": str(tx.chain_id),
        "nonce": str(tx.nonce),
        "to": tx.to,
        "value": str(tx.value),
        "gas_limit": str(tx.gas_limit),
        "data": tx.data,
    }
    if isinstance(tx.fees, Eip1559Fees):
        body["max_fee_per_gas"] = str(tx.fees.max_fee_per_gas)
        body["max_priority_fee_per_gas"] = str(tx.fees.max_priority_fee_per_gas)
        if tx.access_list:
            body["access_list"] = [
                {"address": entry.address, "storage_keys": list(entry.storage_keys)}
                for entry in tx.access_list
            ]
    else:
        body["gas_price"] = str(tx.fees.gas_price)
    return body


# --- transports -------------------------------------------------------------------------------------------

# The signer (hyper) closes a connection on which no request header arrives within 10 s, idle keep-alive
# connections included; dropping ours well before that keeps the client from racing that close.
_IDLE_LIMIT_SECONDS = 5.0
_MAX_HEAD_BYTES = 16 * 1024
_MAX_BODY_BYTES = 1024 * 1024
_CONTENT_LENGTH = re.compile(r"[0-9]{1,9}")
_CHUNK_SIZE = re.compile(rb"([0-9a-fA-F]{1,8})(?:;[^\r\n]*)?\r\n")
_NO_BODY = frozenset({HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED})

_FailureKind = Literal["timeout", "unreachable", "broken", "untrusted"]


@dataclass(frozen=True, slots=True)
class _HttpAnswer:
    status: int
    reason: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes


class _TransportFailure(Exception):
    """No HTTP answer came back: `kind` says why, `detail` what the operating system or TLS said."""

    def __init__(self, kind: _FailureKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind: _FailureKind = kind
        self.detail = detail


class _MalformedAnswer(ValueError):
    """Bytes on the socket that are not an HTTP/1.x answer."""


class _Transport(Protocol):
    async def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> _HttpAnswer: ...

    async def aclose(self) -> None: ...


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self, now: float) -> bool:
        """Whether this idle connection can carry the next request.

        An idle HTTP/1.1 connection has nothing to read, so a readable one was closed by the signer
        (restarted, or its idle timeout) or holds bytes nobody asked for. It is dropped here, before a request
        goes out, because a request that was sent is never sent again (a second signature would count again
        towards the daily limit). The socket is polled directly: the event loop may not have seen the close.
        """
        if now - self.idle_since > _IDLE_LIMIT_SECONDS or self.writer.is_closing() or self.reader.at_eof():
            return False
        poller = select.poll()  # not select.select: an API process may hold more than 1024 descriptors
        poller.register(self.writer.get_extra_info("socket").fileno(), select.POLLIN)
        return not poller.poll(0)

    def close(self) -> None:
        self.writer.close()


class _UnixSocketTransport:
    """HTTP/1.1 on the signer's Unix socket, over up to `max_connections` keep-alive connections.

    A connection carries one request at a time; callers beyond `max_connections` wait for one, within the same
    timeout. A connection returns to the pool only after a complete answer that leaves it open, so a request
    that timed out or was cancelled can never leave its late answer for the next caller to read.
    """

    def __init__(self, socket_path: str, *, timeout: float, max_connections: int) -> None:
        self._socket_path = socket_path
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []
        self._closed = False

    async def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> _HttpAnswer:
        message = _encode_request(method, path, headers, body)
        try:
            async with asyncio.timeout(self._timeout), self._slots:
                return await self._exchange(message)
        except TimeoutError as error:
            raise _TransportFailure("timeout", f"no answer within {self._timeout:g} s") from error

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        for connection in idle:
            with contextlib.suppress(OSError):  # the signer closed it first: closed either way
                await connection.writer.wait_closed()

    async def _exchange(self, message: bytes) -> _HttpAnswer:
        connection = self._checkout()
        if connection is None:
            try:
                reader, writer = await asyncio.open_unix_connection(self._socket_path, limit=_MAX_HEAD_BYTES)
            except OSError as error:
                raise _TransportFailure("unreachable", str(error)) from error
            connection = _Connection(reader, writer)
        reusable = False
        try:
            answer, reusable = await _send_and_receive(connection.reader, connection.writer, message)
        except (OSError, EOFError, asyncio.LimitOverrunError, _MalformedAnswer) as error:
            raise _TransportFailure("broken", str(error) or type(error).__name__) from error
        finally:
            if reusable and not self._closed:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()
        return answer

    def _checkout(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: the oldest expire at the bottom
            if connection.usable(now):
                return connection
            connection.close()
        return None


def _encode_request(method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: signer",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return "\r\n".join(lines).encode("ascii") + b"\r\n\r\n" + (body or b"")


async def _send_and_receive(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: bytes
) -> tuple[_HttpAnswer, bool]:
    """Sends one request and reads its answer; the flag says whether the connection can carry another."""
    writer.write(message)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    code, _, reason = rest.partition(" ")
    if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isascii() or not code.isdigit():
        raise _MalformedAnswer(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    status = int(code)
    if status < HTTPStatus.OK:
        raise _MalformedAnswer(f"an informational answer ({status}) to a request that did not ask for one")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise _MalformedAnswer(f"not a header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    reusable = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in _NO_BODY:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(_content_length(headers["content-length"]))
    else:  # the end of the connection ends the body
        body = await _read_to_end(reader)
        reusable = False
    return _HttpAnswer(status, reason, headers, body), reusable


def _content_length(value: str) -> int:
    if _CONTENT_LENGTH.fullmatch(value) is None or int(value) > _MAX_BODY_BYTES:
        raise _MalformedAnswer(f"content-length {value[:20]!r} is not a length of at most {_MAX_BODY_BYTES}")
    return int(value)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = _CHUNK_SIZE.fullmatch(size_line)
        if size is None:
            raise _MalformedAnswer(f"not a chunk size line: {size_line[:40]!r}")
        length = int(size[1], 16)
        if length == 0:
            break
        if len(body) + length > _MAX_BODY_BYTES:
            raise _MalformedAnswer(f"the answer is larger than {_MAX_BODY_BYTES} bytes")
        body += await reader.readexactly(length)
        if await reader.readexactly(2) != b"\r\n":
            raise _MalformedAnswer("a chunk does not end with CRLF")
    while await reader.readuntil(b"\r\n") != b"\r\n":
        pass  # trailer fields: none is used
    return bytes(body)


async def _read_to_end(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while chunk := await reader.read(64 * 1024):
        body += chunk
        if len(body) > _MAX_BODY_BYTES:
            raise _MalformedAnswer(f"the answer is larger than {_MAX_BODY_BYTES} bytes")
    return bytes(body)


class _HttpsTransport:
    """httpx over TLS, the signer's certificate verified against `ca_file` (else the system's roots)."""

    def __init__(self, base_url: str, *, ca_file: Path | None, timeout: float, max_connections: int) -> None:
        try:
            verify = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ssl.SSLError) as error:
            raise ValueError(f"SIGNER_CA_FILE {ca_file} is not a readable PEM CA bundle: {error}") from error
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        # One retry, and only for connections that never opened: a request that reached the signer is never
        # repeated by the transport (a second signature would count again towards the daily limit).
        self._http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(verify=verify, retries=1, limits=limits),
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
        )

    async def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> _HttpAnswer:
        try:
            response = await self._http.request(method, path, content=body, headers=headers)
        except httpx.TimeoutException as error:
            raise _TransportFailure("timeout", str(error)) from error
        except httpx.ConnectError as error:
            raise _TransportFailure(
                "untrusted" if _tls_not_trusted(error) else "unreachable", str(error)
            ) from error
        except httpx.TransportError as error:
            raise _TransportFailure("broken", str(error)) from error
        return _HttpAnswer(response.status_code, response.reason_phrase, response.headers, response.content)

    async def aclose(self) -> None:
        await self._http.aclose()


# --- the client -------------------------------------------------------------------------------------------


class SignerClient:
    """Connections to the signer, kept alive and pooled; create it in the lifespan and close it there.

    The token is read from its file on first use and kept; after a 401 it is read again on the next call, so
    a rotated token is picked up without a restart. `max_connections` bounds the requests in flight; the
    signer signs on one thread per core, so a few more than its cores keep it busy.
    """

    def __init__(
        self,
        url: str,
        token_file: Path,
        *,
        ca_file: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_connections: int = 32,
    ) -> None:
        self._url = url
        self._token_file = token_file
        self._token: SecretStr | None = None
        self._timeout = timeout
        self._transport: _Transport
        if url.startswith("unix://"):
            socket_path = url.removeprefix("unix://")
            if not socket_path.startswith("/"):
                raise ValueError("SIGNER_URL unix:// needs an absolute path: unix:///run/signer/signer.sock")
            self._transport = _UnixSocketTransport(
                socket_path, timeout=timeout, max_connections=max_connections
            )
        elif url.startswith("https://"):
            self._transport = _HttpsTransport(
                url.rstrip("/"), ca_file=ca_file, timeout=timeout, max_connections=max_connections
            )
        else:
            raise ValueError("SIGNER_URL must be unix:///path/to/signer.sock or https://host:port")

    @classmethod
    def from_settings(cls, settings: SignerSettings, **options: Any) -> Self:
        return cls(
            settings.signer_url, settings.signer_token_file, ca_file=settings.signer_ca_file, **options
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def keys(self) -> list[SignerKey]:
        """Every key the signer holds: id and EIP-55 address, ordered by id."""
        answer = await self._call("GET", "/v1/keys")
        if not isinstance(answer, list):
            raise self._unexpected("GET /v1/keys", "a JSON array")
        return [self._parse(SignerKey, item, "GET /v1/keys") for item in answer]

    async def sign(self, key_id: str, tx: TransactionRequest) -> SignedTransaction:
        """`tx` signed by key `key_id`, if the signer's policy allows it (else `SigningRefused`)."""
        if _KEY_ID.fullmatch(key_id) is None:
            raise ValueError(f"{key_id!r} is not a signer key id (1-64 of A-Z a-z 0-9 _ -)")
        answer = await self._call(
            "POST", f"/v1/keys/{key_id}/sign", body=sign_request_body(tx), key_id=key_id
        )
        return self._parse(SignedTransaction, answer, "POST /v1/keys/{id}/sign")

    async def health(self) -> SignerHealth:
        return self._parse(SignerHealth, await self._call("GET", "/healthz"), "GET /healthz")

    # --- plumbing -----------------------------------------------------------------------------------------

    def _bearer(self) -> str:
        if self._token is None:
            self._token = _read_token(self._token_file)
        return f"Bearer {self._token.get_secret_value()}"

    async def _call(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, key_id: str | None = None
    ) -> Any:
        headers = {"Accept": "application/json", "Authorization": self._bearer()}
        request_id = current_request_id()
        if _REQUEST_ID.fullmatch(request_id) and request_id != "-":
            headers["X-Request-Id"] = request_id
        content = None
        if body is not None:
            content = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        log = {"signer_url": self._url, "method": method, "path": path, "request_id": request_id}
        try:
            answer = await self._transport.request(method, path, headers, content)
        except _TransportFailure as failure:
            raise self._no_answer(failure, log) from failure
        if answer.status == HTTPStatus.OK:
            try:
                return orjson.loads(answer.body)
            except orjson.JSONDecodeError:
                raise self._unexpected(f"{method} {path}", "JSON") from None
        raise self._failure(answer, log, key_id)

    def _no_answer(self, failure: _TransportFailure, log: dict[str, Any]) -> TesseraError:
        if failure.kind == "timeout":
            logger.warning("signer timed out", extra={**log, "timeout_s": self._timeout})
            return SignerUnavailable(
                f"The transaction signer did not answer within {self._timeout:g} s; try again shortly."
            )
        if failure.kind == "untrusted":
            logger.error("signer certificate not trusted", extra={**log, "error": failure.detail})
            return SignerMisconfigured(
                "The transaction signer's TLS certificate is not trusted; check SIGNER_CA_FILE."
            )
        if failure.kind == "unreachable":
            logger.warning("signer unreachable", extra={**log, "error": failure.detail})
            return SignerUnavailable("The transaction signer is unreachable; try again shortly.")
        logger.warning("signer connection failed", extra={**log, "error": failure.detail})
        return SignerUnavailable("The connection to the transaction signer failed; try again shortly.")

    def _failure(self, answer: _HttpAnswer, log: dict[str, Any], key_id: str | None) -> TesseraError:
        problem = _problem_of(answer)
        status = answer.status
        rule = problem.get("rule")
        detail = str(problem.get("detail") or answer.reason)
        log = {**log, "status": status, "signer_request_id": answer.headers.get("x-request-id")}
        if status == HTTPStatus.UNAUTHORIZED:
            self._token = None  # read the file again next time, in case the token was rotated
            logger.error(
                "signer refused the bearer token", extra={**log, "token_file": str(self._token_file)}
            )
            return SignerTokenRejected(
                "The transaction signer refused Tessera's bearer token: SIGNER_TOKEN_FILE does not hold "
                "the token the signer was started with."
            )
        if status == HTTPStatus.FORBIDDEN and isinstance(rule, str):
            logger.info("signer refused to sign", extra={**log, "key": key_id, "rule": rule})
            return SigningRefused(rule, detail)
        if status == HTTPStatus.NOT_FOUND and rule == "unknown_key":
            logger.error("signer has no such key", extra={**log, "key": key_id})
            return SignerMisconfigured(f"The transaction signer holds no key {key_id!r}.")
        if status in (HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.GATEWAY_TIMEOUT):
            logger.warning("signer unavailable", extra={**log, "detail": detail})
            return SignerUnavailable("The transaction signer is unavailable; try again shortly.")
        logger.error(
            "signer refused the request",
            extra={**log, "rule": rule, "detail": detail, "field": problem.get("field")},
        )
        error = SignerError(f"The transaction signer answered {status}: {detail}")
        if isinstance(rule, str):
            error.extensions["signer_rule"] = rule
        return error

    def _parse(self, model: type[_M], answer: Any, what: str) -> _M:
        try:
            return model.model_validate(answer)
        except ValidationError:
            raise self._unexpected(what, model.__name__) from None

    def _unexpected(self, what: str, expected: str) -> SignerError:
        logger.error("unexpected answer from the signer", extra={"signer_url": self._url, "call": what})
        return SignerError(f"The transaction signer's answer to {what} is not {expected}.")


def _read_token(path: Path) -> SecretStr:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        logger.error("cannot read the signer token file", extra={"token_file": str(path), "error": reason})
        raise SignerMisconfigured(
            f"The signer token file (SIGNER_TOKEN_FILE) cannot be read: {reason}."
        ) from None
    token = text.strip()
    if not token:
        logger.error("the signer token file is empty", extra={"token_file": str(path)})
        raise SignerMisconfigured("The signer token file (SIGNER_TOKEN_FILE) is empty.")
    if _TOKEN.fullmatch(token) is None:
        logger.error("the signer token file holds more than a token", extra={"token_file": str(path)})
        raise SignerMisconfigured(
            "The signer token file (SIGNER_TOKEN_FILE) must hold one token of visible ASCII characters."
        )
    return SecretStr(token)


def _problem_of(answer: _HttpAnswer) -> dict[str, Any]:
    try:
        body = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _tls_not_trusted(error: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
