"""Helpers of the withdrawal tests: traders with KYC, funds and sign-in; an EVM JSON-RPC server on eth-tester.

`EthTesterRpc` serves the JSON-RPC calls the withdrawal processor makes (eth_sendRawTransaction,
eth_getTransactionReceipt, eth_getTransactionByHash, eth_blockNumber, eth_getTransactionCount, eth_feeHistory)
over real HTTP, answering from an in-memory py-evm chain, so fees, broadcast and receipts run end to end.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import httpx
import pyotp
from eth_tester import EthereumTester
from eth_tester.exceptions import TransactionNotFound
from fastapi import FastAPI
from signer_support import ETH_TESTER_CHAIN_ID, SignerHome
from tests_support import free_port, make_settings

from server_fastapi.auth import service as auth_service
from server_fastapi.compliance import service as compliance_service
from server_fastapi.core.db import connect
from server_fastapi.core.principal import SESSION_SCOPES, Principal, Role
from server_fastapi.core.settings import Settings
from server_fastapi.ledger import service as ledger_service

PASSWORD = "correct-Horse-battery-42"
FEE = Decimal("0.001")
FAST_ARGON2: dict[str, Any] = {"argon2_time_cost": 2, "argon2_memory_kib": 19456, "argon2_parallelism": 1}


def withdrawal_settings(
    database_url: str, redis_url: str, home: SignerHome, rpc_url: str | None = None, **overrides: Any
) -> Settings:
    """Withdrawals of ETH on eth-tester's chain through the test signer's `hot` key; the processor is driven
    by the test (`app.state.withdrawals.process()`) unless `withdrawal_processor=True`."""
    values: dict[str, Any] = {
        **FAST_ARGON2,
        "signer_url": f"unix://{home.socket}",
        "signer_token_file": home.token_file,
        "evm_rpc_url": rpc_url,
        "withdrawal_hot_wallets": {ETH_TESTER_CHAIN_ID: "hot"},
        "withdrawal_fees": {f"ETH:{ETH_TESTER_CHAIN_ID}": FEE},
        "withdrawal_review_thresholds": {"ETH": Decimal("0.9")},
        "withdrawal_processor": False,
        **overrides,
    }
    return make_settings(database_url, redis_url, **values)


def beneficiary(surname: str = "Hopper", given: str = "Grace") -> dict[str, Any]:
    """A valid IVMS101.2023 beneficiary Person."""
    return {
        "naturalPerson": {
            "name": {
                "nameIdentifier": [
                    {
                        "primaryIdentifier": surname,
                        "secondaryIdentifier": given,
                        "naturalPersonNameIdentifierType": "LEGL",
                    }
                ]
            }
        }
    }


def originator() -> dict[str, Any]:
    """A valid originator identity (what a trader stores as their KYC profile)."""
    return {
        "name": {
            "nameIdentifier": [
                {
                    "primaryIdentifier": "Lovelace",
                    "secondaryIdentifier": "Augusta Ada",
                    "naturalPersonNameIdentifierType": "LEGL",
                }
            ]
        },
        "geographicAddress": [
            {
                "addressType": "HOME",
                "streetName": "Dorset Street",
                "buildingNumber": "12",
                "townName": "Marylebone",
                "country": "GB",
            }
        ],
        "customerIdentification": "C-1815",
        "dateAndPlaceOfBirth": {"dateOfBirth": "1815-12-10", "placeOfBirth": "London"},
        "countryOfResidence": "GB",
    }


@dataclass(frozen=True)
class Trader:
    id: UUID
    email: str
    recovery_codes: list[str] = field(default_factory=list)

    def second_factor(self) -> str:
        """An unused recovery code: sign-in and withdrawals need the second factor; each code works once."""
        return self.recovery_codes.pop()


async def make_account(
    settings: Settings,
    *,
    role: Role = Role.TRADER,
    kyc: bool = True,
    two_factor: bool = True,
    eth: Decimal = Decimal(0),
) -> Trader:
    """A user made through the auth service, with 2FA enrolled, a KYC profile and `eth` credited, in one
    transaction."""
    email = f"user-{uuid.uuid4().hex[:10]}@example.test"
    recovery_codes: list[str] = []
    conn = await connect(settings.database_url.get_secret_value())
    try:
        async with conn.transaction():
            user = await auth_service.create_user(
                conn, settings, email=email, password=PASSWORD, display_name="Test Person", role=role
            )
            principal = Principal(user.id, role, SESSION_SCOPES, "bearer")
            if two_factor:
                secret, _ = await auth_service.begin_totp_enrollment(conn, settings, principal)
                recovery_codes = await auth_service.confirm_totp_enrollment(
                    conn, settings, principal, pyotp.TOTP(secret).now(), ip="127.0.0.1"
                )
            if kyc:
                await compliance_service.put_profile(conn, settings, principal, originator())
            if eth:
                await ledger_service.credit(
                    conn, user.id, "ETH", eth, kind="deposit", reference=f"test:{uuid.uuid4()}"
                )
    finally:
        await conn.close()
    return Trader(id=user.id, email=email, recovery_codes=recovery_codes)


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://tessera.test")


async def sign_in(client: httpx.AsyncClient, trader: Trader) -> dict[str, str]:
    """Bearer headers of a fresh session."""
    credentials = {"email": trader.email, "password": PASSWORD}
    if trader.recovery_codes:
        credentials["totp"] = trader.second_factor()
    response = await client.post("/api/v1/auth/login", json=credentials)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class EthTesterRpc:
    """An EVM JSON-RPC endpoint on 127.0.0.1 backed by `tester`; one request at a time (eth-tester is not
    thread-safe). Every call is kept in `calls` (method names)."""

    def __init__(self, tester: EthereumTester) -> None:
        self.tester = tester
        self.calls: list[str] = []
        self.port = free_port()
        rpc = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["content-length"])))
                rpc.calls.append(request["method"])
                try:
                    answer = {"result": rpc.answer(request["method"], request["params"])}
                except Exception as error:  # the node's refusal, as a JSON-RPC error
                    answer = {"error": {"code": -32000, "message": str(error)}}
                body = json.dumps({"jsonrpc": "2.0", "id": request["id"], **answer}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, method: str, params: list[Any]) -> Any:
        tester = self.tester
        if method == "eth_sendRawTransaction":
            return tester.send_raw_transaction(params[0])
        if method == "eth_getTransactionByHash":
            try:
                tester.get_transaction_by_hash(params[0])
            except TransactionNotFound:
                return None
            return {"hash": params[0]}
        if method == "eth_getTransactionReceipt":
            try:
                receipt = tester.get_transaction_receipt(params[0])
            except TransactionNotFound:
                return None
            return {"blockNumber": hex(receipt["block_number"]), "status": hex(receipt["status"])}
        if method == "eth_blockNumber":
            return hex(tester.get_block_by_number("latest")["number"])
        if method == "eth_getTransactionCount":
            return hex(tester.get_nonce(params[0]))
        if method == "eth_feeHistory":
            return self.fee_history(int(params[0], 16), params[1], params[2])
        raise ValueError(f"method {method} not served")

    def fee_history(self, count: int, newest: str, percentiles: list[float]) -> dict[str, Any]:
        """`eth_feeHistory` as a node answers it: each block's base fee and the next block's, and per block
        the tips (priority fee actually paid) at the percentiles, 0 for a block without transactions."""
        tester = self.tester
        last = tester.get_block_by_number(newest)["number"]
        blocks = [tester.get_block_by_number(n) for n in range(max(0, last - count + 1), last + 1)]
        rewards = []
        for block in blocks:
            tips = sorted(self._tip(tester.get_transaction_by_hash(h), block) for h in block["transactions"])
            rewards.append(
                [hex(tips[min(len(tips) - 1, int(len(tips) * p / 100))] if tips else 0) for p in percentiles]
            )
        return {
            "oldestBlock": hex(blocks[0]["number"]),
            "baseFeePerGas": [hex(b["base_fee_per_gas"]) for b in blocks]
            + [hex(tester.get_block_by_number("pending")["base_fee_per_gas"])],
            "gasUsedRatio": [b["gas_used"] / b["gas_limit"] for b in blocks],
            "reward": rewards,
        }

    @staticmethod
    def _tip(transaction: dict[str, Any], block: dict[str, Any]) -> int:
        base_fee: int = block["base_fee_per_gas"]
        if "max_priority_fee_per_gas" in transaction:
            tip: int = min(transaction["max_priority_fee_per_gas"], transaction["max_fee_per_gas"] - base_fee)
            return tip
        legacy_tip: int = transaction["gas_price"] - base_fee
        return legacy_tip

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
