"""The ledger: every movement of money is a balanced double entry, written in the caller's transaction.

Other domains call these functions with the connection of their unit of work (order entry holds funds,
the engine runner settles trades, withdrawals hold and settle); none of them commits. Whoever moves a
trader's money outside trading announces it with `announce_balances`, so the trader's open apps (the
`balances` channel) show it once it has committed; the engine runner publishes its own in its batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from http import HTTPStatus
from uuid import UUID

import asyncpg

from server_fastapi.core.audit import record_audit
from server_fastapi.core.bus import EventBus
from server_fastapi.core.db import Connection, Pool, acquire, after_commit
from server_fastapi.core.problems import Conflict, FieldError, InvalidInput, TesseraError
from server_fastapi.ledger import repository
from server_fastapi.ledger.events import BalanceChanged, balances_channel
from server_fastapi.ledger.repository import EntryDraft, Posting
from server_fastapi.ledger.schemas import Balance, Deposit, DepositReceipt

__all__ = [
    "EntryDraft",
    "InsufficientFunds",
    "Posting",
    "announce_balances",
    "balances",
    "credit",
    "deposit",
    "fees_account",
    "hold",
    "post_entries",
    "release",
    "settle_withdrawal",
    "user_accounts",
]


class InsufficientFunds(TesseraError):
    """The available balance does not cover the amount: a conflict with the account's state, not bad input."""

    status, slug, title = HTTPStatus.CONFLICT, "insufficient-funds", "Insufficient Funds"


class DepositReferenceUsed(TesseraError):
    """The external reference was credited before, to another account, asset or amount."""

    status, slug, title = HTTPStatus.CONFLICT, "deposit-reference-used", "Deposit Reference Used"


async def balances(conn: Connection, user_id: UUID) -> list[Balance]:
    return [Balance(**dict(row)) for row in await repository.balances(conn, user_id)]


def announce_balances(conn: Connection, bus: EventBus, user_id: UUID, assets: Iterable[str]) -> None:
    """Once the transaction `conn` is in commits, publish the user's balances in `assets` as committed
    then (read afresh, so several moves in one transaction announce their end result once)."""
    wanted = set(assets)

    async def publish(pool: Pool) -> None:
        async with acquire(pool) as reader:
            rows = await repository.balances(reader, user_id)
        channel = balances_channel(bus)
        for row in rows:
            if row["asset"] in wanted:
                await channel.publish(
                    BalanceChanged(
                        user_id=user_id, asset=row["asset"], available=row["available"], held=row["held"]
                    )
                )

    after_commit(conn, publish)


async def credit(
    conn: Connection, user_id: UUID, asset: str, amount: Decimal, *, kind: str, reference: str
) -> Balance:
    """Money coming in from outside (deposit, faucet): external account → the user's available."""
    if amount <= 0:
        raise InvalidInput(
            "The amount must be positive.",
            errors=[
                FieldError(location="body", pointer="/amount", detail="must be > 0", code="not_positive")
            ],
        )
    try:
        external = await repository.system_account(conn, asset, "external")
    except asyncpg.ForeignKeyViolationError:
        raise InvalidInput(
            f"Unknown asset {asset}.",
            errors=[
                FieldError(location="body", pointer="/asset", detail="unknown asset", code="unknown_asset")
            ],
        ) from None
    account = await repository.user_account(conn, user_id, asset)
    await repository.insert_entries(
        conn,
        [
            EntryDraft(
                kind,
                reference,
                [
                    Posting(external, "available", asset, -amount),
                    Posting(account, "available", asset, amount),
                ],
            )
        ],
    )
    rows = await repository.balances_of(conn, [account])
    return Balance(**{key: rows[0][key] for key in ("asset", "available", "held")})


async def deposit(
    conn: Connection, bus: EventBus, *, admin_id: UUID, body: Deposit, ip: str | None
) -> DepositReceipt:
    """Credit funds received outside Tessera, once per external reference (audited, announced to the
    trader). A retry with the same reference, account, asset and amount credits nothing and returns the
    balance; the same reference for anything else is a conflict."""
    earlier = await repository.deposit_by_reference(conn, body.reference)
    if earlier is not None:
        if (earlier["owner_id"], earlier["asset"], earlier["amount"]) != (
            body.user_id,
            body.asset,
            body.amount,
        ):
            raise DepositReferenceUsed(
                f"Reference {body.reference!r} was credited on {earlier['created_at']:%Y-%m-%d %H:%M} UTC "
                "to another account, asset or amount.",
                reference=body.reference,
                entry_id=earlier["id"],
            )
        current = next(b for b in await balances(conn, body.user_id) if b.asset == body.asset)
        return DepositReceipt(**current.model_dump(), reference=body.reference, credited=False)
    try:
        balance = await credit(
            conn, body.user_id, body.asset, body.amount, kind="deposit", reference=body.reference
        )
    except asyncpg.ForeignKeyViolationError as error:
        if error.constraint_name != "ledger_accounts_owner_id_fkey":
            raise
        raise InvalidInput(
            f"No account {body.user_id}.",
            errors=[
                FieldError(
                    location="body", pointer="/user_id", detail="no such account", code="unknown_account"
                )
            ],
        ) from None
    except asyncpg.UniqueViolationError:
        raise Conflict(
            f"A deposit with reference {body.reference!r} is being credited now; retry to see its outcome.",
            reference=body.reference,
        ) from None
    announce_balances(conn, bus, body.user_id, [body.asset])
    await record_audit(
        conn,
        actor_id=admin_id,
        action="ledger.deposit",
        subject=f"user:{body.user_id}",
        details={"asset": body.asset, "amount": f"{body.amount:f}", "reference": body.reference},
        ip=ip,
    )
    return DepositReceipt(**balance.model_dump(), reference=body.reference, credited=True)


async def hold(conn: Connection, user_id: UUID, asset: str, amount: Decimal, reference: str) -> None:
    """Reserve `amount`: available → held, or InsufficientFunds with nothing written."""
    moved = await repository.move_own_funds(
        conn, user_id, asset, amount, kind="hold", reference=reference, to_held=True
    )
    if not moved:
        raise InsufficientFunds(
            f"The available {asset} balance does not cover {amount:f} {asset}.",
            asset=asset,
            required=f"{amount:f}",
        )


async def release(conn: Connection, user_id: UUID, asset: str, amount: Decimal, reference: str) -> None:
    """Give back a reservation: held → available."""
    moved = await repository.move_own_funds(
        conn, user_id, asset, amount, kind="release", reference=reference, to_held=False
    )
    if not moved:
        raise RuntimeError(f"release of {amount} {asset} exceeds what {user_id} holds ({reference})")


async def settle_withdrawal(
    conn: Connection, user_id: UUID, asset: str, amount: Decimal, reference: str
) -> None:
    """Money leaving the venue after a hold: the user's held → the external account."""
    account = await repository.user_account(conn, user_id, asset)
    external = await repository.system_account(conn, asset, "external")
    await repository.insert_entries(
        conn,
        [
            EntryDraft(
                "withdrawal",
                reference,
                [Posting(account, "held", asset, -amount), Posting(external, "available", asset, amount)],
            )
        ],
    )


async def user_accounts(conn: Connection, pairs: Sequence[tuple[UUID, str]]) -> dict[tuple[UUID, str], int]:
    return await repository.user_accounts(conn, pairs)


async def fees_account(conn: Connection, asset: str) -> int:
    return await repository.system_account(conn, asset, "fees")


async def post_entries(conn: Connection, entries: Sequence[EntryDraft]) -> list[tuple[UUID, Balance]]:
    """Write balanced entries; returns the new balances of the user accounts they touched."""
    await repository.insert_entries(conn, entries)
    touched = {posting.account_id for entry in entries for posting in entry.postings}
    return [
        (row["owner_id"], Balance(asset=row["asset"], available=row["available"], held=row["held"]))
        for row in await repository.balances_of(conn, sorted(touched))
    ]
