"""Determinism: the same command log always gives a byte-identical trade log, in this process, in another
process with another hash seed, and after a round trip of the log through JSON; another log does not.

Run as a script to print the hashes of the fixed log (used by the cross-process test, and to update
PINNED_TRADE_LOG_HASH after a deliberate change of matching semantics).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from server_fastapi.trading.engine import (
    Cancel,
    CancelAll,
    Command,
    Event,
    MatchingEngine,
    NewOrder,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
    TradeExecuted,
    command_from_dict,
    command_to_dict,
    log_hash,
    trade_log_hash,
)

SEED = 5
LOG_LENGTH = 4_000
# sha256 of the trade log of command_log(SEED, LOG_LENGTH); it changes only if matching semantics change.
PINNED_TRADE_LOG_HASH = "8cd5bdef624e02470ab5c51af5aa7eb07a9518ffe718ef72a4431efa7bab3b87"


def command_log(seed: int, n: int) -> list[Command]:
    """A busy, seeded log: every order type, self-trades, cancel races, cancel-all."""
    rng = random.Random(seed)
    cmds: list[Command] = []
    for order_id in range(1, n + 1):
        r = rng.random()
        account = rng.randrange(8)
        side = rng.choice((Side.BUY, Side.SELL))
        qty = rng.randint(1, 20)
        if r < 0.6:
            cmds.append(
                NewOrder(
                    order_id=order_id,
                    account_id=account,
                    side=side,
                    qty_lots=qty,
                    price_ticks=rng.randint(990, 1010),
                    time_in_force=rng.choice(
                        (TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK)
                    ),
                    stp=rng.choice((None, *StpMode)),
                )
            )
        elif r < 0.7:
            buy_budget = side is Side.BUY and rng.random() < 0.5
            cmds.append(
                NewOrder(
                    order_id=order_id,
                    account_id=account,
                    side=side,
                    order_type=OrderType.MARKET,
                    qty_lots=None if buy_budget else qty,
                    quote_budget=qty * 1_000 if buy_budget else None,
                )
            )
        elif r < 0.99:
            cmds.append(Cancel(order_id=rng.randint(max(1, order_id - 50), order_id)))
        else:
            cmds.append(CancelAll(account_id=account))
    return cmds


def replay(cmds: list[Command]) -> list[Event]:
    return list(MatchingEngine("REPLAY-USDT").run(cmds))


def test_same_log_gives_identical_events_and_hashes() -> None:
    cmds = command_log(SEED, LOG_LENGTH)
    first, second = replay(cmds), replay(cmds)
    assert sum(isinstance(e, TradeExecuted) for e in first) > 500, "the log should trade a lot"
    assert first == second
    assert trade_log_hash(first) == trade_log_hash(second)
    assert log_hash(first) == log_hash(second)


def test_trade_log_hash_is_pinned() -> None:
    assert trade_log_hash(replay(command_log(SEED, LOG_LENGTH))) == PINNED_TRADE_LOG_HASH


def test_log_replayed_from_json_gives_the_same_hash() -> None:
    cmds = command_log(SEED, LOG_LENGTH)
    wire = json.dumps([command_to_dict(c) for c in cmds])
    decoded = [command_from_dict(d) for d in json.loads(wire)]
    assert decoded == cmds
    assert log_hash(replay(decoded)) == log_hash(replay(cmds))


def test_hash_does_not_depend_on_the_process() -> None:
    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(repo)}
    out = subprocess.run(
        [sys.executable, str(Path(__file__))],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    events = replay(command_log(SEED, LOG_LENGTH))
    assert out.stdout.split() == [trade_log_hash(events), log_hash(events)]


def test_a_different_log_gives_a_different_hash() -> None:
    cmds = command_log(SEED, LOG_LENGTH)
    baseline = trade_log_hash(replay(cmds))
    engine = MatchingEngine("REPLAY-USDT")
    first_taker = next(
        i for i, cmd in enumerate(cmds) if any(isinstance(e, TradeExecuted) for e in engine.process(cmd))
    )
    taker = cmds[first_taker]
    assert isinstance(taker, NewOrder)
    changed = [
        *cmds[:first_taker],
        replace(taker, account_id=taker.account_id + 100),
        *cmds[first_taker + 1 :],
    ]
    assert trade_log_hash(replay(changed)) != baseline
    assert trade_log_hash(replay(cmds[:-200])) != baseline


if __name__ == "__main__":
    log_events = replay(command_log(SEED, LOG_LENGTH))
    print(trade_log_hash(log_events), log_hash(log_events))
