"""Demo accounts for `just dev`: two traders, a compliance officer and an administrator.

`python -m server_fastapi.auth.demo` creates them if missing and prints their sign-in details. Both this
and the API's dev start-up refuse to run outside dev: these passwords are public.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from server_fastapi.auth import service
from server_fastapi.auth.repository import user_by_email
from server_fastapi.core.db import Connection, connect
from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    display_name: str
    role: Role


DEMO_ACCOUNTS = (
    DemoAccount("ada@demo.tessera.test", "Tessera-demo-pass-1", "Ada (trader)", Role.TRADER),
    DemoAccount("ben@demo.tessera.test", "Tessera-demo-pass-2", "Ben (trader)", Role.TRADER),
    DemoAccount("cleo@demo.tessera.test", "Tessera-demo-pass-3", "Cleo (compliance)", Role.COMPLIANCE),
    DemoAccount("dev@demo.tessera.test", "Tessera-demo-pass-4", "Dev (admin)", Role.ADMIN),
)


async def ensure_demo_accounts(conn: Connection, settings: Settings) -> int:
    """Create the missing demo accounts; returns how many were created."""
    if not settings.is_dev:
        raise RuntimeError("demo accounts exist only in dev (TESSERA_ENV=dev)")
    created = 0
    for account in DEMO_ACCOUNTS:
        async with conn.transaction():
            if await user_by_email(conn, account.email) is not None:
                continue
            try:
                await service.create_user(
                    conn,
                    settings,
                    email=account.email,
                    password=account.password,
                    display_name=account.display_name,
                    role=account.role,
                )
            except service.EmailTaken:
                continue  # another process created it meanwhile
            created += 1
    return created


def render(accounts: tuple[DemoAccount, ...] = DEMO_ACCOUNTS) -> str:
    width = max(len(a.email) for a in accounts)
    lines = ["  Demo accounts (dev only):"]
    lines += [f"    {a.role.value:<11} {a.email:<{width}}  {a.password}" for a in accounts]
    return "\n".join(lines) + "\n"


async def _main() -> int:
    settings = Settings()
    if not settings.is_dev:
        print("demo accounts exist only in dev (TESSERA_ENV=dev)", file=sys.stderr)  # noqa: T201
        return 1
    conn = await connect(settings.database_url.get_secret_value())
    try:
        await ensure_demo_accounts(conn, settings)
    finally:
        await conn.close()
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(_main()))
