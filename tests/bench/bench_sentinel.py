"""How many trades per second the sentinel keeps up with, on a realistic stream of observations.

Prints one JSON object. The stream is generated from a fixed seed before timing (building the events is
the publisher's cost, not the sentinel's): 10 symbols and 500 accounts (a few owners hold two accounts
and twenty accounts signed in from one shared address, so the odd wash trade alerts), each account's
sign-ins of the day before, about 200 trades a second of venue time, and for every trade about one
order placed and one canceled (market makers quoting near the touch, now and then a large order away
from it). The sentinel then processes it in micro-batches, as the bus hands them over; the same stream
is run at several batch sizes side by side, and the headline is the median of the runs at
`HEADLINE_BATCH`.

Rates are trades per second of the sentinel's own CPU time (`time.process_time`): the sentinel is a
single-threaded subscriber, so its CPU time is what it needs to keep up, while wall-clock time on a shared
machine also measures the neighbours. Wall-clock rates and the load average are printed beside it.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from server_fastapi.compliance.sentinel import (
    Heartbeat,
    MarketObservation,
    ObservedOrderCanceled,
    ObservedOrderPlaced,
    ObservedSignIn,
    ObservedTrade,
    Sentinel,
)
from server_fastapi.trading.engine import Side

TARGET_TRADES_PER_S = 50_000
SEED = 20261122
TRADES = 60_000
ACCOUNTS = 500
SYMBOLS = 10
SHARED_ADDRESS_ACCOUNTS = 20
VENUE_TRADES_PER_S = 200
BATCH_SIZES = (64, 512, 4096)
HEADLINE_BATCH = 512
RUNS = 5
T0 = datetime(2026, 11, 22, tzinfo=UTC)
TICK = Decimal("0.01")
LOT = Decimal("0.0001")


def owner_of(account: int) -> str:
    # Accounts 0-19 pair up under ten owners; everyone else is on their own.
    return f"owner-{account // 2 if account < 20 else account}"


def sign_ins(rng: random.Random) -> list[ObservedSignIn]:
    """Everyone signed in during the day before, from home and from a second address (work, a phone
    carrier); the last twenty accounts share one coworking address, so some of their trades are wash trades
    by sign-in. Trades carry different order IPs, so every trade between owners asks the sign-in index."""
    found: list[ObservedSignIn] = []
    for account in range(ACCOUNTS):
        second = (
            "192.0.2.1"
            if account >= ACCOUNTS - SHARED_ADDRESS_ACCOUNTS
            else f"100.64.{account // 250}.{account % 250}"
        )
        for ip in (f"172.16.{account // 250}.{account % 250}", second):
            when = T0 - timedelta(seconds=rng.uniform(60, 86_400))
            found.append(ObservedSignIn(time=when, account_id=account, ip=ip, device_id=f"d{account}"))
    return found


def generate(rng: random.Random) -> tuple[list[MarketObservation], Counter[str]]:
    stream: list[MarketObservation] = list(sign_ins(rng))
    mix: Counter[str] = Counter(sign_in=len(stream))
    mids = {f"C{i}-USDT": 10.0 ** rng.uniform(0, 4.5) for i in range(SYMBOLS)}
    symbols = list(mids)
    pending: list[tuple[float, ObservedOrderPlaced]] = []
    now, next_beat, trade_id, order_id = 0.0, 1.0, 0, 0
    rate = VENUE_TRADES_PER_S * 3  # trades, placements and cancels
    while mix["trade"] < TRADES:
        now += rng.expovariate(rate)
        when = T0 + timedelta(seconds=now)
        if now >= next_beat:
            stream.append(Heartbeat(time=T0 + timedelta(seconds=next_beat)))
            mix["heartbeat"] += 1
            next_beat += 1
        if pending and pending[0][0] <= now and rng.random() < 0.5:
            _, order = pending.pop(0)
            stream.append(
                ObservedOrderCanceled(
                    time=when, symbol=order.symbol, order_id=order.order_id, account_id=order.account_id
                )
            )
            mix["cancel"] += 1
            continue
        symbol = rng.choice(symbols)
        mid = mids[symbol] = mids[symbol] * math.exp(rng.gauss(0, 0.0003))
        if rng.random() < 0.5:
            trade_id += 1
            seller, buyer = rng.sample(range(ACCOUNTS), 2)
            stream.append(
                ObservedTrade(
                    time=when,
                    symbol=symbol,
                    trade_id=trade_id,
                    price=Decimal(mid).quantize(TICK) or TICK,
                    quantity=Decimal(rng.lognormvariate(0, 1) * 500 / mid).quantize(LOT) or LOT,
                    taker_side=rng.choice((Side.BUY, Side.SELL)),
                    buyer_account_id=buyer,
                    seller_account_id=seller,
                    buyer_owner_id=owner_of(buyer),
                    seller_owner_id=owner_of(seller),
                    buyer_ip=f"10.0.{buyer // 250}.{buyer % 250}",
                    seller_ip=f"10.0.{seller // 250}.{seller % 250}",
                    buyer_device_id=f"d{buyer}",
                    seller_device_id=f"d{seller}",
                )
            )
            mix["trade"] += 1
            continue
        order_id += 1
        side = rng.choice((Side.BUY, Side.SELL))
        large = rng.random() < 0.03
        bps = rng.uniform(15, 150) if large else rng.uniform(0, 6)
        sign = -1 if side is Side.BUY else 1
        bid, ask = Decimal(mid * 0.9998).quantize(TICK) or TICK, Decimal(mid * 1.0002).quantize(TICK)
        touch = bid if side is Side.BUY else ask
        order = ObservedOrderPlaced(
            time=when,
            symbol=symbol,
            order_id=order_id,
            account_id=rng.randrange(ACCOUNTS),
            side=side,
            price=(touch * (1 + Decimal(sign * bps) / 10_000)).quantize(TICK) or TICK,
            quantity=Decimal(
                (rng.uniform(60_000, 150_000) if large else rng.uniform(50, 3_000)) / mid
            ).quantize(LOT)
            or LOT,
            best_bid=bid,
            best_ask=ask,
        )
        stream.append(order)
        mix["large_order" if large else "order"] += 1
        pending.append((now + (rng.uniform(0.5, 120) if large else rng.uniform(0.1, 3)), order))
        pending.sort(key=lambda item: item[0])
    return stream, mix


def run(stream: list[MarketObservation], batch: int) -> tuple[float, float, int, Sentinel]:
    """CPU seconds, wall seconds, alerts raised, and the sentinel at the end."""
    sentinel = Sentinel()
    process = sentinel.process_batch
    alerts = 0
    gc.collect()
    gc.disable()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(0, len(stream), batch):
        alerts += len(process(stream[i : i + batch]))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    gc.enable()
    return cpu, wall, alerts, sentinel


def main() -> None:
    stream, mix = generate(random.Random(SEED))
    trades = mix["trade"]
    results = {}
    headline = 0.0
    alerts_by_kind: dict[str, int] = {}
    window_trades = tracked_orders = 0
    for batch in BATCH_SIZES:
        rates, wall_rates = [], []
        for _ in range(RUNS):
            cpu, wall, alerts, sentinel = run(stream, batch)
            rates.append(trades / cpu)
            wall_rates.append(trades / wall)
        stats = sentinel.stats()
        results[str(batch)] = {
            "trades_per_s": round(statistics.median(rates)),
            "observations_per_s": round(statistics.median(rates) * len(stream) / trades),
            "wall_clock_trades_per_s": round(statistics.median(wall_rates)),
            "runs": [round(r) for r in rates],
            "alerts": alerts,
        }
        if batch == HEADLINE_BATCH:
            headline = statistics.median(rates)
            alerts_by_kind = {kind.value: n for kind, n in stats.alerts.items()}
            window_trades, tracked_orders = stats.window_trades, stats.tracked_orders
    venue_seconds = (stream[-1].time - T0).total_seconds()
    print(
        json.dumps(
            {
                "bench": "sentinel",
                "trades_per_s": round(headline),
                "target_trades_per_s": TARGET_TRADES_PER_S,
                "target_met": headline >= TARGET_TRADES_PER_S,
                "headline_batch": HEADLINE_BATCH,
                "by_batch_size": results,
                "stream": {
                    "observations": len(stream),
                    "mix": dict(mix),
                    "symbols": SYMBOLS,
                    "accounts": ACCOUNTS,
                    "venue_seconds": round(venue_seconds),
                },
                "alerts_by_kind": alerts_by_kind,
                "window_trades_at_end": window_trades,
                "tracked_orders_at_end": tracked_orders,
                "runs": RUNS,
                "rate_clock": "process_time",
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "python": sys.version.split()[0],
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
