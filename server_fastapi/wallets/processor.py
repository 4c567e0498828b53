"""The withdrawal processor: approved → signed → broadcast → confirmed | failed.

Each step is its own short transaction on one withdrawal, so any number of API processes can run it at
once: a withdrawal being worked on is locked (others skip it), and a hot wallet's nonce row is locked from
allocation until the signed transaction is stored. Without an EVM JSON-RPC URL, withdrawals stop at `signed`
(an operator broadcasts the stored raw transactions).

Fees: with a node, each pass that signs reads what the chain charges now (`eth_feeHistory`) and signs with
the fees `suggest_fees` derives from it, never above the configured maxima; while the chain costs more than
those allow, approved withdrawals wait (nothing signed, no nonce used). Without a node, the maxima are the
fees.

The lifespan starts `run()` in the background; tests call `process()` to run one pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal

from server_fastapi.core.bus import EventBus
from server_fastapi.core.db import Pool, acquire, transaction
from server_fastapi.core.settings import Settings
from server_fastapi.wallets import service
from server_fastapi.wallets.evm import Eip1559Fees, native_transfer, suggest_fees
from server_fastapi.wallets.rpc import EvmRpc, RpcError, RpcUnavailable
from server_fastapi.wallets.signer_client import SignerClient, SignerError, SignerUnavailable, SigningRefused

logger = logging.getLogger(__name__)


class FeesAboveCap(Exception):
    """The chain charges more now than the configured maximum fee per gas allows."""


class WithdrawalProcessor:
    def __init__(
        self, pool: Pool, bus: EventBus, settings: Settings, signer: SignerClient, rpc: EvmRpc | None
    ) -> None:
        self.pool = pool
        self.bus = bus
        self.settings = settings
        self.signer = signer
        self.rpc = rpc
        self._addresses: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, pool: Pool, bus: EventBus, settings: Settings) -> WithdrawalProcessor:
        rpc = EvmRpc(settings.evm_rpc_url) if settings.evm_rpc_url else None
        return cls(pool, bus, settings, SignerClient.from_settings(settings), rpc)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="withdrawal-processor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.signer.aclose()
        if self.rpc is not None:
            await self.rpc.aclose()

    async def run(self) -> None:
        while True:
            try:
                await self.process()
            except Exception:
                logger.exception("withdrawal processor pass failed")
            await asyncio.sleep(self.settings.withdrawal_poll_seconds)

    async def process(self) -> int:
        """One pass over every step; returns how many withdrawals changed state."""
        changed = await self.sign_approved()
        if self.rpc is not None:
            changed += await self.broadcast_signed(self.rpc)
            changed += await self.follow_receipts(self.rpc)
        return changed

    # --- approved → signed ---------------------------------------------------------------------------------

    async def _first_nonce(self, key_id: str) -> int:
        """Where a hot wallet's counter starts: the chain's count of its transactions, or 0 without a node."""
        if self.rpc is None:
            return 0
        if key_id not in self._addresses:
            self._addresses = {key.id: key.address for key in await self.signer.keys()}
        return await self.rpc.transaction_count(self._addresses[key_id])

    async def _fees(self) -> Eip1559Fees:
        """The fees to sign with now: suggested from the node's fee market within the caps, or the caps
        themselves without a node. `FeesAboveCap` while the chain is dearer than the caps allow."""
        caps = {
            "max_fee_per_gas": self.settings.withdrawal_max_fee_per_gas_wei,
            "max_priority_fee_per_gas": self.settings.withdrawal_max_priority_fee_per_gas_wei,
        }
        if self.rpc is None:
            return Eip1559Fees(**caps)
        market = await self.rpc.fee_market()
        fees = suggest_fees(market, **caps)
        if fees is None:
            raise FeesAboveCap(
                f"next base fee {market.next_base_fee_per_gas} wei per gas is above the cap "
                f"{caps['max_fee_per_gas']} less the tip"
            )
        return fees

    async def sign_approved(self) -> int:
        signed = 0
        fees: Eip1559Fees | None = None  # read once per pass, when something is to be signed
        while True:
            try:
                async with transaction(self.pool) as conn:
                    record = await service.next_to_process(conn, "approved")
                    if record is None:
                        return signed
                    fees = fees or await self._fees()
                    key_id, chain_id = record["hot_key_id"], record["chain_id"]
                    nonce = await service.lock_nonce(conn, key_id, chain_id)
                    if nonce is None:
                        nonce = await service.start_nonce(
                            conn, key_id, chain_id, await self._first_nonce(key_id)
                        )
                    tx = native_transfer(
                        chain_id=chain_id,
                        nonce=nonce,
                        to=record["destination"],
                        amount=Decimal(record["amount"]),
                        fees=fees,
                    )
                    try:
                        answer = await self.signer.sign(key_id, tx)
                    except SigningRefused as refusal:
                        await service.fail(conn, self.bus, record, f"signer policy refused: {refusal.rule}")
                        signed += 1
                        continue
                    await service.record_signed(
                        conn,
                        record,
                        from_address=answer.from_address,
                        nonce=nonce,
                        raw_transaction=answer.raw_transaction,
                        tx_hash=answer.tx_hash,
                    )
                    signed += 1
            except (SignerUnavailable, SignerError, RpcUnavailable, RpcError, FeesAboveCap) as error:
                # Nothing was stored and no nonce consumed; the withdrawal stays approved for the next pass.
                logger.warning("withdrawal signing postponed", extra={"error": str(error)})
                return signed

    # --- signed → broadcast --------------------------------------------------------------------------------

    async def broadcast_signed(self, rpc: EvmRpc) -> int:
        sent = 0
        while True:
            async with transaction(self.pool) as conn:
                record = await service.next_to_process(conn, "signed")
                if record is None:
                    return sent
                try:
                    await rpc.send_raw_transaction(record["raw_transaction"])
                except RpcUnavailable as error:
                    logger.warning(
                        "withdrawal broadcast postponed",
                        extra={"withdrawal_id": record["id"], "error": str(error)},
                    )
                    return sent
                except RpcError as error:
                    # Sent before (a lost answer) if the node knows it; otherwise refused for good.
                    try:
                        known = await rpc.knows_transaction(record["tx_hash"])
                    except (RpcUnavailable, RpcError):
                        return sent
                    if not known:
                        await service.fail(
                            conn, self.bus, record, f"broadcast refused: {error.message}", never_sent=True
                        )
                        sent += 1
                        continue
                await service.mark_broadcast(conn, record)
                sent += 1

    # --- broadcast → confirmed | failed --------------------------------------------------------------------

    async def follow_receipts(self, rpc: EvmRpc) -> int:
        settled = 0
        async with acquire(self.pool) as conn:
            pending = await service.ids_in_status(conn, "broadcast")
        if not pending:
            return 0
        try:
            head = await rpc.block_number()
        except (RpcUnavailable, RpcError) as error:
            logger.warning("withdrawal receipts postponed", extra={"error": str(error)})
            return 0
        for withdrawal_id in pending:
            async with transaction(self.pool) as conn:
                record = await service.lock_withdrawal(conn, withdrawal_id)
                if record is None or record["status"] != "broadcast":
                    continue
                try:
                    receipt = await rpc.receipt(record["tx_hash"])
                except (RpcUnavailable, RpcError) as error:
                    logger.warning(
                        "withdrawal receipt postponed",
                        extra={"withdrawal_id": withdrawal_id, "error": str(error)},
                    )
                    return settled
                if (
                    receipt is None
                    or head - receipt.block_number + 1 < self.settings.withdrawal_confirmations
                ):
                    continue
                if receipt.succeeded:
                    await service.confirm(conn, self.bus, record, block_number=receipt.block_number)
                else:
                    await service.fail(
                        conn, self.bus, record, f"transaction reverted in block {receipt.block_number}"
                    )
                settled += 1
        return settled
