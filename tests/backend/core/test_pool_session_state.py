"""Pooled connections go back to the pool without `RESET ALL; UNLISTEN *; ...` (`core.db._keep_session`),
which is right only while no pooled work leaves session state behind. This scan of every SQL string in the
server refuses statements that would: a plain `SET`, session advisory locks, `LISTEN`, cursors `WITH HOLD`,
`PREPARE`. The engine lease, which runs on its own connection and never in the pool, is the one exception."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SERVER = Path(__file__).resolve().parents[3] / "server_fastapi"

SESSION_STATE = re.compile(
    r"(?:^|;)\s*SET\s+(?!LOCAL\b)(?!TRANSACTION\b)(?!CONSTRAINTS\b)\w+\s*(=|TO\b)"
    r"|\bpg_(try_)?advisory_lock(_shared)?\s*\("
    r"|\bLISTEN\s+\w"
    r"|\bWITH\s+HOLD\b"
    r"|\bPREPARE\s+\w+\s+(AS|\()",
    re.IGNORECASE,
)
ALLOWED = {("trading/repository.py", "try_engine_lease")}
"""(file, function) pairs that run only on a dedicated connection."""


def _sql_strings(path: Path) -> list[tuple[str, str]]:
    """(enclosing function, string) of every string constant in the module but docstrings and the like
    (strings standing alone as statements)."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((function, node.value))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "<module>")
    return found


def test_no_pooled_sql_leaves_session_state() -> None:
    offending = []
    scanned = 0
    for path in sorted(SERVER.rglob("*.py")):
        relative = path.relative_to(SERVER).as_posix()
        if relative.startswith("migrations/"):
            continue  # run by Alembic on its own connection, not from the pool
        for function, text in _sql_strings(path):
            scanned += 1
            if SESSION_STATE.search(text) and (relative, function) not in ALLOWED:
                offending.append(f"{relative}:{function}: {text.strip()[:80]!r}")
    assert scanned > 500
    assert offending == []


def test_the_scan_recognises_session_state() -> None:
    leaves_state = [
        "SET statement_timeout = '1s'",
        "set search_path to x",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_lock($1, hashtext($2))",
        "LISTEN tessera_engine",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        "PREPARE q AS SELECT 1",
    ]
    harmless = [
        "SET LOCAL lock_timeout = '5s'",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "SELECT pg_advisory_xact_lock(1)",
        "UPDATE orders SET status = 'canceled'",
        "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET n = excluded.n",
        "SELECT pg_notify('tessera_engine', $1)",
    ]
    assert all(SESSION_STATE.search(text) for text in leaves_state)
    assert not any(SESSION_STATE.search(text) for text in harmless)
