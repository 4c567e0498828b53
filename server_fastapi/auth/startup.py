"""What the auth domain needs when the API starts: signing keys (fail fast without them) and, in dev
only, the demo accounts."""

from __future__ import annotations

import logging

from server_fastapi.auth.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from server_fastapi.auth.tokens import load_keyring
from server_fastapi.core.db import acquire
from server_fastapi.core.settings import Environment
from server_fastapi.core.state import AppState

logger = logging.getLogger(__name__)


async def start_auth(state: AppState) -> None:
    settings = state.settings
    keyring = load_keyring(settings, generate=settings.env is not Environment.PRODUCTION)
    logger.info(
        "jwt keys loaded", extra={"signing_kid": keyring.signing_kid, "keys": len(keyring.private_keys)}
    )
    if not settings.is_dev:
        return
    try:
        async with acquire(state.pool) as connection:
            created = await ensure_demo_accounts(connection, settings)
    except Exception as error:  # dev convenience only: a missing database must not stop the API starting
        logger.warning("demo accounts not created", extra={"error_type": type(error).__name__})
        return
    logger.info(
        "demo accounts ready (python -m server_fastapi.auth.demo prints their sign-in details)",
        extra={"accounts": [account.email for account in DEMO_ACCOUNTS], "new_accounts": created},
    )
