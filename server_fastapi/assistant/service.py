"""The order assistant: words → a guarded order draft, never an order.

1. Input guards run on the words: no withdrawals, settings or other users' data, no prompt injection;
   personal data is redacted from whatever a model will see.
2. When a model is configured it is asked first. Its answer must pass the schema guard, then our code
   computes the amounts (a "portion" of a balance from the trader's real balance) and the draft guards
   check the result. A failed guard is told to the model once; a second failure, a timeout, an error or a
   confidence below the threshold hands over to the rule-based parser, and the response says why.
3. The rule-based parser answers otherwise; its drafts pass the same guards or become refusals.

Nothing here calls the trading service: the trader confirms the draft in the order ticket, which places it
through `POST /api/v1/orders` like any other order.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Histogram

from server_fastapi.assistant import llm
from server_fastapi.assistant.guards import (
    SCHEMA,
    DraftContext,
    GuardFailure,
    GuardrailsGuards,
    GuardReport,
    Guards,
    PlainGuards,
)
from server_fastapi.assistant.parser import Intent, Pair, ParseRefusal, parse
from server_fastapi.assistant.schemas import (
    DraftResponse,
    FallbackReason,
    ModelAnswer,
    OrderDraft,
    Refusal,
    Source,
)
from server_fastapi.core.db import Connection
from server_fastapi.core.principal import Principal
from server_fastapi.core.settings import AssistantSettings
from server_fastapi.ledger import service as ledger
from server_fastapi.markets import service as markets

logger = logging.getLogger(__name__)

AMOUNT = "amount"  # the guard that computes amounts from balances and prices (our code, never the model)


class AssistantMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.drafts = Counter(
            "tessera_assistant_drafts",
            "Assistant answers by source (rules or model) and outcome (draft or refusal)",
            ["source", "outcome"],
            registry=registry,
        )
        self.guard_failures = Counter(
            "tessera_assistant_guard_failures",
            "Guard failures by guard and by whose words or answer failed it",
            ["guard", "source"],
            registry=registry,
        )
        self.fallbacks = Counter(
            "tessera_assistant_fallbacks",
            "Requests the rule-based parser answered although a model is configured, by reason",
            ["reason"],
            registry=registry,
        )
        self.retries = Counter(
            "tessera_assistant_model_retries",
            "Second requests to the model after a failed guard",
            registry=registry,
        )
        self.latency = Histogram(
            "tessera_assistant_draft_duration_seconds",
            "Time to answer a draft request, by the source that answered",
            ["source"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0),
        )
        for source in ("rules", "model"):
            for outcome in ("draft", "refusal"):
                self.drafts.labels(source, outcome)


@functools.cache
def guardrails_guards() -> GuardrailsGuards:
    """One set of Guardrails guards per process (building them imports Guardrails)."""
    return GuardrailsGuards()


@dataclass(frozen=True, slots=True)
class _Context:
    pairs: list[Pair]
    draft: DraftContext


@dataclass(frozen=True, slots=True)
class _Accepted:
    draft: OrderDraft
    report: GuardReport
    answer: ModelAnswer
    note: str


@dataclass(frozen=True, slots=True)
class _Fallback:
    reason: FallbackReason
    detail: str


class Assistant:
    """Long-lived: the model client, the guards and the metrics. Owned by the assistant router's lifespan."""

    def __init__(
        self, settings: AssistantSettings, registry: CollectorRegistry, *, model: llm.ChatModel | None = None
    ) -> None:
        self.settings = settings
        self.metrics = AssistantMetrics(registry)
        self.model = model
        if self.model is None and settings.assistant_llm_url:
            api_key = settings.assistant_llm_api_key
            self.model = llm.ChatModel(
                settings.assistant_llm_url,
                settings.assistant_llm_model,
                api_key=api_key.get_secret_value() if api_key else None,
                timeout=settings.assistant_llm_timeout_seconds,
            )
        self._plain = PlainGuards()
        self._guardrails: asyncio.Future[GuardrailsGuards] | None = None

    def start(self) -> None:
        """With a model configured, build the Guardrails guards in a worker thread; requests wait for them."""
        if self.model is not None and self._guardrails is None:
            self._guardrails = asyncio.ensure_future(asyncio.to_thread(guardrails_guards))

    async def close(self) -> None:
        if self._guardrails is not None and not self._guardrails.done():
            self._guardrails.cancel()
        if self.model is not None:
            await self.model.aclose()

    async def _guards(self) -> tuple[Guards, bool]:
        """(the guards to use, whether the model may be asked): never the model without Guardrails."""
        if self.model is None or self._guardrails is None:
            return self._plain, False
        try:
            return await asyncio.shield(self._guardrails), True
        except Exception:
            logger.exception("guardrails could not be loaded; the model is not used")
            self._guardrails = None  # log once; the rule-based parser answers from now on
            return self._plain, False

    async def draft(self, conn: Connection, principal: Principal, text: str) -> DraftResponse:
        started = time.perf_counter()
        response = await self._draft(conn, principal, text)
        self.metrics.latency.labels(response.source).observe(time.perf_counter() - started)
        self.metrics.drafts.labels(response.source, "draft" if response.draft else "refusal").inc()
        return response

    async def _draft(self, conn: Connection, principal: Principal, text: str) -> DraftResponse:
        guards, use_model = await self._guards()
        checked = await asyncio.to_thread(guards.check_input, text)
        if not checked.ok:
            return self._refusal("rules", checked.failures[0], checked.passed, None)
        ctx = await _load_context(conn, principal)
        fallback: _Fallback | None = None
        if use_model and self.model is not None:
            outcome = await self._ask_model(self.model, guards, checked.text, ctx)
            if isinstance(outcome, _Accepted):
                return DraftResponse(
                    draft=outcome.draft,
                    source="model",
                    explanation=f"{explain(outcome.draft, ctx.draft)}{outcome.note}; understood by the model "
                    f"(confidence {outcome.answer.confidence:.2f}).",
                    checks=[*checked.passed, SCHEMA, AMOUNT, *outcome.report.passed],
                    refusal=None,
                )
            fallback = outcome
            self.metrics.fallbacks.labels(fallback.reason).inc()
        return await self._rules(guards, text, ctx, [*checked.passed], fallback)

    async def _rules(
        self, guards: Guards, text: str, ctx: _Context, passed: list[str], fallback: _Fallback | None
    ) -> DraftResponse:
        reason = f" The model's answer was not used: {fallback.detail}." if fallback else ""
        intent = parse(text, ctx.pairs)
        if isinstance(intent, ParseRefusal):
            return DraftResponse(
                draft=None,
                source="rules",
                explanation=intent.detail + reason,
                checks=passed,
                refusal=Refusal(reason=intent.reason, detail=intent.detail),
                fallback=fallback.reason if fallback else None,
            )
        resolved = resolve(intent, ctx.draft)
        if isinstance(resolved, GuardFailure):
            return self._refusal("rules", resolved, tuple(passed), fallback, suffix=reason)
        draft, note = resolved
        report = await asyncio.to_thread(guards.check_draft, draft, ctx.draft)
        if not report.ok:
            return self._refusal(
                "rules", report.failures[0], (*passed, AMOUNT, *report.passed), fallback, reason
            )
        return DraftResponse(
            draft=draft,
            source="rules",
            explanation=f"{explain(draft, ctx.draft)}{note}.{reason}",
            checks=[*passed, AMOUNT, *report.passed],
            refusal=None,
            fallback=fallback.reason if fallback else None,
        )

    async def _ask_model(
        self, model: llm.ChatModel, guards: Guards, text: str, ctx: _Context
    ) -> _Accepted | _Fallback:
        messages = llm.prompt_messages(text, ctx.pairs)
        failure: GuardFailure | None = None
        for attempt in (1, 2):
            try:
                raw = await model.complete(messages)
            except llm.ModelUnavailable as error:
                reason: FallbackReason = "model_timeout" if error.timed_out else "model_error"
                return _Fallback(reason, f"the model failed ({error})")
            checked = await asyncio.to_thread(guards.check_answer, raw)
            failure = checked.failure
            if checked.answer is not None:
                resolved = resolve(intent_of(checked.answer), ctx.draft)
                if isinstance(resolved, GuardFailure):
                    failure = resolved
                else:
                    draft, note = resolved
                    report = await asyncio.to_thread(guards.check_draft, draft, ctx.draft)
                    if report.ok:
                        if checked.answer.confidence < self.settings.assistant_min_confidence:
                            return _Fallback(
                                "low_confidence",
                                f"its confidence {checked.answer.confidence:.2f} is below "
                                f"{self.settings.assistant_min_confidence:.2f}",
                            )
                        return _Accepted(draft, report, checked.answer, note)
                    failure = report.failures[0]
            assert failure is not None
            self.metrics.guard_failures.labels(failure.guard, "model").inc()
            if attempt == 1:
                self.metrics.retries.inc()
                messages = llm.retry_messages(messages, raw, _for_model(failure))
        assert failure is not None
        return _Fallback("guard_failed", f"it failed the {failure.guard} guard twice ({failure.detail})")

    def _refusal(
        self,
        source: Source,
        failure: GuardFailure,
        passed: tuple[str, ...],
        fallback: _Fallback | None,
        suffix: str = "",
    ) -> DraftResponse:
        self.metrics.guard_failures.labels(failure.guard, source).inc()
        return DraftResponse(
            draft=None,
            source=source,
            explanation=failure.detail + suffix,
            checks=list(passed),
            refusal=Refusal(reason=failure.reason, detail=failure.detail),
            fallback=fallback.reason if fallback else None,
        )


def _for_model(failure: GuardFailure) -> str:
    """What the model is told about a failed guard: never the trader's balances."""
    if failure.reason == "insufficient_funds":
        return "the trader cannot afford that amount; check quantity, portion and price"
    return failure.detail


async def _load_context(conn: Connection, principal: Principal) -> _Context:
    instruments = await markets.list_instruments(conn)
    last_prices = {
        market.symbol: market.last for market in await markets.list_markets(conn, datetime.now(UTC))
    }
    balances = await ledger.balances(conn, principal.user_id)
    return _Context(
        pairs=[Pair(i.symbol, i.base_asset, i.quote_asset) for i in instruments],
        draft=DraftContext(
            instruments={i.symbol: i for i in instruments},
            last_prices=last_prices,
            available={balance.asset: balance.available for balance in balances},
        ),
    )


def intent_of(answer: ModelAnswer) -> Intent | GuardFailure:
    amounts = [value for value in (answer.quantity, answer.quote_amount, answer.portion) if value is not None]
    if len(amounts) != 1:
        return GuardFailure(
            SCHEMA, "invalid_order", "Give exactly one of quantity, quote_amount and portion."
        )
    return Intent(
        symbol=answer.symbol,
        side=answer.side,
        type=answer.type,
        quantity=answer.quantity,
        quote_amount=answer.quote_amount,
        portion=answer.portion,
        price=answer.price,
        time_in_force=answer.time_in_force,
        post_only=answer.post_only,
    )


def _floor(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_FLOOR) * step


def _ceil(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_CEILING) * step


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def resolve(intent: Intent | GuardFailure, ctx: DraftContext) -> tuple[OrderDraft, str] | GuardFailure:
    """The order-shaped draft of an intent: amounts computed from the trader's balances and the market's
    last price by our code, rounded down to the instrument's grid only where we computed them (an amount
    the trader wrote is never rounded). Returns the draft and a note on how amounts were computed."""
    if isinstance(intent, GuardFailure):
        return intent
    instrument = ctx.instruments.get(intent.symbol)
    if instrument is None:
        listed = ", ".join(sorted(ctx.instruments))
        return GuardFailure(
            "market_trades", "unknown_market", f"There is no {intent.symbol} market ({listed})."
        )
    lot, budget_step = instrument.lot_size, instrument.tick_size * instrument.lot_size
    base, quote = instrument.base_asset, instrument.quote_asset
    last = ctx.last_prices.get(intent.symbol)
    buy_market = intent.side == "buy" and intent.type == "market"
    quantity, budget, note = intent.quantity, None, ""
    if intent.type == "limit" and intent.price is None:
        return GuardFailure("order_shape", "invalid_order", "A limit order needs a price.")
    if intent.portion is not None:
        asset = base if intent.side == "sell" else quote
        available = ctx.available.get(asset, Decimal(0))
        share = available * intent.portion
        if intent.side == "sell":
            quantity = _floor(share, lot)
        elif buy_market:
            budget = _floor(share, budget_step)
        else:
            assert intent.price is not None
            quantity = _floor(share / intent.price, lot)
        if not (quantity or budget):
            return GuardFailure(
                AMOUNT,
                "insufficient_funds",
                f"{_share(intent.portion)} your {_plain(available)} {asset} available is not enough for "
                f"one {intent.symbol} order.",
            )
        note = f" ({_share(intent.portion)} your {_plain(available)} {asset} available, rounded down)"
    elif intent.quote_amount is not None:
        if buy_market:
            budget = intent.quote_amount
        else:
            reference = intent.price or last
            if reference is None:
                return GuardFailure(
                    AMOUNT,
                    "ambiguous",
                    f"{intent.symbol} has no last price to convert {quote}: give a quantity.",
                )
            quantity = _floor(intent.quote_amount / reference, lot)
            if not quantity:
                return GuardFailure(AMOUNT, "below_min_notional", f"That is less than one lot of {base}.")
            note = f" ({_plain(intent.quote_amount)} {quote} at {_plain(reference)}, rounded down)"
    if buy_market and budget is None:
        assert quantity is not None
        if last is None:
            return GuardFailure(
                AMOUNT,
                "ambiguous",
                f"{intent.symbol} has no last price to bound a market buy: give a limit price or an "
                f"amount of {quote} to spend.",
            )
        # The order API needs the most quote a market buy may spend: the quantity at the edge of the
        # price band, capped by what the trader has.
        ceiling = _ceil(quantity * last * (1 + instrument.price_band_pct / 100), budget_step)
        available = _floor(ctx.available.get(quote, Decimal(0)), budget_step)
        budget = min(ceiling, available)
        if budget < quantity * last:
            return GuardFailure(
                "affordable",
                "insufficient_funds",
                f"{_plain(quantity)} {base} costs about {_plain(quantity * last)} {quote}; you have "
                f"{_plain(ctx.available.get(quote, Decimal(0)))} {quote} available.",
            )
        note = f" (spending at most {_plain(budget)} {quote})"
    draft = OrderDraft(
        symbol=intent.symbol,
        side=intent.side,
        type=intent.type,
        quantity=quantity,
        price=intent.price,
        quote_budget=budget,
        time_in_force=intent.time_in_force,
        post_only=intent.post_only,
    )
    return draft, note


def _share(portion: Decimal) -> str:
    names = {Decimal(1): "all of", Decimal("0.5"): "half of", Decimal("0.25"): "a quarter of"}
    if portion in names:
        return names[portion]
    return f"{_plain((portion * 100).quantize(Decimal('0.01')))}% of"


_TIF: dict[str, str] = {"GTC": "good till cancelled", "IOC": "immediate or cancel", "FOK": "fill or kill"}


def explain(draft: OrderDraft, ctx: DraftContext) -> str:
    instrument = ctx.instruments[draft.symbol]
    verb: Literal["Buy", "Sell"] = "Buy" if draft.side == "buy" else "Sell"
    if draft.quantity is not None:
        what = f"{verb} {_plain(draft.quantity)} {instrument.base_asset}"
    else:
        assert draft.quote_budget is not None
        what = f"{verb} {instrument.base_asset} for {_plain(draft.quote_budget)} {instrument.quote_asset}"
    how = "at market" if draft.price is None else f"at {_plain(draft.price)} {instrument.quote_asset}"
    extra = [_TIF[draft.time_in_force]]
    if draft.post_only:
        extra.append("post-only")
    return f"{what} on {draft.symbol} {how}, {', '.join(extra)}"
