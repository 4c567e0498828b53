"""Withdrawals through the API on real PostgreSQL, the real signer binary and an eth-tester chain behind a
JSON-RPC server: request → review → signed → broadcast → confirmed, refusals that hold nothing, review rules,
and the hold going back on rejection or a failed broadcast."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_tester import EthereumTester, PyEVMBackend
from fastapi import FastAPI
from hexbytes import HexBytes
from signer_support import DENIED_ADDRESS, ETH_TESTER_CHAIN_ID, HOT_ADDRESS, ONE_ETHER, SignerProcess
from tests_support import announced, assert_problem, balance_news
from withdrawal_support import (
    FEE,
    EthTesterRpc,
    Trader,
    beneficiary,
    client_for,
    make_account,
    sign_in,
    withdrawal_settings,
)

from server_fastapi.app import create_app
from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings
from server_fastapi.wallets.evm import to_checksum_address
from server_fastapi.wallets.processor import WithdrawalProcessor

DESTINATION = to_checksum_address("0x" + "5a" * 20)
SANCTIONED = to_checksum_address("0x" + "66" * 20)


@pytest.fixture
def rpc(evm: EthereumTester) -> Iterator[EthTesterRpc]:
    with EthTesterRpc(evm) as server:
        yield server


@pytest.fixture
def settings(database_url: str, redis_url: str, signer_process: SignerProcess, rpc: EthTesterRpc) -> Settings:
    return withdrawal_settings(
        database_url, redis_url, signer_process.home, rpc.url, withdrawal_denied_addresses=[SANCTIONED]
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


def request_body(amount: str = "0.5", destination: str = DESTINATION, **changes: Any) -> dict[str, Any]:
    return {
        "asset": "ETH",
        "amount": amount,
        "chain_id": ETH_TESTER_CHAIN_ID,
        "destination": destination,
        "beneficiary": beneficiary(),
        **changes,
    }


async def eth_balance(db: asyncpg.Connection[Any], trader: Trader) -> tuple[Decimal, Decimal]:
    row = await db.fetchrow(
        """
        SELECT available, held FROM ledger_accounts WHERE owner_id = $1 AND asset = 'ETH' AND kind = 'user'
        """,
        trader.id,
    )
    return (row["available"], row["held"]) if row else (Decimal(0), Decimal(0))


async def actions(db: asyncpg.Connection[Any], withdrawal_id: int) -> list[str]:
    rows = await db.fetch(
        "SELECT action FROM audit_log WHERE subject = $1 ORDER BY id", f"withdrawal:{withdrawal_id}"
    )
    return [row["action"].removeprefix("wallets.withdrawal.") for row in rows]


async def process(app: FastAPI) -> int:
    changed: int = await app.state.withdrawals.process()
    return changed


async def officer_headers(client: httpx.AsyncClient, settings: Settings) -> dict[str, str]:
    return await sign_in(client, await make_account(settings, role=Role.COMPLIANCE, kyc=False))


async def test_a_withdrawal_is_reviewed_signed_broadcast_and_confirmed_on_chain(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    db: asyncpg.Connection[Any],
    evm: EthereumTester,
    rpc: EthTesterRpc,
) -> None:
    trader = await make_account(settings, eth=Decimal(2))
    headers = await sign_in(client, trader)
    officer = await officer_headers(client, settings)

    created = await client.post(
        "/api/v1/withdrawals", json=request_body("0.5", totp=trader.second_factor()), headers=headers
    )
    assert created.status_code == 201, created.text
    withdrawal = created.json()
    assert (withdrawal["status"], withdrawal["review_reasons"]) == ("pending_review", ["new_destination"])
    assert (withdrawal["amount"], withdrawal["fee"], withdrawal["destination"]) == (
        "0.5",
        "0.001",
        DESTINATION,
    )
    assert await eth_balance(db, trader) == (Decimal("1.499"), Decimal("0.501"))
    assert await process(app) == 0  # nothing is signed before compliance approves

    queue = await client.get("/api/v1/compliance/withdrawals?status=pending_review", headers=officer)
    assert [item["id"] for item in queue.json()["items"]] == [withdrawal["id"]]
    travel_rule = queue.json()["items"][0]["travel_rule"]
    person = travel_rule["beneficiary"]["beneficiaryPerson"][0]
    assert person["accountNumber"] == [DESTINATION]
    originator = travel_rule["originator"]["originatorPerson"][0]["naturalPerson"]
    assert originator["name"]["nameIdentifier"][0]["primaryIdentifier"] == "Lovelace"
    stored = await db.fetchval("SELECT travel_rule FROM withdrawals WHERE id = $1", withdrawal["id"])
    assert b"Lovelace" not in stored  # sealed under the trader's data key
    assert b"Hopper" not in stored

    approved = await client.post(
        f"/api/v1/compliance/withdrawals/{withdrawal['id']}/approve",
        json={"comment": "known"},
        headers=officer,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"

    destination_before = evm.get_balance(DESTINATION)
    news = balance_news(app)
    assert await process(app) == 3  # signed, broadcast, confirmed in one pass (eth-tester mines at once)
    assert announced(news) == [(trader.id, "ETH", Decimal("1.499"), Decimal(0))]  # the hold is gone, live
    done = (await client.get(f"/api/v1/withdrawals/{withdrawal['id']}", headers=headers)).json()
    assert done["status"] == "confirmed", done
    assert (done["nonce"], done["from_address"]) == (0, HOT_ADDRESS)

    raw = await db.fetchval("SELECT raw_transaction FROM withdrawals WHERE id = $1", withdrawal["id"])
    assert Account.recover_transaction(raw) == HOT_ADDRESS
    decoded = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    assert decoded["chainId"] == ETH_TESTER_CHAIN_ID
    assert decoded["nonce"] == 0
    assert decoded["value"] == ONE_ETHER // 2
    assert decoded["to"] == bytes.fromhex(DESTINATION[2:])
    assert evm.get_balance(DESTINATION) - destination_before == ONE_ETHER // 2
    receipt = evm.get_transaction_receipt(done["tx_hash"])
    assert receipt["status"] == 1
    assert {"eth_sendRawTransaction", "eth_getTransactionReceipt"} <= set(rpc.calls)

    assert await eth_balance(db, trader) == (Decimal("1.499"), Decimal(0))
    fees = await db.fetchval(
        """
        SELECT available FROM ledger_accounts WHERE owner_id IS NULL AND kind = 'fees' AND asset = 'ETH'
        """
    )
    assert fees == FEE
    assert await actions(db, withdrawal["id"]) == [
        "requested",
        "pending_review",
        "approved",
        "signed",
        "broadcast",
        "confirmed",
    ]

    # The destination is known now: the next small withdrawal to it needs no review, and takes nonce 1.
    again = await client.post(
        "/api/v1/withdrawals", json=request_body("0.25", totp=trader.second_factor()), headers=headers
    )
    assert (again.json()["status"], again.json()["review_reasons"]) == ("approved", [])
    assert await process(app) == 3
    second = (await client.get(f"/api/v1/withdrawals/{again.json()['id']}", headers=headers)).json()
    assert (second["status"], second["nonce"]) == ("confirmed", 1)
    assert evm.get_balance(DESTINATION) - destination_before == ONE_ETHER // 2 + ONE_ETHER // 4

    page = (await client.get("/api/v1/withdrawals?limit=1", headers=headers)).json()
    assert [item["id"] for item in page["items"]] == [again.json()["id"]]
    rest = (await client.get(f"/api/v1/withdrawals?cursor={page['next_cursor']}", headers=headers)).json()
    assert [item["id"] for item in rest["items"]] == [withdrawal["id"]]
    assert rest["next_cursor"] is None


async def test_refused_requests_are_problems_and_hold_nothing(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    trader = await make_account(settings, eth=Decimal(1))
    headers = await sign_in(client, trader)
    offered = await client.get("/api/v1/withdrawals/routes", headers=headers)
    assert offered.json() == [{"asset": "ETH", "chain_id": ETH_TESTER_CHAIN_ID, "fee": "0.001"}]

    code = trader.second_factor()  # refused requests leave it unused
    poor = await client.post(
        "/api/v1/withdrawals", json=request_body("1", totp=code), headers=headers
    )  # + fee
    assert_problem(poor, 409, "insufficient-funds")

    lower = DESTINATION.lower()
    mistyped = DESTINATION[:-1] + ("a" if DESTINATION[-1] != "a" else "b")
    for destination in (mistyped, lower, DESTINATION.swapcase().replace("0X", "0x")):
        bad = await client.post(
            "/api/v1/withdrawals", json=request_body(destination=destination, totp=code), headers=headers
        )
        body = assert_problem(bad, 422, "validation")
        assert [error["pointer"] for error in body["errors"]] == ["/destination"], body

    nameless = beneficiary()
    del nameless["naturalPerson"]["name"]["nameIdentifier"][0]["primaryIdentifier"]
    invalid = await client.post(
        "/api/v1/withdrawals", json=request_body(beneficiary=nameless, totp=code), headers=headers
    )
    body = assert_problem(invalid, 422, "validation")
    assert [error["pointer"] for error in body["errors"]] == [
        "/beneficiary/naturalPerson/name/nameIdentifier/0/primaryIdentifier"
    ], body
    both = await client.post(
        "/api/v1/withdrawals",
        json=request_body(beneficiary={**beneficiary(), "legalPerson": {"name": {}}}, totp=code),
        headers=headers,
    )
    assert_problem(both, 422, "validation")

    token = await client.post(
        "/api/v1/withdrawals", json=request_body(asset="USDT", totp=code), headers=headers
    )
    assert assert_problem(token, 422)["errors"][0]["pointer"] == "/asset"
    other_chain = await client.post(
        "/api/v1/withdrawals", json=request_body(chain_id=5, totp=code), headers=headers
    )
    assert assert_problem(other_chain, 422)["errors"][0]["pointer"] == "/chain_id"
    too_fine = await client.post(
        "/api/v1/withdrawals", json=request_body("0.0000000000000000001", totp=code), headers=headers
    )
    assert assert_problem(too_fine, 422)["errors"][0]["pointer"] == "/amount"

    no_kyc = await make_account(settings, kyc=False, eth=Decimal(1))
    unknown = await client.post(
        "/api/v1/withdrawals",
        json=request_body(totp=no_kyc.second_factor()),
        headers=await sign_in(client, no_kyc),
    )
    assert_problem(unknown, 404, "kyc-missing")

    # Two-factor: withdrawals need it enrolled, and a request without a code or with a wrong one fails.
    no_2fa = await make_account(settings, two_factor=False, eth=Decimal(1))
    unenrolled = await client.post(
        "/api/v1/withdrawals", json=request_body(), headers=await sign_in(client, no_2fa)
    )
    assert_problem(unenrolled, 403, "totp-not-enrolled")
    missing = await client.post("/api/v1/withdrawals", json=request_body(), headers=headers)
    assert_problem(missing, 403, "totp-required")
    wrong = await client.post("/api/v1/withdrawals", json=request_body(totp="00000-00000"), headers=headers)
    assert_problem(wrong, 403, "totp-invalid")

    assert await eth_balance(db, trader) == (Decimal(1), Decimal(0))
    assert await db.fetchval("SELECT count(*) FROM withdrawals") == 0
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action LIKE 'wallets.%'") == 0

    good = await client.post("/api/v1/withdrawals", json=request_body("0.5", totp=code), headers=headers)
    assert good.status_code == 201, good.text
    assert await eth_balance(db, trader) == (Decimal("0.499"), Decimal("0.501"))


async def test_each_review_rule_sends_a_withdrawal_to_review(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    trader = await make_account(settings, eth=Decimal(10))
    headers = await sign_in(client, trader)
    # A destination the trader withdrew to before (a confirmed withdrawal) is not new.
    await db.execute(
        """
        INSERT INTO withdrawals (user_id, asset, amount, fee, chain_id, destination, status, travel_rule,
                                 hot_key_id, nonce, raw_transaction, tx_hash)
        VALUES ($1, 'ETH', 1, 0, $2, $3, 'confirmed', '\\x00', 'hot', 99, '0x00', '0x00')
        """,
        trader.id,
        ETH_TESTER_CHAIN_ID,
        DESTINATION,
    )

    async def reasons(**body: Any) -> tuple[str, list[str]]:
        response = await client.post(
            "/api/v1/withdrawals", json=request_body(totp=trader.second_factor(), **body), headers=headers
        )
        assert response.status_code == 201, response.text
        return response.json()["status"], response.json()["review_reasons"]

    assert await reasons(amount="0.1") == ("approved", [])
    assert await reasons(amount="0.9") == ("pending_review", ["amount_threshold"])
    fresh = to_checksum_address("0x" + "77" * 20)
    assert await reasons(amount="0.1", destination=fresh) == ("pending_review", ["new_destination"])
    assert await reasons(amount="0.1", destination=SANCTIONED) == (
        "pending_review",
        ["new_destination", "sanctions_list"],
    )
    await db.execute(
        """
        INSERT INTO compliance_alerts (fingerprint, kind, symbol, accounts, severity, summary, evidence,
                                       window_start, window_end, detected_at)
        VALUES ('test', 'wash_trade', 'ETH-USDT', ARRAY[$1::uuid], 'high', 'test', '{}', now(), now(), now())
        """,
        trader.id,
    )
    assert await reasons(amount="0.1") == ("pending_review", ["open_alert"])

    queue = await client.get(
        "/api/v1/compliance/withdrawals?status=pending_review",
        headers=await officer_headers(client, settings),
    )
    assert len(queue.json()["items"]) == 4

    for path in (
        "/api/v1/compliance/withdrawals",
        "/api/v1/compliance/withdrawals/1/approve",
        "/api/v1/compliance/withdrawals/1/reject",
    ):
        method = client.get if path.endswith("withdrawals") else client.post
        kwargs: dict[str, Any] = {} if method == client.get else {"json": {"comment": "mine"}}
        assert_problem(await method(path, headers=headers, **kwargs), 403)


async def test_a_rejected_withdrawal_returns_the_funds(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    trader = await make_account(settings, eth=Decimal(1))
    headers = await sign_in(client, trader)
    officer = await officer_headers(client, settings)
    news = balance_news(app)
    created = (
        await client.post(
            "/api/v1/withdrawals", json=request_body("0.5", totp=trader.second_factor()), headers=headers
        )
    ).json()
    assert await eth_balance(db, trader) == (Decimal("0.499"), Decimal("0.501"))
    assert announced(news) == [(trader.id, "ETH", Decimal("0.499"), Decimal("0.501"))]

    rejected = await client.post(
        f"/api/v1/compliance/withdrawals/{created['id']}/reject",
        json={"comment": "unknown party"},
        headers=officer,
    )
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["review_comment"]) == ("rejected", "unknown party")
    assert await eth_balance(db, trader) == (Decimal(1), Decimal(0))
    assert announced(news) == [(trader.id, "ETH", Decimal(1), Decimal(0))]  # the trader sees it back
    assert await actions(db, created["id"]) == ["requested", "pending_review", "rejected"]
    assert await process(app) == 0

    again = await client.post(
        f"/api/v1/compliance/withdrawals/{created['id']}/approve",
        json={"comment": "changed mind"},
        headers=officer,
    )
    assert_problem(again, 409, "withdrawal-not-reviewable")
    assert await eth_balance(db, trader) == (Decimal(1), Decimal(0))


async def test_a_broadcast_the_node_refuses_fails_and_releases_the_hold(
    database_url: str,
    redis_url: str,
    signer_process: SignerProcess,
    db: asyncpg.Connection[Any],
) -> None:
    unfunded = EthereumTester(PyEVMBackend())  # the hot wallet has nothing on this chain
    with EthTesterRpc(unfunded) as rpc:
        settings = withdrawal_settings(database_url, redis_url, signer_process.home, rpc.url)
        app = create_app(settings)
        async with app.router.lifespan_context(app), client_for(app) as client:
            trader = await make_account(settings, eth=Decimal(1))
            headers = await sign_in(client, trader)
            officer = await officer_headers(client, settings)
            created = (
                await client.post(
                    "/api/v1/withdrawals",
                    json=request_body("0.5", totp=trader.second_factor()),
                    headers=headers,
                )
            ).json()
            await client.post(
                f"/api/v1/compliance/withdrawals/{created['id']}/approve",
                json={"comment": "ok"},
                headers=officer,
            )
            news = balance_news(app)
            assert await process(app) == 2  # signed, then failed at broadcast
            assert announced(news) == [(trader.id, "ETH", Decimal(1), Decimal(0))]
            failed = (await client.get(f"/api/v1/withdrawals/{created['id']}", headers=headers)).json()
    assert failed["status"] == "failed"
    assert failed["failure_reason"].startswith("broadcast refused"), failed
    assert await eth_balance(db, trader) == (Decimal(1), Decimal(0))
    assert await actions(db, created["id"]) == ["requested", "pending_review", "approved", "signed", "failed"]
    # The node never took the transaction: its nonce is handed out again.
    assert await db.fetchval("SELECT next_nonce FROM wallet_nonces WHERE key_id = 'hot'") == 0


async def test_after_a_refused_broadcast_later_withdrawals_are_signed_again_without_a_nonce_gap(
    database_url: str,
    redis_url: str,
    signer_process: SignerProcess,
    db: asyncpg.Connection[Any],
) -> None:
    chain = EthereumTester(PyEVMBackend())
    chain.send_transaction(  # enough for the small withdrawal, not for the large one
        {
            "from": chain.get_accounts()[0],
            "to": HOT_ADDRESS,
            "value": 6 * ONE_ETHER // 10,
            "gas": 21_000,
            "gas_price": 10**10,
        }
    )
    with EthTesterRpc(chain) as rpc:
        settings = withdrawal_settings(database_url, redis_url, signer_process.home, rpc.url)
        app = create_app(settings)
        async with app.router.lifespan_context(app), client_for(app) as client:
            trader = await make_account(settings, eth=Decimal(2))
            large = await approved_withdrawal(client, settings, trader, DESTINATION, "0.9")
            small = await approved_withdrawal(client, settings, trader, DESTINATION, "0.2")

            assert await process(app) == 3  # both signed (nonces 0 and 1), the large one refused
            first_pass = await db.fetch("SELECT id, status, nonce FROM withdrawals ORDER BY id")
            assert [(r["status"], r["nonce"]) for r in first_pass] == [("failed", 0), ("approved", None)]

            assert await process(app) == 3  # the small one signed with nonce 0, broadcast, confirmed
    row = await db.fetchrow("SELECT status, nonce, tx_hash FROM withdrawals WHERE id = $1", small)
    assert (row["status"], row["nonce"]) == ("confirmed", 0)
    assert chain.get_transaction_by_hash(row["tx_hash"])["nonce"] == 0
    assert chain.get_nonce(HOT_ADDRESS) == 1
    assert await db.fetchval("SELECT next_nonce FROM wallet_nonces WHERE key_id = 'hot'") == 1
    assert await actions(db, small) == [
        "requested",
        "pending_review",
        "approved",
        "signed",
        "unsigned",
        "signed",
        "broadcast",
        "confirmed",
    ]
    assert await actions(db, large) == ["requested", "pending_review", "approved", "signed", "failed"]
    # Only the small withdrawal and its fee left the trader's account.
    assert await eth_balance(db, trader) == (Decimal(2) - Decimal("0.2") - FEE, Decimal(0))


async def approved_withdrawal(
    client: httpx.AsyncClient, settings: Settings, trader: Trader, destination: str, amount: str = "0.5"
) -> int:
    headers = await sign_in(client, trader)
    created = await client.post(
        "/api/v1/withdrawals",
        json=request_body(amount, destination=destination, totp=trader.second_factor()),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    withdrawal_id: int = created.json()["id"]
    approved = await client.post(
        f"/api/v1/compliance/withdrawals/{withdrawal_id}/approve",
        json={"comment": "ok"},
        headers=await officer_headers(client, settings),
    )
    assert approved.status_code == 200, approved.text
    return withdrawal_id


async def test_a_signed_withdrawal_waits_while_an_earlier_nonce_is_being_broadcast(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    db: asyncpg.Connection[Any],
    evm: EthereumTester,
) -> None:
    trader = await make_account(settings, eth=Decimal(2))
    first = await approved_withdrawal(client, settings, trader, DESTINATION)
    second = await approved_withdrawal(client, settings, trader, DESTINATION)
    processor = app.state.withdrawals
    assert await processor.sign_approved() == 2

    async with db.transaction():  # another process is working on nonce 0
        await db.execute("SELECT id FROM withdrawals WHERE id = $1 FOR UPDATE", first)
        assert await processor.broadcast_signed(processor.rpc) == 0
    assert evm.get_nonce(HOT_ADDRESS) == 0

    assert await processor.broadcast_signed(processor.rpc) == 2
    statuses = await db.fetch(
        "SELECT status, nonce FROM withdrawals WHERE id = ANY($1) ORDER BY nonce", [first, second]
    )
    assert [(r["status"], r["nonce"]) for r in statuses] == [("broadcast", 0), ("broadcast", 1)]
    assert evm.get_nonce(HOT_ADDRESS) == 2


async def test_a_transaction_that_fails_on_chain_releases_the_hold(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    db: asyncpg.Connection[Any],
    evm: EthereumTester,
) -> None:
    # A contract whose code reverts whatever it receives: PUSH1 0 PUSH1 0 REVERT.
    init_code = "0x6460006000fd6000526005601bf3"  # returns the 5 bytes above as the runtime code
    deploy = evm.send_transaction(
        {"from": evm.get_accounts()[0], "data": init_code, "gas": 100_000, "gas_price": 10**10}
    )
    contract = to_checksum_address(evm.get_transaction_receipt(deploy)["contract_address"])
    assert evm.get_code(contract) == "0x60006000fd"
    trader = await make_account(settings, eth=Decimal(1))
    withdrawal_id = await approved_withdrawal(client, settings, trader, contract)

    assert await process(app) == 3  # signed, broadcast, failed
    row = await db.fetchrow(
        "SELECT status, failure_reason, tx_hash FROM withdrawals WHERE id = $1", withdrawal_id
    )
    assert row["status"] == "failed"
    assert row["failure_reason"].startswith("transaction reverted in block"), row
    assert evm.get_transaction_receipt(row["tx_hash"])["status"] == 0
    assert await eth_balance(db, trader) == (Decimal(1), Decimal(0))
    assert await actions(db, withdrawal_id) == [
        "requested",
        "pending_review",
        "approved",
        "signed",
        "broadcast",
        "failed",
    ]


async def test_a_signer_policy_refusal_fails_the_withdrawal_without_using_a_nonce(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    trader = await make_account(settings, eth=Decimal(1))
    withdrawal_id = await approved_withdrawal(client, settings, trader, to_checksum_address(DENIED_ADDRESS))

    assert await process(app) == 1
    row = await db.fetchrow(
        "SELECT status, failure_reason, nonce FROM withdrawals WHERE id = $1", withdrawal_id
    )
    assert (row["status"], row["failure_reason"], row["nonce"]) == (
        "failed",
        "signer policy refused: destination_denied",
        None,
    )
    assert await eth_balance(db, trader) == (Decimal(1), Decimal(0))
    assert await db.fetchval("SELECT next_nonce FROM wallet_nonces WHERE key_id = 'hot'") == 0


async def test_withdrawals_are_signed_with_the_fees_the_chain_charges_within_the_caps(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    db: asyncpg.Connection[Any],
    evm: EthereumTester,
    rpc: EthTesterRpc,
) -> None:
    trader = await make_account(settings, eth=Decimal(1))
    withdrawal_id = await approved_withdrawal(client, settings, trader, DESTINATION)
    # The chain so far: the funding transaction paid a 9 gwei tip (a 10 gwei gas price over a 1 gwei base
    # fee), far above the 2 gwei tip cap; the next block's base fee has fallen below 1 gwei.
    next_base_fee = evm.get_block_by_number("pending")["base_fee_per_gas"]
    assert next_base_fee < 10**9
    assert settings.withdrawal_max_priority_fee_per_gas_wei == 2 * 10**9

    assert await process(app) == 3
    raw = await db.fetchval("SELECT raw_transaction FROM withdrawals WHERE id = $1", withdrawal_id)
    decoded = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    assert decoded["maxPriorityFeePerGas"] == 2 * 10**9
    assert decoded["maxFeePerGas"] == 2 * next_base_fee + 2 * 10**9  # well below the 50 gwei cap
    assert "eth_feeHistory" in rpc.calls
    status = await db.fetchval("SELECT status FROM withdrawals WHERE id = $1", withdrawal_id)
    assert status == "confirmed"


async def test_while_the_chain_costs_more_than_the_cap_approved_withdrawals_wait(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    db: asyncpg.Connection[Any],
    evm: EthereumTester,
    rpc: EthTesterRpc,
    caplog: pytest.LogCaptureFixture,
) -> None:
    trader = await make_account(settings, eth=Decimal(1))
    withdrawal_id = await approved_withdrawal(client, settings, trader, DESTINATION)
    processor = app.state.withdrawals
    frugal = WithdrawalProcessor(
        processor.pool,
        processor.bus,
        settings.model_copy(
            update={"withdrawal_max_fee_per_gas_wei": 5 * 10**8, "withdrawal_max_priority_fee_per_gas_wei": 0}
        ),
        processor.signer,
        processor.rpc,
    )
    assert evm.get_block_by_number("pending")["base_fee_per_gas"] > 5 * 10**8

    with caplog.at_level(logging.WARNING, logger="server_fastapi.wallets.processor"):
        assert await frugal.process() == 0
    assert "eth_feeHistory" in rpc.calls
    assert any("above the cap" in str(getattr(r, "error", "")) for r in caplog.records), caplog.records
    row = await db.fetchrow(
        "SELECT status, nonce, raw_transaction FROM withdrawals WHERE id = $1", withdrawal_id
    )
    assert (row["status"], row["nonce"], row["raw_transaction"]) == ("approved", None, None)
    assert await db.fetchval("SELECT count(*) FROM wallet_nonces") == 0  # no nonce handed out
    assert evm.get_nonce(HOT_ADDRESS) == 0
    assert await eth_balance(db, trader) == (Decimal("0.499"), Decimal("0.501"))  # still held

    assert await process(app) == 3  # the operator's own caps allow the chain's fees
    done = await db.fetchrow("SELECT status, nonce FROM withdrawals WHERE id = $1", withdrawal_id)
    assert (done["status"], done["nonce"]) == ("confirmed", 0)
