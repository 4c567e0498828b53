"""The few EVM JSON-RPC calls withdrawals need, over httpx: broadcast, receipt, block height, nonce, fees.

`RpcUnavailable` means the node could not be asked (try again later); `RpcError` is the node's own JSON-RPC
error answer (it refused the call, e.g. a transaction it will not accept).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from server_fastapi.wallets.evm import FeeMarket

DEFAULT_TIMEOUT_SECONDS = 10.0
FEE_HISTORY_BLOCKS = 10
TIP_PERCENTILE = 50


class RpcUnavailable(Exception):
    """Transport failure, timeout, or an answer that is not JSON-RPC."""


class RpcError(Exception):
    """The node answered with a JSON-RPC error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Receipt:
    block_number: int
    succeeded: bool


class EvmRpc:
    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._url = url
        self._http = httpx.AsyncClient(timeout=timeout)
        self._ids = itertools.count(1)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        try:
            response = await self._http.post(self._url, json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RpcUnavailable(f"{method}: {error}") from error
        if not isinstance(answer, dict):
            raise RpcUnavailable(f"{method}: HTTP {response.status_code}, not a JSON-RPC answer")
        error_body = answer.get("error")
        if isinstance(error_body, dict):
            raise RpcError(int(error_body.get("code", 0)), str(error_body.get("message", "")))
        if "result" not in answer:
            raise RpcUnavailable(f"{method}: HTTP {response.status_code}, no result")
        return answer["result"]

    async def send_raw_transaction(self, raw_transaction: str) -> str:
        return str(await self.call("eth_sendRawTransaction", raw_transaction))

    async def knows_transaction(self, tx_hash: str) -> bool:
        """Whether the node has the transaction (in its pool or on chain)."""
        return await self.call("eth_getTransactionByHash", tx_hash) is not None

    async def receipt(self, tx_hash: str) -> Receipt | None:
        answer = await self.call("eth_getTransactionReceipt", tx_hash)
        if answer is None:
            return None
        return Receipt(block_number=int(answer["blockNumber"], 16), succeeded=int(answer["status"], 16) == 1)

    async def block_number(self) -> int:
        return int(await self.call("eth_blockNumber"), 16)

    async def transaction_count(self, address: str) -> int:
        """The account's next nonce, counting transactions still in the node's pool."""
        return int(await self.call("eth_getTransactionCount", address, "pending"), 16)

    async def fee_market(self) -> FeeMarket:
        """The next block's base fee and the median tip of each of the last `FEE_HISTORY_BLOCKS` blocks."""
        answer = await self.call("eth_feeHistory", hex(FEE_HISTORY_BLOCKS), "latest", [TIP_PERCENTILE])
        try:
            base_fees = answer["baseFeePerGas"]
            rewards = answer.get("reward") or []
            return FeeMarket(
                next_base_fee_per_gas=int(base_fees[-1], 16),
                recent_tips=tuple(int(block[0], 16) for block in rewards if block),
            )
        except (TypeError, KeyError, IndexError, ValueError, AttributeError) as error:
            raise RpcUnavailable(f"eth_feeHistory: unexpected answer {answer!r:.200}") from error
