"""Signatures per second and latency of the Rust signer through its Unix-socket API, against eth-account.

Builds the signer in release mode (`cargo build --release --locked -p signer`), imports one key, starts
`signer serve` on a Unix socket in a temporary directory (logging at info: one JSON line per signature,
as in production) and signs the same EIP-1559 withdrawals in the same run:

- `socket_api`: through Tessera's own `SignerClient`, the client the withdrawals flow uses (its keep-alive
  HTTP/1.1 transport on the Unix socket), `CONCURRENCY` requests in flight. The headline, and what
  `throughput_ratio` compares with eth-account.
- `eth_account`: `eth_account.Account.sign_transaction` in this process, one after another.
- `socket_api_bare`: for reference, the signer's own capacity: prebuilt requests written on the socket by a
  minimal load generator, `CONCURRENCY` connections with one request in flight each.

The machine is shared, so `socket_api` and `eth_account` run in `ROUNDS` alternating rounds and each round's
ratio is reported beside the ratio of the totals. Prints one JSON object; nothing here asserts on time.
eth-account signs a prefix of the same transactions (it is slow), and every signature must be
byte-for-byte identical across all three (RFC 6979).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from eth_account import Account
from eth_account.signers.local import LocalAccount

# The signer helpers live beside the wallets tests (a folder of modules, not a package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend" / "wallets"))
from signer_support import (
    HOT_KEY_ID,
    HOT_PRIVATE_KEY,
    TOKEN,
    KeySpec,
    SignerHome,
    SignerProcess,
    build_signer,
)

from server_fastapi.wallets.evm import Eip1559Fees, TransactionRequest, native_transfer
from server_fastapi.wallets.signer_client import SignerClient, sign_request_body

TARGET_RATIO = 5.0
# A few more requests in flight than the signer has worker threads (one per core), so it never waits on us.
CONCURRENCY = 8
ROUNDS = 3
SIGNER_TRANSACTIONS = 4_500  # split over the rounds
WARMUP = 200
ETH_ACCOUNT_TRANSACTIONS = 450
CHAIN_ID = 1
DESTINATION = "0x3535353535353535353535353535353535353535"
POLICY = f"""\
[keys.{HOT_KEY_ID}]
chain_ids = [{CHAIN_ID}]
max_value_wei = "{10**18}"
max_value_per_day_wei = "{10**30}"
"""


def transactions(count: int) -> list[TransactionRequest]:
    fees = Eip1559Fees(max_fee_per_gas=30 * 10**9, max_priority_fee_per_gas=10**9)
    return [
        native_transfer(
            chain_id=CHAIN_ID,
            nonce=nonce,
            to=DESTINATION,
            amount=Decimal("0.001") + Decimal(nonce).scaleb(-18),
            fees=fees,
        )
        for nonce in range(count)
    ]


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def summary(count: int, seconds: float, latencies_s: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_s)
    return {
        "signatures": count,
        "seconds": round(seconds, 3),
        "signatures_per_s": round(count / seconds, 1),
        "latency_ms_p50": round(statistics.median(ordered) * 1000, 3),
        "latency_ms_p99": round(percentile(ordered, 0.99) * 1000, 3),
        "latency_ms_max": round(ordered[-1] * 1000, 3),
    }


@dataclass
class Measured:
    """Signatures taken in one or more rounds: raw transactions in order, time spent, one latency each."""

    raws: list[str] = field(default_factory=list)
    seconds: float = 0.0
    latencies_s: list[float] = field(default_factory=list)

    def add(self, other: Measured) -> None:
        self.raws += other.raws
        self.seconds += other.seconds
        self.latencies_s += other.latencies_s

    @property
    def per_second(self) -> float:
        return len(self.raws) / self.seconds

    def summary(self) -> dict[str, float]:
        return summary(len(self.raws), self.seconds, self.latencies_s)


async def through_bare_socket(socket_path: Path, token: str, txs: list[TransactionRequest]) -> Measured:
    """The socket API with as little client as possible: prebuilt requests, keep-alive, no HTTP library."""
    requests = []
    for tx in txs:
        body = orjson.dumps(sign_request_body(tx))
        head = (
            f"POST /v1/keys/{HOT_KEY_ID}/sign HTTP/1.1\r\nhost: signer\r\nauthorization: Bearer {token}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    raws: list[str] = [""] * len(txs)
    latencies: list[float] = []
    pending = iter(range(len(txs)))

    async def connection(indexes: Iterator[int]) -> None:
        reader, writer = await asyncio.open_unix_connection(str(socket_path))
        try:
            for index in indexes:
                started = time.perf_counter()
                writer.write(requests[index])
                head = await reader.readuntil(b"\r\n\r\n")
                status, _, rest = head.partition(b"\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in rest.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                answer = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if b" 200 " not in status:
                    raise RuntimeError(f"the signer answered {status!r}: {answer!r}")
                raws[index] = orjson.loads(answer)["raw_transaction"]
        finally:
            writer.close()
            await writer.wait_closed()

    warmup = iter(range(min(WARMUP, len(txs))))
    await connection(warmup)
    latencies.clear()
    started = time.perf_counter()
    await asyncio.gather(*(connection(pending) for _ in range(CONCURRENCY)))
    return Measured(raws, time.perf_counter() - started, latencies)


async def through_signer_client(client: SignerClient, txs: list[TransactionRequest]) -> Measured:
    raws: list[str] = [""] * len(txs)
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(txs)):
        queue.put_nowait(index)

    async def worker() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            signed = await client.sign(HOT_KEY_ID, txs[index])
            latencies.append(time.perf_counter() - started)
            raws[index] = signed.raw_transaction

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return Measured(raws, time.perf_counter() - started, latencies)


def eth_account_fields(tx: TransactionRequest) -> dict[str, Any]:
    assert isinstance(tx.fees, Eip1559Fees)
    return {
        "type": 2,
        "chainId": tx.chain_id,
        "nonce": tx.nonce,
        "to": tx.to,
        "value": tx.value,
        "gas": tx.gas_limit,
        "maxFeePerGas": tx.fees.max_fee_per_gas,
        "maxPriorityFeePerGas": tx.fees.max_priority_fee_per_gas,
        "data": b"",
        "accessList": [],
    }


def with_eth_account(account: LocalAccount, txs: list[TransactionRequest]) -> Measured:
    fields = [eth_account_fields(tx) for tx in txs]
    raws, latencies = [], []
    started = time.perf_counter()
    for one in fields:
        begun = time.perf_counter()
        raws.append("0x" + account.sign_transaction(one).raw_transaction.hex())
        latencies.append(time.perf_counter() - begun)
    return Measured(raws, time.perf_counter() - started, latencies)


def rounds(txs: list[TransactionRequest], count: int) -> list[list[TransactionRequest]]:
    size = len(txs) // count
    return [txs[start : start + size] for start in range(0, size * count, size)]


def ecdsa_backend() -> str:
    if importlib.util.find_spec("coincurve") is None:
        return "eth-keys pure-Python ECDSA (coincurve not installed)"
    return "coincurve (libsecp256k1)"


async def main() -> None:
    binary, build_seconds = build_signer(release=True)
    txs = transactions(SIGNER_TRANSACTIONS)
    account = Account.from_key(HOT_PRIVATE_KEY)
    account.sign_transaction(eth_account_fields(txs[0]))  # warm-up: first-call imports and caches
    via_client, python, round_ratios = Measured(), Measured(), []
    with tempfile.TemporaryDirectory(prefix="tessera-bench-signer-") as tmp:
        home = SignerHome.create(
            binary, Path(tmp), keys=(KeySpec(HOT_KEY_ID, HOT_PRIVATE_KEY),), policy=POLICY
        )
        with SignerProcess(binary, home):
            async with SignerClient(
                f"unix://{home.socket}", home.token_file, max_connections=CONCURRENCY
            ) as client:
                await through_signer_client(client, txs[:WARMUP])
                for signer_txs, python_txs in zip(
                    rounds(txs, ROUNDS), rounds(txs[:ETH_ACCOUNT_TRANSACTIONS], ROUNDS), strict=True
                ):
                    client_round = await through_signer_client(client, signer_txs)
                    python_round = with_eth_account(account, python_txs)
                    round_ratios.append(round(client_round.per_second / python_round.per_second, 2))
                    via_client.add(client_round)
                    python.add(python_round)
            bare = await through_bare_socket(home.socket, TOKEN, txs)
    ratio = via_client.per_second / python.per_second
    result = {
        "benchmark": "signer",
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)},
        "signer_build_seconds": round(build_seconds, 1),
        "transaction": "EIP-1559 native transfer, chain 1, nonce = index",
        "concurrency": CONCURRENCY,
        "rounds": ROUNDS,
        "socket_api": {
            **via_client.summary(),
            "client": "server_fastapi.wallets.signer_client.SignerClient (keep-alive HTTP/1.1, Unix socket)",
        },
        "eth_account": {**python.summary(), "ecdsa": ecdsa_backend()},
        "socket_api_bare": {**bare.summary(), "client": "prebuilt requests, minimal load generator"},
        "identical_signatures": via_client.raws == bare.raws
        and python.raws == via_client.raws[: len(python.raws)],
        "throughput_ratio": round(ratio, 2),
        "throughput_ratio_per_round": round_ratios,
        "target_ratio": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    asyncio.run(main())
