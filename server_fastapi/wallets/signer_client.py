"""Async client of Tessera's Rust signer (`signer serve`, see `signer/README.md`).

The signer holds the hot-wallet keys and its own signing policy; this client only asks. It speaks HTTP over
the signer's Unix socket (`SIGNER_URL=unix:///path/signer.sock`) or over TLS (`https://host:port`, the
certificate verified with `SIGNER_CA_FILE`), with the bearer token read from `SIGNER_TOKEN_FILE`. Every
quantity crosses as a decimal string built from an `int`, never a float.

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

import logging
import re
import ssl
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Self, TypeVar

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
_UDS_BASE_URL = "http://signer"  # the host is ignored on a Unix socket; requests still need one
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")
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


# --- the client -------------------------------------------------------------------------------------------


class SignerClient:
    """One connection pool to the signer; create it in the lifespan and close it there.

    The token is read from its file on first use and kept; after a 401 it is read again on the next call, so
    a rotated token is picked up without a restart.
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
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        # One retry, and only for connections that never opened: a request that reached the signer is never
        # repeated by the transport (a second signature would count again towards the daily limit).
        if url.startswith("unix://"):
            socket_path = url.removeprefix("unix://")
            if not socket_path.startswith("/"):
                raise ValueError("SIGNER_URL unix:// needs an absolute path: unix:///run/signer/signer.sock")
            transport = httpx.AsyncHTTPTransport(uds=socket_path, retries=1, limits=limits)
            base_url = _UDS_BASE_URL
        elif url.startswith("https://"):
            try:
                verify = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
            except (OSError, ssl.SSLError) as error:
                raise ValueError(
                    f"SIGNER_CA_FILE {ca_file} is not a readable PEM CA bundle: {error}"
                ) from error
            transport = httpx.AsyncHTTPTransport(verify=verify, retries=1, limits=limits)
            base_url = url.rstrip("/")
        else:
            raise ValueError("SIGNER_URL must be unix:///path/to/signer.sock or https://host:port")
        self._http = httpx.AsyncClient(
            transport=transport,
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            headers={"Accept": "application/json"},
        )

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
        await self._http.aclose()

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
        headers = {"Authorization": self._bearer()}
        request_id = current_request_id()
        if _REQUEST_ID.fullmatch(request_id) and request_id != "-":
            headers["X-Request-Id"] = request_id
        content = None
        if body is not None:
            content = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        log = {"signer_url": self._url, "method": method, "path": path, "request_id": request_id}
        try:
            response = await self._http.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException as error:
            logger.warning("signer timed out", extra={**log, "timeout_s": self._timeout})
            raise SignerUnavailable(
                f"The transaction signer did not answer within {self._timeout:g} s; try again shortly."
            ) from error
        except httpx.ConnectError as error:
            if _tls_not_trusted(error):
                logger.error("signer certificate not trusted", extra={**log, "error": str(error)})
                raise SignerMisconfigured(
                    "The transaction signer's TLS certificate is not trusted; check SIGNER_CA_FILE."
                ) from error
            logger.warning("signer unreachable", extra={**log, "error": str(error)})
            raise SignerUnavailable("The transaction signer is unreachable; try again shortly.") from error
        except httpx.TransportError as error:
            logger.warning("signer connection failed", extra={**log, "error": str(error)})
            raise SignerUnavailable(
                "The connection to the transaction signer failed; try again shortly."
            ) from error
        if response.status_code == HTTPStatus.OK:
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise self._unexpected(f"{method} {path}", "JSON") from None
        raise self._failure(response, log, key_id)

    def _failure(self, response: httpx.Response, log: dict[str, Any], key_id: str | None) -> TesseraError:
        problem = _problem_of(response)
        status = response.status_code
        rule = problem.get("rule")
        detail = str(problem.get("detail") or response.reason_phrase)
        log = {**log, "status": status, "signer_request_id": response.headers.get("x-request-id")}
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
    except OSError as error:
        logger.error(
            "cannot read the signer token file", extra={"token_file": str(path), "error": str(error)}
        )
        raise SignerMisconfigured(
            f"The signer token file (SIGNER_TOKEN_FILE) cannot be read: {error.strerror or error}."
        ) from None
    token = text.strip()
    if not token:
        logger.error("the signer token file is empty", extra={"token_file": str(path)})
        raise SignerMisconfigured("The signer token file (SIGNER_TOKEN_FILE) is empty.")
    return SecretStr(token)


def _problem_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content)
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
