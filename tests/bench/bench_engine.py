"""Throughput and per-command latency of the matching engine alone, on a realistic command mix.

Prints one JSON object. The mix is generated from a fixed seed around a random-walk mid price:
mostly passive limits (some crossing), IOC limits, market orders (buys by quote budget or by quantity),
cancels of open orders (one in ten aims at an order already gone: a cancel race) and the odd
cancel-all; 50 accounts, so self-trade prevention fires now and then. The generator runs its own engine
to know which orders are open. Throughput runs take no per-command timings;
latency is measured in a separate pass over the same commands.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter

from server_fastapi.trading.engine import (
    Cancel,
    CancelAll,
    Command,
    MatchingEngine,
    NewOrder,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
    TradeExecuted,
)

TARGET_COMMANDS_PER_S = 200_000
SEED = 20261122
WARMUP_ORDERS = 5_000
COMMANDS = 200_000
RUNS = 5
ACCOUNTS = 50
MID = 100_000


def generate(
    n: int, rng: random.Random, warmup: list[Command], first_id: int
) -> tuple[list[Command], Counter[str]]:
    """A command stream and a count of what is in it."""
    cmds: list[Command] = []
    mix: Counter[str] = Counter()
    mid = MID
    book = fresh_engine(warmup)
    rested = [c.order_id for c in warmup if isinstance(c, NewOrder)]
    order_id = first_id
    for _ in range(n):
        if cmds:
            book.process(cmds[-1])
            last = cmds[-1]
            if isinstance(last, NewOrder) and last.order_id in book:
                rested.append(last.order_id)
        mid = max(1_000, mid + rng.choice((-1, 0, 0, 1)))
        r = rng.random()
        account = rng.randrange(ACCOUNTS)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        sign = -1 if side is Side.BUY else 1
        qty = rng.randint(1, 50)
        if r < 0.55:
            # Passive most of the time; 15% cross the spread by a few ticks.
            off = -rng.randint(1, 4) if rng.random() < 0.15 else rng.randint(1, 60)
            order_id += 1
            cmds.append(
                NewOrder(
                    order_id=order_id,
                    account_id=account,
                    side=side,
                    qty_lots=qty,
                    price_ticks=mid + sign * off,
                )
            )
            mix["limit_gtc"] += 1
        elif r < 0.60:
            order_id += 1
            cmds.append(
                NewOrder(
                    order_id=order_id,
                    account_id=account,
                    side=side,
                    qty_lots=qty,
                    price_ticks=mid - sign * rng.randint(0, 5),
                    time_in_force=TimeInForce.IOC,
                    stp=StpMode.CANCEL_RESTING,
                )
            )
            mix["limit_ioc"] += 1
        elif r < 0.62:
            order_id += 1
            cmds.append(
                NewOrder(
                    order_id=order_id,
                    account_id=account,
                    side=side,
                    qty_lots=qty,
                    price_ticks=mid - sign * rng.randint(0, 5),
                    time_in_force=TimeInForce.FOK,
                )
            )
            mix["limit_fok"] += 1
        elif r < 0.70:
            order_id += 1
            if side is Side.BUY and rng.random() < 0.5:
                cmds.append(
                    NewOrder(
                        order_id=order_id,
                        account_id=account,
                        side=side,
                        order_type=OrderType.MARKET,
                        quote_budget=qty * mid,
                    )
                )
                mix["market_buy_budget"] += 1
            else:
                cmds.append(
                    NewOrder(
                        order_id=order_id,
                        account_id=account,
                        side=side,
                        order_type=OrderType.MARKET,
                        qty_lots=qty,
                    )
                )
                mix["market_qty"] += 1
        elif r < 0.9995:
            target = 0
            race = rng.random() < 0.1
            while rested:
                i = rng.randrange(len(rested))
                target = rested[i]
                rested[i] = rested[-1]
                rested.pop()
                if race or target in book:
                    break
            cmds.append(Cancel(order_id=target))
            mix["cancel"] += 1
        else:
            cmds.append(CancelAll(account_id=account))
            mix["cancel_all"] += 1
    return cmds, mix


def fresh_engine(warmup: list[Command]) -> MatchingEngine:
    engine = MatchingEngine("BENCH-USDT")
    for cmd in warmup:
        engine.process(cmd)
    return engine


def throughput(warmup: list[Command], cmds: list[Command]) -> tuple[float, int, int]:
    engine = fresh_engine(warmup)
    process = engine.process
    events = 0
    trades_before = engine.next_trade_id
    gc.collect()
    gc.disable()
    start = time.perf_counter()
    for cmd in cmds:
        events += len(process(cmd))
    elapsed = time.perf_counter() - start
    gc.enable()
    return len(cmds) / elapsed, events, engine.next_trade_id - trades_before


def latencies_us(warmup: list[Command], cmds: list[Command]) -> list[float]:
    engine = fresh_engine(warmup)
    process = engine.process
    clock = time.perf_counter_ns
    out = [0] * len(cmds)
    gc.collect()
    gc.disable()
    for i, cmd in enumerate(cmds):
        t0 = clock()
        process(cmd)
        out[i] = clock() - t0
    gc.enable()
    return [ns / 1_000 for ns in out]


def main() -> None:
    rng = random.Random(SEED)
    # Warm-up: a two-sided book of passive limits, not timed.
    warmup: list[Command] = []
    for i in range(WARMUP_ORDERS):
        side = Side.BUY if i % 2 else Side.SELL
        price = MID - rng.randint(1, 60) if side is Side.BUY else MID + rng.randint(1, 60)
        warmup.append(
            NewOrder(
                order_id=i + 1,
                account_id=rng.randrange(ACCOUNTS),
                side=side,
                qty_lots=rng.randint(1, 50),
                price_ticks=price,
            )
        )
    cmds, mix = generate(COMMANDS, rng, warmup, WARMUP_ORDERS)

    runs = [throughput(warmup, cmds) for _ in range(RUNS)]
    rates = [r[0] for r in runs]
    _, events, trades = runs[0]
    lat = sorted(latencies_us(warmup, cmds))
    check = fresh_engine(warmup)
    outcomes = Counter(type(e).__name__ for cmd in cmds for e in check.process(cmd))
    assert outcomes[TradeExecuted.__name__] == trades

    median_rate = statistics.median(rates)
    result = {
        "benchmark": "engine",
        "python": platform.python_version(),
        "commands": len(cmds),
        "runs": RUNS,
        "commands_per_s_median": round(median_rate),
        "commands_per_s_best": round(max(rates)),
        "latency_us_p50": round(lat[len(lat) // 2], 2),
        "latency_us_p99": round(lat[int(len(lat) * 0.99)], 2),
        "latency_us_max": round(lat[-1], 2),
        "events_per_command": round(events / len(cmds), 2),
        "trades": trades,
        "warmup_resting_orders": WARMUP_ORDERS,
        "mix": {k: round(v / len(cmds), 4) for k, v in sorted(mix.items())},
        "events": dict(sorted(outcomes.items())),
        "open_orders_after": len(check),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "target_commands_per_s": TARGET_COMMANDS_PER_S,
        "met": median_rate >= TARGET_COMMANDS_PER_S,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
