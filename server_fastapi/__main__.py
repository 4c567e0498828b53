"""Tessera's command line: `python -m server_fastapi <command>`."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path

from server_fastapi.core.settings import ROOT, Environment, Settings
from server_fastapi.markets import cli as markets_cli

OPENAPI_PATH = ROOT / "server_fastapi" / "openapi.json"


def _serve(settings: Settings, *, reload: bool) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    server = Granian(
        "server_fastapi.app:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=settings.host,
        port=settings.port,
        workers=1 if reload else settings.workers,
        reload=reload,
        reload_paths=[ROOT / "server_fastapi"] if reload else None,
        respawn_failed_workers=not reload,
        log_access=False,
    )
    server.serve()


def export_openapi() -> str:
    """The production app's contract (no dev-only routes), as committed in `server_fastapi/openapi.json`."""
    from server_fastapi.app import create_app

    settings = Settings(
        env=Environment.PRODUCTION,
        secret_key="x" * 32,
        database_url="postgresql://export:unused@localhost/unused",
        kyc_master_key=base64.b64encode(os.urandom(32)).decode(),
    )
    return json.dumps(create_app(settings).openapi(), indent=2, sort_keys=False) + "\n"


def _audit_verify(settings: Settings) -> int:
    import asyncio

    from server_fastapi.compliance.service import verify_audit_chain
    from server_fastapi.core.db import connect

    async def run() -> int:
        conn = await connect(settings.database_url.get_secret_value())
        try:
            report = await verify_audit_chain(conn)
        finally:
            await conn.close()
        sys.stdout.write(report.model_dump_json(exclude_none=True) + "\n")
        return 0 if report.intact else 1

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server_fastapi", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the API under Granian with TESSERA_WORKERS workers")
    commands.add_parser("dev", help="run the API under Granian with reload, one worker")
    commands.add_parser("migrate", help="apply Alembic migrations up to head")
    markets_cli.add_parser(commands)
    commands.add_parser(
        "market-maker",
        help="run the market-maker bot against TESSERA_API_URL (MARKET_MAKER_EMAIL, MARKET_MAKER_PASSWORD, "
        "MARKET_MAKER_SEED, MARKET_MAKER_SYMBOLS, MARKET_MAKER_INTERVAL_SECONDS)",
    )
    commands.add_parser(
        "audit-verify", help="recompute the audit log's hash chain; exit status 1 when a link is broken"
    )
    openapi = commands.add_parser("openapi", help="write the OpenAPI contract")
    openapi.add_argument("--output", type=Path, default=OPENAPI_PATH, help="file to write, '-' for stdout")
    args = parser.parse_args(argv)

    if args.command in ("serve", "dev"):
        _serve(Settings(), reload=args.command == "dev")
    elif args.command == "import-trades":
        return markets_cli.run(args)
    elif args.command == "market-maker":
        from server_fastapi.trading import market_maker

        return market_maker.main()
    elif args.command == "migrate":
        from server_fastapi.migrations import upgrade

        upgrade(Settings().database_url.get_secret_value())
    elif args.command == "audit-verify":
        return _audit_verify(Settings())
    elif args.command == "openapi":
        text = export_openapi()
        if str(args.output) == "-":
            sys.stdout.write(text)
        else:
            args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
