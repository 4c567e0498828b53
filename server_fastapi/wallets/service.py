"""Withdrawals: request (travel rule, hold, review rules), compliance review, and the state transitions the
processor drives (signed, broadcast, confirmed, failed). Every transition is audited in the same transaction
as the change it records; money moves in that transaction too.

States: requested → pending_review → approved → signed → broadcast → confirmed | failed | rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from server_fastapi.auth import service as auth_service
from server_fastapi.compliance import service as compliance
from server_fastapi.core.audit import record_audit
from server_fastapi.core.bus import EventBus
from server_fastapi.core.db import Connection
from server_fastapi.core.pagination import before_id
from server_fastapi.core.principal import Principal
from server_fastapi.core.problems import Conflict, FieldError, InvalidInput, NotFound
from server_fastapi.core.settings import Settings
from server_fastapi.ledger import service as ledger
from server_fastapi.wallets import repository as repo
from server_fastapi.wallets.evm import InvalidAmount, to_wei
from server_fastapi.wallets.schemas import (
    ReviewReason,
    Withdrawal,
    WithdrawalForReview,
    WithdrawalPage,
    WithdrawalRequest,
    WithdrawalReviewPage,
    WithdrawalRoute,
)

TRAVEL_RULE = "withdrawal_travel_rule"
"""The purpose the sealed IVMS101 record is bound to."""

NATIVE_ASSETS = frozenset({"ETH"})
"""Assets withdrawn as an EVM chain's native coin (a plain value transfer). Tokens need contract calls this
domain does not build, so they are refused with a problem naming the asset."""

REVIEWABLE = ("pending_review", "approved")
"""States in which compliance may still stop a withdrawal: nothing has been signed yet."""


class WithdrawalNotFound(NotFound):
    slug = "withdrawal-not-found"


class WithdrawalNotReviewable(Conflict):
    slug, title = "withdrawal-not-reviewable", "Withdrawal Not Reviewable"


def _invalid(pointer: str, code: str, detail: str, message: str) -> InvalidInput:
    return InvalidInput(
        message, errors=[FieldError(location="body", pointer=pointer, detail=detail, code=code)]
    )


def reference(withdrawal_id: int) -> str:
    return f"withdrawal:{withdrawal_id}"


def routes(settings: Settings) -> list[WithdrawalRoute]:
    offered = []
    for route, fee in sorted(settings.withdrawal_fees.items()):
        asset, _, chain = route.partition(":")
        if asset in NATIVE_ASSETS and int(chain) in settings.withdrawal_hot_wallets:
            offered.append(WithdrawalRoute(asset=asset, chain_id=int(chain), fee=fee))
    return offered


def _route(settings: Settings, body: WithdrawalRequest) -> tuple[Decimal, str]:
    """The fee and hot-wallet key of the request's asset and chain, or InvalidInput saying which is wrong."""
    if body.asset not in NATIVE_ASSETS:
        raise _invalid(
            "/asset",
            "unsupported_asset",
            f"only {', '.join(sorted(NATIVE_ASSETS))} can be withdrawn",
            f"{body.asset} cannot be withdrawn here: withdrawals send an EVM chain's native coin.",
        )
    key_id = settings.withdrawal_hot_wallets.get(body.chain_id)
    fee = settings.withdrawal_fee(body.asset, body.chain_id)
    if key_id is None or fee is None:
        raise _invalid(
            "/chain_id",
            "unsupported_chain",
            f"no {body.asset} withdrawals on chain {body.chain_id}",
            f"{body.asset} cannot be withdrawn on chain {body.chain_id}; see GET /api/v1/withdrawals/routes.",
        )
    try:
        to_wei(body.amount)
    except InvalidAmount as error:
        raise _invalid(
            "/amount", "amount_precision", str(error), f"The amount is not valid: {error}."
        ) from None
    return fee, key_id


def _travel_rule(originator: dict[str, Any], beneficiary: dict[str, Any], destination: str) -> dict[str, Any]:
    """The IVMS101.2023 payload of a withdrawal: the trader as originator, the named beneficiary, whose
    account is the destination address."""
    return {
        "originator": {"originatorPerson": [{"naturalPerson": originator}]},
        "beneficiary": {"beneficiaryPerson": [{**beneficiary, "accountNumber": [destination]}]},
        "payloadMetadata": {"payloadVersion": "101.2023"},
    }


_BENEFICIARY_POINTER = "/beneficiary/beneficiaryPerson/0"


def _validated_travel_rule(payload: dict[str, Any]) -> dict[str, Any]:
    """The normalised payload; a beneficiary violation points into the request's `beneficiary` field."""
    try:
        return compliance.validate_payload(payload).payload
    except InvalidInput as error:
        errors = [
            item.model_copy(
                update={"pointer": "/beneficiary" + item.pointer.removeprefix(_BENEFICIARY_POINTER)}
            )
            if item.pointer.startswith(_BENEFICIARY_POINTER)
            else item.model_copy(update={"pointer": "/travel_rule" + item.pointer})
            for item in error.errors or []
        ]
        raise InvalidInput(error.detail.replace("payload", "beneficiary", 1), errors=errors) from None


async def _review_reasons(
    conn: Connection, settings: Settings, user_id: UUID, body: WithdrawalRequest
) -> list[ReviewReason]:
    reasons: list[ReviewReason] = []
    threshold = settings.withdrawal_review_thresholds.get(body.asset)
    if threshold is not None and body.amount >= threshold:
        reasons.append("amount_threshold")
    if not await repo.has_confirmed_to(conn, user_id, body.chain_id, body.destination):
        reasons.append("new_destination")
    denied = {address.lower() for address in settings.withdrawal_denied_addresses}
    if body.destination.lower() in denied:
        reasons.append("sanctions_list")
    if await compliance.has_open_alert(conn, user_id):
        reasons.append("open_alert")
    return reasons


async def _audit(
    conn: Connection, actor_id: UUID | None, withdrawal_id: int, status: str, **details: Any
) -> None:
    await record_audit(
        conn,
        actor_id=actor_id,
        action=f"wallets.withdrawal.{status}",
        subject=f"withdrawal:{withdrawal_id}",
        details=details,
    )


async def request_withdrawal(
    conn: Connection, settings: Settings, bus: EventBus, principal: Principal, body: WithdrawalRequest
) -> Withdrawal:
    """Check everything, store the travel-rule record, hold amount + fee, and route the withdrawal to review
    or straight to signing, all in the caller's transaction: a refusal leaves nothing behind."""
    user_id = principal.user_id
    fee, key_id = _route(settings, body)
    originator = await compliance.get_originator(conn, user_id, settings)
    payload = _validated_travel_rule(
        _travel_rule(
            originator.model_dump(mode="json", by_alias=True, exclude_none=True),
            body.beneficiary,
            body.destination,
        )
    )
    # The code is checked once the request itself is valid, so a form with field errors costs no code.
    await auth_service.require_second_factor(conn, settings, user_id, body.totp, enrolled=True)
    sealed = await compliance.encrypt_personal_data(conn, settings, user_id, TRAVEL_RULE, payload)
    withdrawal_id = await repo.insert_withdrawal(
        conn,
        user_id=user_id,
        asset=body.asset,
        amount=body.amount,
        fee=fee,
        chain_id=body.chain_id,
        destination=body.destination,
        travel_rule=sealed,
        hot_key_id=key_id,
    )
    await ledger.hold(conn, user_id, body.asset, body.amount + fee, reference(withdrawal_id))
    ledger.announce_balances(conn, bus, user_id, [body.asset])
    await _audit(
        conn,
        user_id,
        withdrawal_id,
        "requested",
        asset=body.asset,
        amount=f"{body.amount:f}",
        fee=f"{fee:f}",
        chain_id=body.chain_id,
        destination=body.destination,
    )
    reasons = await _review_reasons(conn, settings, user_id, body)
    status = "pending_review" if reasons else "approved"
    await repo.set_status(conn, withdrawal_id, status, review_reasons=list(reasons))
    await _audit(conn, None, withdrawal_id, status, review_reasons=list(reasons))
    return await get_withdrawal(conn, principal, withdrawal_id)


# --- reading ---------------------------------------------------------------------------------------------


def _view(record: repo.Record) -> Withdrawal:
    return Withdrawal.model_validate(dict(record))


async def get_withdrawal(conn: Connection, principal: Principal, withdrawal_id: int) -> Withdrawal:
    record = await repo.withdrawal(conn, withdrawal_id, user_id=principal.user_id)
    if record is None:
        raise WithdrawalNotFound(f"No withdrawal {withdrawal_id}.")
    return _view(record)


async def list_withdrawals(
    conn: Connection, principal: Principal, *, cursor: str | None, limit: int
) -> WithdrawalPage:
    records = await repo.withdrawals(
        conn, user_id=principal.user_id, status=None, before_id=before_id(cursor), limit=limit + 1
    )
    items = [_view(record) for record in records[:limit]]
    return WithdrawalPage(items=items, next_cursor=str(items[-1].id) if len(records) > limit else None)


async def _for_review(conn: Connection, settings: Settings, record: repo.Record) -> WithdrawalForReview:
    try:
        travel_rule = await compliance.decrypt_personal_data(
            conn, settings, record["user_id"], TRAVEL_RULE, record["travel_rule"]
        )
    except compliance.PersonalDataErased:
        travel_rule = None
    return WithdrawalForReview.model_validate({**dict(record), "travel_rule": travel_rule})


async def list_for_review(
    conn: Connection, settings: Settings, *, status: str | None, cursor: str | None, limit: int
) -> WithdrawalReviewPage:
    records = await repo.withdrawals(
        conn, user_id=None, status=status, before_id=before_id(cursor), limit=limit + 1
    )
    items = [await _for_review(conn, settings, record) for record in records[:limit]]
    return WithdrawalReviewPage(items=items, next_cursor=str(items[-1].id) if len(records) > limit else None)


# --- compliance review -------------------------------------------------------------------------------------


async def _reviewable(conn: Connection, withdrawal_id: int, allowed: Sequence[str]) -> repo.Record:
    record = await repo.withdrawal(conn, withdrawal_id, for_update=True)
    if record is None:
        raise WithdrawalNotFound(f"No withdrawal {withdrawal_id}.")
    if record["status"] not in allowed:
        raise WithdrawalNotReviewable(
            f"Withdrawal {withdrawal_id} is {record['status']}; only {' or '.join(allowed)} can be decided.",
            status=record["status"],
        )
    return record


async def approve(
    conn: Connection, settings: Settings, principal: Principal, withdrawal_id: int, comment: str
) -> WithdrawalForReview:
    record = await _reviewable(conn, withdrawal_id, ("pending_review",))
    await repo.set_review(conn, withdrawal_id, "approved", principal.user_id, comment)
    # The comment is free text an officer typed; the entry keeps its length, not its words.
    await _audit(
        conn,
        principal.user_id,
        withdrawal_id,
        "approved",
        previous_status=record["status"],
        comment_length=len(comment),
    )
    updated = await repo.withdrawal(conn, withdrawal_id)
    assert updated is not None
    return await _for_review(conn, settings, updated)


async def reject(
    conn: Connection,
    settings: Settings,
    bus: EventBus,
    principal: Principal,
    withdrawal_id: int,
    comment: str,
) -> WithdrawalForReview:
    record = await _reviewable(conn, withdrawal_id, REVIEWABLE)
    await repo.set_review(conn, withdrawal_id, "rejected", principal.user_id, comment)
    await _release(conn, bus, record)
    await _audit(
        conn,
        principal.user_id,
        withdrawal_id,
        "rejected",
        previous_status=record["status"],
        comment_length=len(comment),
    )
    updated = await repo.withdrawal(conn, withdrawal_id)
    assert updated is not None
    return await _for_review(conn, settings, updated)


async def _release(conn: Connection, bus: EventBus, record: repo.Record) -> None:
    await ledger.release(
        conn, record["user_id"], record["asset"], record["amount"] + record["fee"], reference(record["id"])
    )
    ledger.announce_balances(conn, bus, record["user_id"], [record["asset"]])


# --- the processor's transitions ---------------------------------------------------------------------------


async def next_to_process(conn: Connection, status: str) -> repo.Record | None:
    """The next withdrawal in `status`, locked for the caller's transaction (others skip it)."""
    return await repo.next_in_status(conn, status)


async def ids_in_status(conn: Connection, status: str, limit: int = 100) -> list[int]:
    return await repo.ids_in_status(conn, status, limit)


async def lock_withdrawal(conn: Connection, withdrawal_id: int) -> repo.Record | None:
    return await repo.withdrawal(conn, withdrawal_id, for_update=True)


async def lock_nonce(conn: Connection, key_id: str, chain_id: int) -> int | None:
    return await repo.lock_nonce(conn, key_id, chain_id)


async def start_nonce(conn: Connection, key_id: str, chain_id: int, first: int) -> int:
    return await repo.start_nonce(conn, key_id, chain_id, first)


async def record_signed(
    conn: Connection,
    record: repo.Record,
    *,
    from_address: str,
    nonce: int,
    raw_transaction: str,
    tx_hash: str,
) -> None:
    """Store the signed transaction and consume its nonce, in the transaction that allocated it."""
    await repo.set_signed(
        conn,
        record["id"],
        from_address=from_address,
        nonce=nonce,
        raw_transaction=raw_transaction,
        tx_hash=tx_hash,
    )
    await repo.advance_nonce(conn, record["hot_key_id"], record["chain_id"], nonce)
    await _audit(conn, None, record["id"], "signed", nonce=nonce, tx_hash=tx_hash, from_address=from_address)


async def mark_broadcast(conn: Connection, record: repo.Record) -> None:
    await repo.set_status(conn, record["id"], "broadcast")
    await _audit(conn, None, record["id"], "broadcast", tx_hash=record["tx_hash"])


async def confirm(conn: Connection, bus: EventBus, record: repo.Record, *, block_number: int) -> None:
    """The transaction is on chain: the amount leaves the venue, the fee goes to the venue's fee account."""
    user_id, asset, withdrawal_ref = record["user_id"], record["asset"], reference(record["id"])
    await ledger.settle_withdrawal(conn, user_id, asset, record["amount"], withdrawal_ref)
    if record["fee"] > 0:
        accounts = await ledger.user_accounts(conn, [(user_id, asset)])
        fees = await ledger.fees_account(conn, asset)
        await ledger.post_entries(
            conn,
            [
                ledger.EntryDraft(
                    "fee",
                    withdrawal_ref,
                    [
                        ledger.Posting(accounts[(user_id, asset)], "held", asset, -record["fee"]),
                        ledger.Posting(fees, "available", asset, record["fee"]),
                    ],
                )
            ],
        )
    ledger.announce_balances(conn, bus, user_id, [asset])
    await repo.set_status(conn, record["id"], "confirmed")
    await _audit(conn, None, record["id"], "confirmed", tx_hash=record["tx_hash"], block_number=block_number)


async def fail(
    conn: Connection, bus: EventBus, record: repo.Record, reason: str, *, never_sent: bool = False
) -> None:
    """Nothing left the venue: the hold goes back to the trader. `never_sent`: the node refused the signed
    transaction, so its nonce was not used: it is handed out again, and the hot wallet's later signed
    transactions (which no node would mine after that gap) go back to be signed afresh."""
    await _release(conn, bus, record)
    if never_sent and record["nonce"] is not None:
        await _reuse_nonce(conn, record["hot_key_id"], record["chain_id"], record["nonce"])
    await repo.set_status(conn, record["id"], "failed", failure_reason=reason)
    await _audit(conn, None, record["id"], "failed", reason=reason, tx_hash=record["tx_hash"])


async def _reuse_nonce(conn: Connection, key_id: str, chain_id: int, unused: int) -> None:
    # The counter's row lock waits for a signing in progress, so its transaction is among those unsigned.
    await repo.lock_nonce(conn, key_id, chain_id)
    for later in await repo.unsign_after(conn, key_id, chain_id, unused):
        await _audit(
            conn,
            None,
            later["id"],
            "unsigned",
            reason=f"the node refused nonce {unused}, so this one is signed again",
            nonce=later["nonce"],
            tx_hash=later["tx_hash"],
        )
    await repo.set_next_nonce(conn, key_id, chain_id, unused)
