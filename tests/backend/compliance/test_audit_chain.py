"""The audit log's hash chain: Python and SQL serialise entries byte for byte alike, the chain stays linear
under concurrent writers, the database refuses UPDATE/DELETE/TRUNCATE, and verification finds what a
superuser changed behind the triggers at the right entry (API and CLI)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from compliance_support import FAST_ARGON2, client_for, make_account, sign_in
from fastapi import FastAPI
from tests_support import assert_problem, make_settings

from server_fastapi.__main__ import main as cli
from server_fastapi.compliance.audit_chain import AuditRow, canonical, entry_hash
from server_fastapi.compliance.service import verify_audit_chain
from server_fastapi.core.audit import record_audit
from server_fastapi.core.db import connect
from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings
from server_fastapi.migrations import downgrade, upgrade


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url, **FAST_ARGON2)


DETAILS: list[Any] = [
    {},
    {"a": 1},
    {"bb": 1, "a": 2, "ccc": [3, 2, 1], "aa": None, "ab": True, "b": False},
    {"amount": 1.5, "fee": 0.0001, "big": 12345678901234567890, "neg": -3, "exp": 1e20, "tiny": 2.5e-7},
    {"text": 'quote " backslash \\ slash / tab \t newline \n bell \x07 del \x7f'},
    {"unicode": "Zoë — Δ 東京 😀", "é": "accent key", "z": "ascii key"},
    {"nested": {"deeper": {"list": [{"k": "v"}, [], {}], "n": 0}}, "x": [1.0, 1.10, 100]},
    ["not", "an", "object"],
]
RAW_DETAILS = ['{"price": 1.50, "qty": 10.000, "zero": -0, "e": 1E+3}']


async def test_python_and_sql_serialise_entries_byte_for_byte_alike(db: asyncpg.Connection[Any]) -> None:
    actor = uuid.uuid4()
    for index, details in enumerate([json.dumps(d) for d in DETAILS] + RAW_DETAILS):
        await db.execute(
            """
            INSERT INTO audit_log (actor_id, action, subject, ip, request_id, details)
            VALUES ($1, $2, $3, $4::inet, $5, $6::jsonb)
            """,
            actor if index % 2 else None,
            f"test.case.{index}",
            None if index % 3 == 0 else f"thing:{index}",
            ["203.0.113.7", "2001:db8::1", None, "10.1.2.0/24"][index % 4],
            None if index % 2 else f"req-{index}",
            details,
        )
    rows = await db.fetch(
        """
        SELECT id, occurred_at, actor_id::text AS actor_id, action, subject, ip::text AS ip, request_id,
               details::text AS details_json, prev_hash, hash,
               audit_entry_canonical(id, occurred_at, actor_id, action, subject, ip, request_id, details,
                                     prev_hash) AS sql_canonical
          FROM audit_log ORDER BY id
        """
    )
    assert len(rows) == len(DETAILS) + len(RAW_DETAILS)
    for record in rows:
        row = AuditRow(**{key: value for key, value in dict(record).items() if key != "sql_canonical"})
        python_text = canonical(
            entry_id=row.id,
            occurred_at=row.occurred_at,
            actor_id=row.actor_id,
            action=row.action,
            subject=row.subject,
            ip=row.ip,
            request_id=row.request_id,
            details=json.loads(row.details_json, parse_float=Decimal),
            prev_hash=row.prev_hash,
        )
        assert python_text.encode() == record["sql_canonical"].encode()
        assert hashlib.sha256(python_text.encode()).hexdigest() == row.hash
        assert entry_hash(row, row.prev_hash) == row.hash


async def test_concurrent_writers_build_one_linear_chain(database_url: str) -> None:
    async def writer(number: int) -> None:
        conn = await connect(database_url)
        try:
            for step in range(10):
                async with conn.transaction():
                    await record_audit(conn, actor_id=None, action="test.concurrent", details={"w": number})
                    await asyncio.sleep(0)
                    if step == 5:
                        await record_audit(
                            conn, actor_id=None, action="test.concurrent", details={"again": 1}
                        )
        finally:
            await conn.close()

    await asyncio.gather(*(writer(number) for number in range(4)))
    conn = await connect(database_url)
    try:
        rows = await conn.fetch("SELECT id, prev_hash, hash FROM audit_log ORDER BY id")
        assert len(rows) == 44
        for previous, current in itertools.pairwise(rows):
            assert current["prev_hash"] == previous["hash"]
            assert current["id"] == previous["id"] + 1
        report = await verify_audit_chain(conn)
    finally:
        await conn.close()
    assert report.intact
    assert report.entries == 44
    assert report.first_broken_id is None


async def test_a_rolled_back_entry_leaves_no_hole_in_the_chain(
    db: asyncpg.Connection[Any], database_url: str
) -> None:
    await db.execute("INSERT INTO audit_log (action) VALUES ('test.kept')")
    transaction = db.transaction()
    await transaction.start()
    await db.execute("INSERT INTO audit_log (action) VALUES ('test.rolled_back')")
    await transaction.rollback()
    await db.execute("INSERT INTO audit_log (action) VALUES ('test.kept')")
    conn = await connect(database_url)
    try:
        report = await verify_audit_chain(conn)
    finally:
        await conn.close()
    assert report.intact
    assert report.entries == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'rewritten'",
        "UPDATE audit_log SET details = '{}'::jsonb WHERE id = 1",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE id = 1",
        "TRUNCATE audit_log",
    ],
)
async def test_the_database_refuses_to_change_or_remove_entries(
    db: asyncpg.Connection[Any], statement: str
) -> None:
    await db.execute("INSERT INTO audit_log (action, details) VALUES ('test.original', '{\"n\": 1}')")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.execute(statement)
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'test.original'") == 1


async def test_privileges_refuse_other_roles(db: asyncpg.Connection[Any]) -> None:
    grants = await db.fetch(
        """
        SELECT privilege_type FROM information_schema.role_table_grants
         WHERE table_name = 'audit_log' AND grantee = 'PUBLIC'
        """
    )
    assert {row["privilege_type"] for row in grants}.isdisjoint({"UPDATE", "DELETE", "TRUNCATE"})


async def _seed(conn: asyncpg.Connection[Any], count: int) -> list[int]:
    ids = []
    for number in range(count):
        ids.append(
            await conn.fetchval(
                "INSERT INTO audit_log (action, details) VALUES ('test.seed', $1::jsonb) RETURNING id",
                json.dumps({"n": number}),
            )
        )
    return ids


async def _as_superuser(conn: asyncpg.Connection[Any], statement: str, *args: Any) -> None:
    """What someone with the cluster owner's powers can do: switch the triggers off and write."""
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(statement, *args)


async def test_verify_finds_an_altered_entry_at_its_position(
    db: asyncpg.Connection[Any], database_url: str
) -> None:
    ids = await _seed(db, 8)
    conn = await connect(database_url)
    try:
        assert (await verify_audit_chain(conn)).intact
        await _as_superuser(db, "UPDATE audit_log SET details = '{\"n\": 99}'::jsonb WHERE id = $1", ids[4])
        report = await verify_audit_chain(conn)
    finally:
        await conn.close()
    assert not report.intact
    assert report.first_broken_id == ids[4]
    assert report.entries == 8
    assert report.reason is not None
    assert "altered" in report.reason


async def test_verify_finds_an_entry_altered_with_its_hash_recomputed(
    db: asyncpg.Connection[Any], database_url: str
) -> None:
    ids = await _seed(db, 6)
    await _as_superuser(
        db,
        """
        UPDATE audit_log SET action = 'test.forged',
               hash = audit_entry_hash(id, occurred_at, actor_id, 'test.forged', subject, ip, request_id,
                                       details, prev_hash)
         WHERE id = $1
        """,
        ids[2],
    )
    conn = await connect(database_url)
    try:
        report = await verify_audit_chain(conn)
    finally:
        await conn.close()
    # The forged entry hashes right; the next one no longer links to it.
    assert not report.intact
    assert report.first_broken_id == ids[3]
    assert report.reason is not None
    assert "prev_hash" in report.reason


async def test_verify_finds_removed_entries_in_the_middle_and_at_the_end(
    db: asyncpg.Connection[Any], database_url: str
) -> None:
    ids = await _seed(db, 6)
    conn = await connect(database_url)
    try:
        await _as_superuser(db, "DELETE FROM audit_log WHERE id = $1", ids[2])
        middle = await verify_audit_chain(conn)
        await _as_superuser(db, "DELETE FROM audit_log WHERE id >= $1", ids[2])
        end = await verify_audit_chain(conn)
    finally:
        await conn.close()
    assert not middle.intact
    assert middle.first_broken_id == ids[3]
    assert not end.intact
    assert end.first_broken_id == ids[5]
    assert end.reason is not None
    assert "head" in end.reason


async def test_verify_api_is_for_compliance_officers(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    officer = await make_account(settings, role=Role.COMPLIANCE)
    trader = await make_account(settings)
    async with client_for(app) as client:
        assert_problem(await client.get("/api/v1/audit/verify"), 401)
        trader_headers = await sign_in(client, trader.email)
        assert_problem(await client.get("/api/v1/audit/verify", headers=trader_headers), 403)
        headers = await sign_in(client, officer.email)
        response = await client.get("/api/v1/audit/verify", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["intact"] is True
        assert body["entries"] >= 4
        assert body["first_broken_id"] is None

        conn = await asyncpg.connect(database_url)
        try:
            victim = await conn.fetchval(
                "SELECT min(id) FROM audit_log WHERE action = 'auth.login.succeeded'"
            )
            assert victim is not None
            await _as_superuser(conn, "UPDATE audit_log SET ip = '198.51.100.1' WHERE id = $1", victim)
        finally:
            await conn.close()
        broken = (await client.get("/api/v1/audit/verify", headers=headers)).json()
    assert broken["intact"] is False
    assert broken["first_broken_id"] == victim


async def test_cli_reports_the_chain_and_exits_nonzero_when_broken(
    db: asyncpg.Connection[Any],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = await _seed(db, 3)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert await asyncio.to_thread(cli, ["audit-verify"]) == 0
    assert json.loads(capsys.readouterr().out) == {"intact": True, "entries": 3}
    await _as_superuser(db, "UPDATE audit_log SET subject = 'x' WHERE id = $1", ids[1])
    assert await asyncio.to_thread(cli, ["audit-verify"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["intact"] is False
    assert report["first_broken_id"] == ids[1]


async def test_the_migration_chains_entries_written_before_it(database_url: str) -> None:
    await asyncio.to_thread(downgrade, database_url, "0004")
    conn = await asyncpg.connect(database_url)
    try:
        for number in range(5):
            await conn.execute(
                "INSERT INTO audit_log (action, ip, details) VALUES ('test.old', '192.0.2.1', $1::jsonb)",
                json.dumps({"n": number, "name": "ünïcode"}),
            )
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, database_url)
    conn = await connect(database_url)
    try:
        await record_audit(conn, actor_id=None, action="test.new")
        report = await verify_audit_chain(conn)
        new_id = await conn.fetchval("SELECT id FROM audit_log WHERE action = 'test.new'")
    finally:
        await conn.close()
    assert report.intact
    assert report.entries == 6
    assert new_id == 6
