"""The signer client against the real signer binary (`signer serve` on a Unix socket, or TLS).

Signed transactions are checked with eth-account (sender recovery, byte-for-byte against its own RFC 6979
signature) and executed on an in-memory EVM (eth-tester with py-evm).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import os
import socket
import subprocess
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from eth_account import Account
from eth_account._utils.legacy_transactions import Transaction as LegacyTransaction
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_tester import EthereumTester
from fastapi import FastAPI
from hexbytes import HexBytes
from signer_support import (
    DENIED_ADDRESS,
    ETH_TESTER_CHAIN_ID,
    HOT_ADDRESS,
    HOT_KEY_ID,
    HOT_PRIVATE_KEY,
    KEYSTORE_PASSWORD,
    ONE_ETHER,
    TEST_KEYS,
    TOKEN,
    SignerHome,
    SignerProcess,
    child_env,
    write_secret,
)
from tests_support import free_port

from server_fastapi.core.context import reset_request_id, set_request_id
from server_fastapi.core.problems import ServiceUnavailable, install_problem_handlers
from server_fastapi.wallets.evm import Eip1559Fees, LegacyFees, keccak256, native_transfer
from server_fastapi.wallets.signer_client import (
    SignedTransaction,
    SignerClient,
    SignerError,
    SignerKey,
    SignerMisconfigured,
    SignerTokenRejected,
    SignerUnavailable,
    SigningRefused,
    TransactionRequest,
)

EIP1559_FEES = Eip1559Fees(max_fee_per_gas=20 * 10**9, max_priority_fee_per_gas=2 * 10**9)
LEGACY_FEES = LegacyFees(gas_price=20 * 10**9)
DESTINATION = "0x3535353535353535353535353535353535353535"


def transfer(
    *,
    value_wei: int = ONE_ETHER // 4,
    chain_id: int = ETH_TESTER_CHAIN_ID,
    to: str = DESTINATION,
    nonce: int = 0,
    fees: Eip1559Fees | LegacyFees = EIP1559_FEES,
) -> TransactionRequest:
    return native_transfer(
        chain_id=chain_id, nonce=nonce, to=to, amount=Decimal(value_wei).scaleb(-18), fees=fees
    )


def eth_account_dict(tx: TransactionRequest) -> dict[str, Any]:
    """`tx` the way eth-account takes it, to sign the same transaction in Python."""
    common = {"chainId": tx.chain_id, "nonce": tx.nonce, "to": tx.to, "value": tx.value, "gas": tx.gas_limit}
    common["data"] = bytes.fromhex(tx.data[2:])
    if isinstance(tx.fees, Eip1559Fees):
        return {
            **common,
            "type": 2,
            "maxFeePerGas": tx.fees.max_fee_per_gas,
            "maxPriorityFeePerGas": tx.fees.max_priority_fee_per_gas,
            "accessList": [],
        }
    return {**common, "gasPrice": tx.fees.gas_price}


# --- keys and health --------------------------------------------------------------------------------------


async def test_keys_lists_every_key_with_its_eip55_address(signer: SignerClient) -> None:
    keys = await signer.keys()

    assert keys == sorted(
        (SignerKey(id=key.id, address=key.address) for key in TEST_KEYS), key=lambda key: key.id
    )
    assert SignerKey(id=HOT_KEY_ID, address=HOT_ADDRESS) in keys
    health = await signer.health()
    assert (health.status, health.keys) == ("ok", len(TEST_KEYS))


# --- signing: recovered, identical to eth-account, executed on an EVM ------------------------------------


@pytest.mark.parametrize("fees", [EIP1559_FEES, LEGACY_FEES], ids=["eip1559", "legacy-eip155"])
async def test_signed_withdrawal_moves_the_exact_value_on_an_evm(
    signer: SignerClient, evm: EthereumTester, fees: Eip1559Fees | LegacyFees
) -> None:
    destination = Account.create().address
    sender_before = evm.get_balance(HOT_ADDRESS)
    tx = native_transfer(
        chain_id=ETH_TESTER_CHAIN_ID,
        nonce=evm.get_nonce(HOT_ADDRESS),
        to=destination.lower(),
        amount=Decimal("0.123456789012345678"),
        fees=fees,
    )

    signed = await signer.sign(HOT_KEY_ID, tx)

    raw = bytes.fromhex(signed.raw_transaction[2:])
    assert Account.recover_transaction(raw) == HOT_ADDRESS == signed.from_address
    assert signed.tx_hash == "0x" + keccak256(raw).hex()
    # RFC 6979 makes ECDSA deterministic: eth-account signing the same transaction gives the same bytes.
    assert raw == Account.sign_transaction(eth_account_dict(tx), HOT_PRIVATE_KEY).raw_transaction

    tx_hash = evm.send_raw_transaction(signed.raw_transaction)
    assert tx_hash == signed.tx_hash
    receipt = evm.get_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    assert evm.get_balance(destination) == 123_456_789_012_345_678
    gas_paid = receipt["gas_used"] * receipt["effective_gas_price"]
    assert evm.get_balance(HOT_ADDRESS) == sender_before - 123_456_789_012_345_678 - gas_paid


async def test_the_raw_transaction_carries_every_field_as_requested(signer: SignerClient) -> None:
    eip1559 = transfer(value_wei=ONE_ETHER - 1, nonce=2**40)
    legacy = transfer(value_wei=7, nonce=9, fees=LEGACY_FEES, chain_id=1)

    decoded_1559 = TypedTransaction.from_bytes(
        HexBytes((await signer.sign(HOT_KEY_ID, eip1559)).raw_transaction)
    ).as_dict()
    decoded_legacy = LegacyTransaction.from_bytes(
        HexBytes((await signer.sign(HOT_KEY_ID, legacy)).raw_transaction)
    ).as_dict()

    assert decoded_1559["type"] == 2
    assert decoded_1559["chainId"] == ETH_TESTER_CHAIN_ID
    assert decoded_1559["nonce"] == 2**40
    assert decoded_1559["value"] == ONE_ETHER - 1
    assert decoded_1559["gas"] == 21_000
    assert decoded_1559["maxFeePerGas"] == 20 * 10**9
    assert decoded_1559["maxPriorityFeePerGas"] == 2 * 10**9
    assert decoded_1559["to"] == bytes.fromhex(DESTINATION[2:])
    assert (decoded_legacy["nonce"], decoded_legacy["value"], decoded_legacy["gasPrice"]) == (
        9,
        7,
        20 * 10**9,
    )
    # EIP-155: v = chain_id * 2 + 35 or + 36, so the signature is only valid on chain 1.
    assert decoded_legacy["v"] in (1 * 2 + 35, 1 * 2 + 36)


async def test_every_signature_and_refusal_is_logged_with_the_api_request_id(
    signer: SignerClient, signer_process: SignerProcess
) -> None:
    token = set_request_id("withdrawal-test-7f3a")
    try:
        signed = await signer.sign(HOT_KEY_ID, transfer(nonce=77))
    finally:
        reset_request_id(token)
    token = set_request_id("withdrawal-test-refused-91c4")
    try:
        with pytest.raises(SigningRefused):
            await signer.sign(HOT_KEY_ID, transfer(chain_id=5))
    finally:
        reset_request_id(token)

    lines = [json.loads(line) for line in signer_process.log().splitlines() if line.startswith("{")]
    by_request = {line.get("request_id"): line for line in lines}
    assert by_request["withdrawal-test-7f3a"]["message"] == "signed"
    assert by_request["withdrawal-test-7f3a"]["tx_hash"] == signed.tx_hash
    assert by_request["withdrawal-test-refused-91c4"]["message"] == "refused"
    assert by_request["withdrawal-test-refused-91c4"]["rule"] == "chain_id_not_allowed"
    signatures_and_refusals = [line for line in lines if line.get("message") in ("signed", "refused")]
    assert signatures_and_refusals
    assert all(line.get("request_id") for line in signatures_and_refusals)


# --- policy refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_id", "tx", "rule"),
    [
        (HOT_KEY_ID, transfer(chain_id=5), "chain_id_not_allowed"),
        (HOT_KEY_ID, transfer(value_wei=ONE_ETHER + 1), "max_value_exceeded"),
        (HOT_KEY_ID, transfer(to=DENIED_ADDRESS.lower()), "destination_denied"),
        ("nopolicy", transfer(), "no_policy"),
    ],
    ids=["wrong-chain", "over-per-tx-limit", "denylisted-destination", "key-without-policy"],
)
async def test_policy_refusals_name_the_rule(
    signer: SignerClient, key_id: str, tx: TransactionRequest, rule: str
) -> None:
    with pytest.raises(SigningRefused) as refused:
        await signer.sign(key_id, tx)

    assert refused.value.rule == rule
    assert refused.value.status == 403
    assert refused.value.detail


async def test_the_rolling_daily_limit_refuses_once_spent(signer: SignerClient) -> None:
    await signer.sign("daily", transfer(value_wei=ONE_ETHER))

    with pytest.raises(SigningRefused) as refused:
        await signer.sign("daily", transfer(value_wei=ONE_ETHER // 2 + 1, nonce=1))

    assert refused.value.rule == "daily_limit_exceeded"


async def test_a_refusal_renders_as_a_problem_with_the_rule(signer: SignerClient) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/withdraw")
    async def withdraw() -> SignedTransaction:
        return await signer.sign(HOT_KEY_ID, transfer(chain_id=5))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        response = await http.post("/withdraw")

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:tessera:problem:signing-refused"
    assert body["rule"] == "chain_id_not_allowed"


async def test_an_unknown_key_is_a_misconfiguration(signer: SignerClient) -> None:
    with pytest.raises(SignerMisconfigured, match="no key 'cold'") as error:
        await signer.sign("cold", transfer())

    assert error.value.status == 500


# --- credentials ------------------------------------------------------------------------------------------


async def test_a_wrong_token_says_so_and_never_shows_a_token(
    signer_process: SignerProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "not-the-signer-token-9c2d"
    token_file = write_secret(tmp_path / "token", wrong)
    caplog.set_level(logging.DEBUG)

    async with SignerClient(f"unix://{signer_process.home.socket}", token_file) as client:
        with pytest.raises(SignerTokenRejected) as error:
            await client.keys()

    assert isinstance(error.value, SignerMisconfigured)
    assert error.value.status == 500
    assert "SIGNER_TOKEN_FILE" in error.value.detail
    assert "bearer token" in error.value.detail
    assert "signer refused the bearer token" in caplog.text
    for secret in (wrong, TOKEN):
        assert secret not in str(error.value)
        assert secret not in caplog.text
        assert all(secret not in repr(record.__dict__) for record in caplog.records)


async def test_a_rotated_token_is_read_again_after_a_refusal(
    signer_process: SignerProcess, tmp_path: Path
) -> None:
    token_file = write_secret(tmp_path / "token", "stale-token")
    async with SignerClient(f"unix://{signer_process.home.socket}", token_file) as client:
        with pytest.raises(SignerTokenRejected):
            await client.health()
        write_secret(token_file, TOKEN + "\n")

        assert (await client.health()).status == "ok"


async def test_a_missing_token_file_is_a_misconfiguration(
    signer_process: SignerProcess, tmp_path: Path
) -> None:
    async with SignerClient(f"unix://{signer_process.home.socket}", tmp_path / "absent") as client:
        with pytest.raises(SignerMisconfigured, match="SIGNER_TOKEN_FILE"):
            await client.keys()


# --- the signer not there -------------------------------------------------------------------------------


async def test_no_socket_means_service_unavailable(tmp_path: Path) -> None:
    token_file = write_secret(tmp_path / "token", TOKEN)
    async with SignerClient(f"unix://{tmp_path / 'absent.sock'}", token_file) as client:
        with pytest.raises(SignerUnavailable, match="unreachable") as error:
            await client.sign(HOT_KEY_ID, transfer())

    assert isinstance(error.value, ServiceUnavailable)
    assert error.value.status == 503
    assert error.value.headers["Retry-After"]


async def test_a_stale_socket_with_nobody_listening_means_service_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody accepts
    token_file = write_secret(tmp_path / "token", TOKEN)

    async with SignerClient(f"unix://{path}", token_file) as client:
        with pytest.raises(SignerUnavailable):
            await client.keys()


async def test_a_signer_that_does_not_answer_times_out_as_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "silent.sock"
    never = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await never.wait()

    server = await asyncio.start_unix_server(hold, path=str(path))
    token_file = write_secret(tmp_path / "token", TOKEN)
    try:
        async with SignerClient(f"unix://{path}", token_file, timeout=0.2) as client:
            with pytest.raises(SignerUnavailable, match=r"did not answer within 0\.2 s"):
                await client.sign(HOT_KEY_ID, transfer())
    finally:
        never.set()
        server.close()
        await server.wait_closed()


def _http_answer(status: str, body: bytes, content_type: str = "application/problem+json") -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


@pytest.mark.parametrize(
    ("answer", "raised", "message"),
    [
        (_http_answer("200 OK", b"not json!", "application/json"), SignerError, "is not JSON"),
        (_http_answer("200 OK", b'{"status": 1}', "application/json"), SignerError, "is not SignerHealth"),
        (
            _http_answer(
                "422 Unprocessable Entity",
                b'{"status": 422, "rule": "invalid_request", "detail": "gas_limit: too low", '
                b'"field": "gas_limit"}',
            ),
            SignerError,
            "answered 422: gas_limit: too low",
        ),
        (_http_answer("500 Internal Server Error", b"{}"), SignerError, "answered 500"),
        (_http_answer("503 Service Unavailable", b""), SignerUnavailable, "unavailable"),
    ],
    ids=["not-json", "wrong-shape", "invalid-request", "internal-error", "unavailable"],
)
async def test_unexpected_answers_map_to_errors(
    tmp_path: Path, answer: bytes, raised: type[Exception], message: str
) -> None:
    path = tmp_path / "fake.sock"

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(reply, path=str(path))
    token_file = write_secret(tmp_path / "token", TOKEN)
    try:
        async with SignerClient(f"unix://{path}", token_file) as client:
            with pytest.raises(raised, match=message) as error:
                await client.health()
    finally:
        server.close()
        await server.wait_closed()

    if "invalid_request" in answer.decode():
        assert isinstance(error.value, SignerError)
        assert error.value.extensions == {"signer_rule": "invalid_request"}


# --- the Unix-socket transport: keep-alive, framing, failures ---------------------------------------------

HEALTH_OK = b'{"status": "ok", "keys": 1}'


def _health_answer(keys: int) -> bytes:
    return _http_answer("200 OK", b'{"status": "ok", "keys": %d}' % keys, "application/json")


class FakeSigner:
    """A stand-in for the signer on a Unix socket: reads each request and writes `answer(index)` back.

    `index` counts requests over all connections from 0; `connections` counts connections accepted. With
    `close_after_answer` it closes each connection after one answer.
    """

    def __init__(
        self,
        path: Path,
        answer: Callable[[int], Awaitable[bytes]],
        *,
        close_after_answer: bool = False,
    ) -> None:
        self.path = path
        self.connections = 0
        self.requests = 0
        self._answer = answer
        self._close_after_answer = close_after_answer
        self._handlers: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for handler in self._handlers:
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                index, self.requests = self.requests, self.requests + 1
                writer.write(await self._answer(index))
                await writer.drain()
                if self._close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed the connection
        finally:
            writer.close()


async def test_keep_alive_reuses_a_connection_and_bounds_those_in_flight(tmp_path: Path) -> None:
    async def slowly(index: int) -> bytes:
        await asyncio.sleep(0.01)
        return _health_answer(index)

    token_file = write_secret(tmp_path / "token", TOKEN)
    path = tmp_path / "fake.sock"
    async with (
        FakeSigner(path, slowly) as fake,
        SignerClient(f"unix://{path}", token_file, max_connections=3) as client,
    ):
        sequential = [(await client.health()).keys for _ in range(5)]
        assert fake.connections == 1
        concurrent = await asyncio.gather(*(client.health() for _ in range(20)))

    assert sequential == [0, 1, 2, 3, 4]
    assert sorted(health.keys for health in concurrent) == list(range(5, 25))
    assert fake.connections == 3


async def test_a_timed_out_request_leaves_no_late_answer_for_the_next_one(tmp_path: Path) -> None:
    """The first answer comes after the client gave up; the next call must not read it as its own."""

    async def late_then_prompt(index: int) -> bytes:
        if index == 0:
            await asyncio.sleep(0.6)
        return _health_answer(index)

    token_file = write_secret(tmp_path / "token", TOKEN)
    path = tmp_path / "fake.sock"
    async with (
        FakeSigner(path, late_then_prompt) as fake,
        SignerClient(f"unix://{path}", token_file, timeout=0.3) as client,
    ):
        with pytest.raises(SignerUnavailable, match=r"did not answer within 0\.3 s") as error:
            await client.health()
        second = await client.health()

    assert error.value.status == 503
    assert second.keys == 1
    assert fake.connections == 2


async def test_a_signer_that_closes_after_each_answer_gets_a_new_connection(tmp_path: Path) -> None:
    async def answer(index: int) -> bytes:
        return _health_answer(index)

    token_file = write_secret(tmp_path / "token", TOKEN)
    path = tmp_path / "fake.sock"
    async with (
        FakeSigner(path, answer, close_after_answer=True) as fake,
        SignerClient(f"unix://{path}", token_file) as client,
    ):
        for expected in range(3):
            assert (await client.health()).keys == expected
            await asyncio.sleep(0.01)  # the close may reach the client before or after it asks again

    assert fake.connections == 3


def _chunked(status: str, body: bytes, content_type: str) -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
    middle = len(body) // 2
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(part), part) for part in (body[:middle], body[middle:]))
    return head.encode() + chunks + b"0\r\nx-trailer: 1\r\n\r\n"


async def test_a_chunked_problem_answer_is_mapped_and_the_connection_kept(tmp_path: Path) -> None:
    refusal = _chunked(
        "403 Forbidden",
        b'{"type": "urn:tessera:signer:problem:destination_denied", "status": 403, '
        b'"rule": "destination_denied", "detail": "0x...dEaD is on the deny list"}',
        "application/problem+json",
    )
    answers = [refusal, _chunked("200 OK", HEALTH_OK, "application/json")]

    async def answer(index: int) -> bytes:
        return answers[index]

    token_file = write_secret(tmp_path / "token", TOKEN)
    path = tmp_path / "fake.sock"
    async with (
        FakeSigner(path, answer) as fake,
        SignerClient(f"unix://{path}", token_file) as client,
    ):
        with pytest.raises(SigningRefused) as refused:
            await client.sign(HOT_KEY_ID, transfer())
        health = await client.health()

    assert (refused.value.status, refused.value.rule) == (403, "destination_denied")
    assert refused.value.detail == "0x...dEaD is on the deny list"
    assert health.keys == 1
    assert fake.connections == 1


async def test_an_answer_ended_by_closing_the_connection_is_read_to_the_end(tmp_path: Path) -> None:
    async def answer(index: int) -> bytes:
        return b"HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n" + HEALTH_OK

    token_file = write_secret(tmp_path / "token", TOKEN)
    path = tmp_path / "fake.sock"
    async with (
        FakeSigner(path, answer, close_after_answer=True) as fake,
        SignerClient(f"unix://{path}", token_file) as client,
    ):
        assert (await client.health()).keys == 1
        assert (await client.health()).keys == 1

    assert fake.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n" + HEALTH_OK,
        b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
    ],
    ids=["not-http", "cut-short", "bad-length", "bad-chunk", "informational"],
)
async def test_a_broken_answer_is_unavailable_and_the_request_is_not_sent_again(
    tmp_path: Path, answer: bytes
) -> None:
    async def reply(index: int) -> bytes:
        return answer

    token_file = write_secret(tmp_path / "token", TOKEN)
    path = tmp_path / "fake.sock"
    async with (
        FakeSigner(path, reply, close_after_answer=True) as fake,
        SignerClient(f"unix://{path}", token_file, timeout=2) as client,
    ):
        with pytest.raises(SignerUnavailable, match="connection to the transaction signer failed"):
            await client.sign(HOT_KEY_ID, transfer())

    assert fake.requests == 1


async def test_the_signer_restarting_between_calls_means_a_new_connection(
    signer_binary: Path, tmp_path: Path
) -> None:
    home = SignerHome.create(signer_binary, tmp_path / "home", keys=TEST_KEYS[:1])
    async with SignerClient(f"unix://{home.socket}", home.token_file) as client:
        with SignerProcess(signer_binary, home) as first:
            before = await client.sign(HOT_KEY_ID, transfer(nonce=1))
        with pytest.raises(SignerUnavailable, match="unreachable"):
            await client.health()
        with SignerProcess(signer_binary, home) as second:
            after = await client.sign(HOT_KEY_ID, transfer(nonce=2))

    assert first.pid != second.pid
    assert Account.recover_transaction(before.raw_transaction) == HOT_ADDRESS
    assert Account.recover_transaction(after.raw_transaction) == HOT_ADDRESS


async def test_the_signer_restarting_while_a_connection_idles_is_not_noticed_by_callers(
    signer_binary: Path, tmp_path: Path
) -> None:
    """No call in between: the pooled connection is dead when the next request wants it, and is replaced."""
    home = SignerHome.create(signer_binary, tmp_path / "home", keys=TEST_KEYS[:1])
    async with SignerClient(f"unix://{home.socket}", home.token_file) as client:
        with SignerProcess(signer_binary, home):
            assert (await client.health()).status == "ok"
        with SignerProcess(signer_binary, home):
            signed = await client.sign(HOT_KEY_ID, transfer(nonce=3))

    assert Account.recover_transaction(signed.raw_transaction) == HOT_ADDRESS


def test_a_token_file_holding_more_than_a_token_is_a_misconfiguration(tmp_path: Path) -> None:
    client = SignerClient(f"unix://{tmp_path / 'absent.sock'}", write_secret(tmp_path / "token", "a\r\nb"))

    with pytest.raises(SignerMisconfigured, match="one token of visible ASCII"):
        asyncio.run(client.health())


def test_serve_without_a_keystore_password_refuses_to_start(
    signer_binary: Path, signer_home: SignerHome, tmp_path: Path
) -> None:
    socket_path = tmp_path / "nopassword.sock"
    result = subprocess.run(
        signer_home.serve_command(signer_binary, "--socket", str(socket_path)),
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        env=child_env(),
    )

    assert result.returncode != 0
    assert "no keystore password" in result.stderr
    assert "SIGNER_KEYSTORE_PASSWORD" in result.stderr
    assert not socket_path.exists()


# --- secrets never leak -----------------------------------------------------------------------------------


async def test_no_output_log_or_answer_contains_a_private_key(
    signer_binary: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A fresh signer home and process, driven through every kind of answer, then every trace searched."""
    caplog.set_level(logging.DEBUG)
    home = SignerHome.create(signer_binary, tmp_path / "home")
    home.run_cli(signer_binary, "keys", "list")
    answers: list[str] = []
    with SignerProcess(signer_binary, home) as process:
        async with SignerClient(f"unix://{home.socket}", home.token_file) as client:
            answers.append(repr(await client.keys()))
            answers.append(repr(await client.health()))
            answers.append(repr(await client.sign(HOT_KEY_ID, transfer())))
            answers.append(repr(await client.sign(HOT_KEY_ID, transfer(fees=LEGACY_FEES))))
            for key_id, tx in [
                (HOT_KEY_ID, transfer(chain_id=5)),
                ("nopolicy", transfer()),
                ("nope", transfer()),
            ]:
                with pytest.raises((SignerError, SigningRefused)) as failure:
                    await client.sign(key_id, tx)
                answers.append(f"{failure.value!r} {failure.value.detail} {failure.value.extensions}")
        wrong_file = write_secret(tmp_path / "wrong-token", "wrong")
        async with SignerClient(f"unix://{home.socket}", wrong_file) as client:
            with pytest.raises(SignerTokenRejected) as rejected:
                await client.keys()
            answers.append(rejected.value.detail)
    signer_log = process.log()
    keystores = "".join(path.read_text() for path in home.keystore_dir.glob("*.json"))

    assert '"signed"' in signer_log  # the log did record the work
    assert '"refused"' in signer_log
    traces = {
        "signer log": signer_log,
        "signer CLI output": "".join(home.outputs),
        "keystore files": keystores,
        "client answers": "\n".join(answers),
        "python logs": caplog.text + "".join(repr(record.__dict__) for record in caplog.records),
    }
    for key in TEST_KEYS:
        digits = key.private_key.removeprefix("0x")
        for name, text in traces.items():
            assert digits.lower() not in text.lower(), f"{key.id}'s private key is in the {name}"
    for name, text in traces.items():
        assert KEYSTORE_PASSWORD not in text, f"the keystore password is in the {name}"
        assert TOKEN not in text, f"the bearer token is in the {name}"


# --- TLS (what the Helm chart uses) -----------------------------------------------------------------------


def _tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate it issued for 127.0.0.1: (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tessera test signer CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path = directory / "cert.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = write_secret(directory / "key.pem", "")
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_path, cert_path, key_path


async def test_over_tls_the_ca_file_is_trusted_and_nothing_else(
    signer_binary: Path, signer_home: SignerHome, tmp_path: Path
) -> None:
    ca, cert, key = _tls_files(tmp_path)
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    tls_args = ("--listen", f"127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key))
    env = child_env(SIGNER_KEYSTORE_PASSWORD=KEYSTORE_PASSWORD)

    with SignerProcess(signer_binary, signer_home, extra_args=tls_args, env=env, base_url=url, ca_file=ca):
        async with SignerClient(url, signer_home.token_file, ca_file=ca) as client:
            signed = await client.sign(HOT_KEY_ID, transfer())
        async with SignerClient(url, signer_home.token_file) as untrusting:
            with pytest.raises(SignerMisconfigured, match="SIGNER_CA_FILE"):
                await untrusting.health()

    assert Account.recover_transaction(signed.raw_transaction) == HOT_ADDRESS


def test_the_url_must_be_a_unix_socket_or_https(tmp_path: Path) -> None:
    for url in ("http://127.0.0.1:8443", "unix://relative.sock", "signer.sock"):
        with pytest.raises(ValueError, match="SIGNER_URL"):
            SignerClient(url, tmp_path / "token")
    with pytest.raises(ValueError, match="SIGNER_CA_FILE"):
        SignerClient("https://signer:8443", tmp_path / "token", ca_file=tmp_path / "absent.pem")


def test_token_file_written_by_the_fixture_is_private(signer_home: SignerHome) -> None:
    assert os.stat(signer_home.token_file).st_mode & 0o777 == 0o600
