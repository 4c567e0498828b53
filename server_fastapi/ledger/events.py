"""Bus events of the ledger: a balance changed (after the change committed)."""

from __future__ import annotations

from uuid import UUID

from server_fastapi.core.bus import Bus, Event, EventBus
from server_fastapi.ledger.schemas import Amount


class BalanceChanged(Event):
    user_id: UUID
    asset: str
    available: Amount
    held: Amount


def balances_channel(bus: EventBus) -> Bus[BalanceChanged]:
    return bus.channel("ledger.balances", BalanceChanged)
