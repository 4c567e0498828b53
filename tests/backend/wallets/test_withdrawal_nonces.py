"""Two API processes (Granian, one worker each) take withdrawals at once, and both run the withdrawal
processor against the real signer: every signed transaction has its own nonce, and the nonces have no gap."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from signer_support import ETH_TESTER_CHAIN_ID, HOT_ADDRESS, SignerProcess
from tests_support import ROOT, ApiServer
from withdrawal_support import beneficiary, make_account, withdrawal_settings

from server_fastapi.wallets.evm import to_checksum_address

TRADING_TESTS = ROOT / "tests" / "backend" / "trading"  # header_auth_app: sign-in by X-Test-User
DESTINATION = to_checksum_address("0x" + "5a" * 20)
TRADERS = 6
PER_TRADER = 4


@pytest.fixture
async def servers(
    database_url: str, redis_url: str, signer_process: SignerProcess
) -> AsyncIterator[list[ApiServer]]:
    home = signer_process.home
    env = {
        **os.environ,
        "TESSERA_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TESSERA_WEB_DIST": str(ROOT / ".state" / "no-web-app"),
        "SIGNER_URL": f"unix://{home.socket}",
        "SIGNER_TOKEN_FILE": str(home.token_file),
        "WITHDRAWAL_HOT_WALLETS": json.dumps({str(ETH_TESTER_CHAIN_ID): "hot"}),
        "WITHDRAWAL_FEES": json.dumps({f"ETH:{ETH_TESTER_CHAIN_ID}": "0.001"}),
        "WITHDRAWAL_PROCESSOR": "true",
        "WITHDRAWAL_POLL_SECONDS": "0.05",
        "PYTHONPATH": os.pathsep.join([str(TRADING_TESTS), str(ROOT / "tests"), str(ROOT)]),
    }
    env.pop("EVM_RPC_URL", None)  # no node: withdrawals stop at signed, which is what nonces are about
    running = [ApiServer(env, factory="header_auth_app:create_app") for _ in range(2)]
    try:
        await asyncio.gather(*(server.start() for server in running))
        yield running
    finally:
        for server in running:
            server.stop()


async def test_two_api_processes_sign_with_distinct_gap_free_nonces(
    servers: list[ApiServer],
    database_url: str,
    redis_url: str,
    signer_process: SignerProcess,
    db: asyncpg.Connection[Any],
) -> None:
    settings = withdrawal_settings(database_url, redis_url, signer_process.home)
    traders = [await make_account(settings, eth=Decimal(1)) for _ in range(TRADERS)]
    for index, trader in enumerate(traders):  # a known destination, so the requests go straight to signing
        await db.execute(
            """
            INSERT INTO withdrawals (user_id, asset, amount, fee, chain_id, destination, status, travel_rule,
                                     hot_key_id, nonce, raw_transaction, tx_hash)
            VALUES ($1, 'ETH', 1, 0, $2, $3, 'confirmed', '\\x00', 'seed', $4, '0x00', '0x00')
            """,
            trader.id,
            ETH_TESTER_CHAIN_ID,
            DESTINATION,
            index,
        )
    body = {
        "asset": "ETH",
        "amount": "0.01",
        "chain_id": ETH_TESTER_CHAIN_ID,
        "destination": DESTINATION,
        "beneficiary": beneficiary(),
    }

    async def withdraw(server: ApiServer, trader_index: int) -> int:
        headers = {"x-test-user": str(traders[trader_index].id)}
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            response = await client.post(
                "/api/v1/withdrawals",
                json={**body, "totp": traders[trader_index].second_factor()},
                headers=headers,
            )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "approved", response.text
        created: int = response.json()["id"]
        return created

    requests = [
        withdraw(servers[(trader + round_) % 2], trader)
        for round_ in range(PER_TRADER)
        for trader in range(TRADERS)
    ]
    ids = await asyncio.gather(*requests)
    total = TRADERS * PER_TRADER

    rows: list[asyncpg.Record] = []
    for _ in range(600):
        rows = await db.fetch(
            """
            SELECT id, status, nonce, raw_transaction, tx_hash FROM withdrawals WHERE id = ANY($1::bigint[])
            """,
            ids,
        )
        if all(row["status"] == "signed" for row in rows):
            break
        await asyncio.sleep(0.1)
    assert sorted(row["status"] for row in rows) == ["signed"] * total, rows
    assert sorted(row["nonce"] for row in rows) == list(range(total))
    assert len({row["tx_hash"] for row in rows}) == total
    for row in rows:
        decoded = TypedTransaction.from_bytes(HexBytes(row["raw_transaction"])).as_dict()
        assert decoded["nonce"] == row["nonce"]
        # Without a node to read the chain's fees from, the configured maxima are the fees.
        assert (decoded["maxFeePerGas"], decoded["maxPriorityFeePerGas"]) == (
            settings.withdrawal_max_fee_per_gas_wei,
            settings.withdrawal_max_priority_fee_per_gas_wei,
        )
        assert Account.recover_transaction(row["raw_transaction"]) == HOT_ADDRESS
    assert await db.fetchval("SELECT next_nonce FROM wallet_nonces WHERE key_id = 'hot'") == total
    signers = await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'wallets.withdrawal.signed'")
    assert signers == total
