"""Guards: what the trader's words and every draft must pass, and Guardrails AI running them.

Each guard is a small pure function with a stable name (the name the response's `checks` and the metrics
use). Two runners apply the same functions behind one interface, `Guards`:

- `GuardrailsGuards` wraps each one as a Guardrails AI custom validator (`tessera/<name>`) and validates
  the model's answer with `Guard.for_pydantic(ModelAnswer)` before that. It is used whenever a language
  model is configured, for model and rule-based drafts alike. Guardrails runs fully offline here: no hub
  validators, no remote inference, and its hub telemetry is switched off before the first guard exists.
- `PlainGuards` calls the functions directly. It serves the rule-based parser when no model is
  configured, so a venue without a model never loads Guardrails (its import takes seconds of CPU).

Input guards refuse requests that are not order drafts and obvious prompt injection, and redact personal
data from the text before anything is sent to a model. Draft guards check the market, the order's shape,
the instrument's grid, the minimum notional, the price band and the trader's available balance.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from pydantic import ValidationError

from server_fastapi.assistant.schemas import ModelAnswer, OrderDraft, RefusalReason
from server_fastapi.markets.schemas import Instrument, InstrumentStatus


@dataclass(frozen=True, slots=True)
class GuardFailure:
    guard: str
    reason: RefusalReason
    detail: str


@dataclass(frozen=True, slots=True)
class DraftContext:
    """What the draft guards check against: the listed instruments, last prices, the trader's balances."""

    instruments: Mapping[str, Instrument]
    last_prices: Mapping[str, Decimal | None]
    available: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class GuardReport:
    passed: tuple[str, ...] = ()
    failures: tuple[GuardFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True, slots=True)
class InputReport(GuardReport):
    text: str = ""
    """The text with personal data redacted: the only words a model may see."""


@dataclass(frozen=True, slots=True)
class AnswerCheck:
    """The model's answer, when it has the schema of `ModelAnswer`; otherwise the schema failure."""

    answer: ModelAnswer | None
    failure: GuardFailure | None = None


# --- input guards -----------------------------------------------------------------------------------

_NOT_ORDERS: tuple[tuple[str, str], ...] = (
    (
        r"\bwithdraw\w*|\bcash ?out\b|\bpay ?out\b|\bsend\b.*\bto\b|\btransfer\w*\b|\b0x[0-9a-f]{6,}",
        "withdrawals",
    ),
    (r"\bdeposit\w*\b|\bfaucet\b", "deposits"),
    (
        r"\b(?:password|passphrase|2fa|two[- ]factor|totp|api[- ]?keys?|e-?mail address|settings?|profile|kyc"
        r"|display name|delete my account|close my account|log ?out|sign ?out)\b",
        "account settings",
    ),
    (
        r"\b(?:other|another|all|every|some)\s+(?:users?|traders?|accounts?|customers?|people)\b"
        r"|\b(?:someone|somebody|anybody|anyone)(?: else)?'?s?\b.*"
        r"\b(?:orders?|balances?|trades?|account|funds)\b"
        r"|\b(?!my\b)[a-z]+'s\s+(?:orders?|balances?|trades?|account|funds|positions?|wallet|history)\b"
        r"|\buser\s*(?:id\s*)?#?\d+|\b(?:list|show|dump|export)\b.*\b(?:users|accounts|customers|emails)\b",
        "other users' data",
    ),
)

_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass|skip)\b.{0,40}"
    r"\b(?:instructions?|rules|prompt|guard\w*|checks?|limits?|policy|system|above|previous)\b"
    r"|\bsystem prompt\b|\byou are now\b|\bact as\b|\bpretend\b|\bjailbreak\b|\bdeveloper mode\b|\bdan mode\b"
    r"|\bnew instructions?\b|\b(?:respond|reply|answer|output)\s+(?:only\s+)?(?:with|in)\b.{0,30}\bjson\b"
    r"|\bconfidence\b|</?\s*(?:system|assistant|user|instructions?)\s*>|\[/?inst\]|^\s*(?:system|assistant)\s*:"
    r"|```|\{\s*\"",
    re.IGNORECASE | re.MULTILINE,
)

_PERSONAL = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b0x[0-9a-fA-F]{40}\b"), "[address]"),
    (re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"), "[iban]"),
    (re.compile(r"(?<![\w.])\+?\d[\d -]{8,}\d(?![\w.])"), "[phone]"),
)


def check_order_request(text: str) -> GuardFailure | None:
    lowered = text.lower()
    for pattern, what in _NOT_ORDERS:
        if re.search(pattern, lowered):
            return GuardFailure(
                "order_request",
                "not_an_order",
                f"The assistant only drafts buy and sell orders; it does not handle {what}.",
            )
    return None


def check_no_injection(text: str) -> GuardFailure | None:
    if _INJECTION.search(text):
        return GuardFailure(
            "no_injection",
            "prompt_injection",
            "That reads like instructions to the assistant rather than an order; describe the order only.",
        )
    return None


def redact_personal_data(text: str) -> str:
    """The text with e-mail and wallet addresses, IBANs and phone numbers replaced by placeholders."""
    for pattern, placeholder in _PERSONAL:
        text = pattern.sub(placeholder, text)
    return text


INPUT_CHECKS: tuple[tuple[str, Callable[[str], GuardFailure | None]], ...] = (
    ("order_request", check_order_request),
    ("no_injection", check_no_injection),
)
PERSONAL_DATA = "personal_data"


# --- draft guards -----------------------------------------------------------------------------------


def _instrument(draft: OrderDraft, ctx: DraftContext) -> Instrument:
    return ctx.instruments[draft.symbol]


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def check_market_trades(draft: OrderDraft, ctx: DraftContext) -> GuardFailure | None:
    instrument = ctx.instruments.get(draft.symbol)
    if instrument is None:
        listed = ", ".join(sorted(ctx.instruments))
        return GuardFailure(
            "market_trades", "unknown_market", f"There is no {draft.symbol} market ({listed})."
        )
    if instrument.status is not InstrumentStatus.TRADING:
        return GuardFailure("market_trades", "market_halted", f"Trading in {draft.symbol} is halted.")
    return None


def check_order_shape(draft: OrderDraft, ctx: DraftContext) -> GuardFailure | None:
    problem = None
    if draft.type == "limit":
        if draft.price is None or draft.quantity is None:
            problem = "a limit order needs a price and a quantity"
        elif draft.quote_budget is not None:
            problem = "only market buys have a quote budget"
    elif draft.price is not None:
        problem = "a market order has no price"
    elif draft.side == "sell" and (draft.quantity is None or draft.quote_budget is not None):
        problem = "a market sell needs a quantity and no quote budget"
    elif draft.side == "buy" and draft.quote_budget is None:
        problem = "a market buy needs the most quote it may spend"
    elif draft.side == "buy" and draft.time_in_force == "FOK" and draft.quantity is None:
        problem = "a fill-or-kill market buy needs a quantity"
    if problem is None and draft.post_only and (draft.type != "limit" or draft.time_in_force != "GTC"):
        problem = "only good-till-cancelled limit orders can be post-only"
    if problem is None:
        return None
    return GuardFailure("order_shape", "invalid_order", problem[0].upper() + problem[1:] + ".")


def check_on_grid(draft: OrderDraft, ctx: DraftContext) -> GuardFailure | None:
    instrument = _instrument(draft, ctx)
    steps = (
        ("price", draft.price, instrument.tick_size),
        ("quantity", draft.quantity, instrument.lot_size),
        ("quote budget", draft.quote_budget, instrument.tick_size * instrument.lot_size),
    )
    for name, value, step in steps:
        if value is None:
            continue
        if not value.is_finite() or value <= 0:
            return GuardFailure("on_grid", "invalid_order", f"The {name} must be greater than zero.")
        if value % step != 0:
            return GuardFailure(
                "on_grid",
                "off_grid",
                f"{draft.symbol} takes {name}s in steps of {_plain(step)}; {_plain(value)} is not one.",
            )
    return None


def check_min_notional(draft: OrderDraft, ctx: DraftContext) -> GuardFailure | None:
    instrument = _instrument(draft, ctx)
    last = ctx.last_prices.get(draft.symbol)
    if draft.quote_budget is not None:
        notional: Decimal | None = draft.quote_budget
    elif draft.quantity is not None and (draft.price or last):
        notional = draft.quantity * (draft.price or last or Decimal(0))
    else:
        notional = None
    if notional is not None and notional < instrument.min_notional:
        return GuardFailure(
            "min_notional",
            "below_min_notional",
            f"The order is worth about {_plain(notional)} {instrument.quote_asset}; {draft.symbol} orders "
            f"must be worth at least {_plain(instrument.min_notional)} {instrument.quote_asset}.",
        )
    return None


def check_price_band(draft: OrderDraft, ctx: DraftContext) -> GuardFailure | None:
    instrument = _instrument(draft, ctx)
    last = ctx.last_prices.get(draft.symbol)
    if draft.price is None or last is None:
        return None
    band = last * instrument.price_band_pct / 100
    if abs(draft.price - last) > band:
        return GuardFailure(
            "price_band",
            "outside_price_band",
            f"{_plain(draft.price)} is more than {_plain(instrument.price_band_pct)}% away from the last "
            f"{draft.symbol} price {_plain(last)}; use a price between {_plain(last - band)} and "
            f"{_plain(last + band)}.",
        )
    return None


def hold_for(draft: OrderDraft, instrument: Instrument) -> tuple[str, Decimal]:
    """What placing the draft would reserve: (asset, amount), as the trading service holds it."""
    if draft.side == "sell":
        return instrument.base_asset, draft.quantity or Decimal(0)
    if draft.type == "limit":
        return instrument.quote_asset, (draft.price or Decimal(0)) * (draft.quantity or Decimal(0))
    return instrument.quote_asset, draft.quote_budget or Decimal(0)


def check_affordable(draft: OrderDraft, ctx: DraftContext) -> GuardFailure | None:
    asset, amount = hold_for(draft, _instrument(draft, ctx))
    available = ctx.available.get(asset, Decimal(0))
    if amount > available:
        return GuardFailure(
            "affordable",
            "insufficient_funds",
            f"The order needs {_plain(amount)} {asset}; you have {_plain(available)} {asset} available.",
        )
    return None


DRAFT_CHECKS: tuple[tuple[str, Callable[[OrderDraft, DraftContext], GuardFailure | None]], ...] = (
    ("market_trades", check_market_trades),
    ("order_shape", check_order_shape),
    ("on_grid", check_on_grid),
    ("min_notional", check_min_notional),
    ("price_band", check_price_band),
    ("affordable", check_affordable),
)
"""In order: a later check may rely on an earlier one (the instrument exists), so the first failure stops."""

SCHEMA = "schema"


def json_object(raw: str) -> str | None:
    """The answer's JSON object: the whole answer, optionally in one ```json fence; nothing around it."""
    text = raw.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    return text if text.startswith("{") and text.endswith("}") else None


def parse_answer(raw: str) -> AnswerCheck:
    """`ModelAnswer` from the model's raw text, exactly (decimals as written, no unknown fields)."""
    text = json_object(raw)
    if text is None:
        return AnswerCheck(
            None, GuardFailure(SCHEMA, "invalid_order", "Answer with one JSON object and nothing else.")
        )
    try:
        return AnswerCheck(ModelAnswer.model_validate(json.loads(text, parse_float=Decimal)))
    except (ValueError, ValidationError) as error:
        detail = error.json(include_url=False) if isinstance(error, ValidationError) else str(error)
        return AnswerCheck(None, GuardFailure(SCHEMA, "invalid_order", f"The JSON is invalid: {detail}"))


# --- runners ----------------------------------------------------------------------------------------


class Guards(Protocol):
    """Runs the guards; implementations are synchronous and cheap, the service calls them off the loop."""

    def check_input(self, text: str) -> InputReport: ...

    def check_answer(self, raw: str) -> AnswerCheck: ...

    def check_draft(self, draft: OrderDraft, ctx: DraftContext) -> GuardReport: ...


class PlainGuards:
    """The guard functions called directly (no model configured)."""

    def check_input(self, text: str) -> InputReport:
        return _plain_input(text)

    def check_answer(self, raw: str) -> AnswerCheck:
        return parse_answer(raw)

    def check_draft(self, draft: OrderDraft, ctx: DraftContext) -> GuardReport:
        passed: list[str] = []
        for name, check in DRAFT_CHECKS:
            failure = check(draft, ctx)
            if failure is not None:
                return GuardReport(tuple(passed), (failure,))
            passed.append(name)
        return GuardReport(tuple(passed))


def _plain_input(text: str) -> InputReport:
    passed: list[str] = []
    for name, check in INPUT_CHECKS:
        failure = check(text)
        if failure is not None:
            return InputReport(tuple(passed), (failure,), text="")
        passed.append(name)
    return InputReport((*passed, PERSONAL_DATA), text=redact_personal_data(text))


@dataclass
class _Failures:
    """Where the Guardrails validators put what failed, with our reason codes (one per guard call)."""

    items: list[GuardFailure] = field(default_factory=list)


class GuardrailsGuards:
    """The same guards as Guardrails AI validators. Build it off the event loop: importing Guardrails takes
    seconds. Guardrails' guards keep a call history, so calls are serialised by a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._input_guard, self._answer_guard, self._draft_guard = _build_guardrails()

    def check_input(self, text: str) -> InputReport:
        failures = _Failures()
        with self._lock:
            outcome = self._input_guard.validate(text, metadata={"failures": failures})
        if failures.items:
            first = failures.items[0]
            names = [name for name, _ in INPUT_CHECKS]
            return InputReport(tuple(names[: names.index(first.guard)]), (first,), text="")
        redacted = outcome.validated_output if isinstance(outcome.validated_output, str) else text
        return InputReport((*(name for name, _ in INPUT_CHECKS), PERSONAL_DATA), text=redacted)

    def check_answer(self, raw: str) -> AnswerCheck:
        with self._lock:
            outcome = self._answer_guard.parse(raw, num_reasks=0)
            reasks = list(self._answer_guard.history.last.iterations.last.reasks)
        if not outcome.validation_passed:
            errors = [result.error_message for reask in reasks for result in reask.fail_results]
            detail = "; ".join(str(error) for error in errors) or "The answer does not match the schema."
            return AnswerCheck(None, GuardFailure(SCHEMA, "invalid_order", detail))
        # Guardrails turns decimal strings into floats; read the amounts from the answer itself.
        return parse_answer(raw)

    def check_draft(self, draft: OrderDraft, ctx: DraftContext) -> GuardReport:
        failures = _Failures()
        with self._lock:
            self._draft_guard.validate(
                draft.model_dump_json(), metadata={"context": ctx, "failures": failures}
            )
        if failures.items:
            first = failures.items[0]
            names = [name for name, _ in DRAFT_CHECKS]
            return GuardReport(tuple(names[: names.index(first.guard)]), (first,))
        return GuardReport(tuple(name for name, _ in DRAFT_CHECKS))


def _guardrails_offline() -> None:
    """No telemetry, no remote inference, no server: Guardrails validates in this process and sends nothing.

    Its hub telemetry defaults to on when no `~/.guardrailsrc` says otherwise and every `Guard()` re-reads
    that file, so the exporter itself is removed: with no tracer, hub tracing has nothing to send."""
    from guardrails.classes.rc import RC
    from guardrails.settings import settings
    from guardrails.utils.hub_telemetry_utils import HubTelemetry

    settings.rc = RC(enable_metrics=False, use_remote_inferencing=False)
    settings.disable_tracing = True
    settings.use_server = False
    hub = HubTelemetry(enabled=False)
    if hub._tracer_provider is not None:
        hub._tracer_provider.shutdown()
    hub._tracer = None
    hub._processor = None
    hub._enabled = False


def _build_guardrails() -> tuple[Any, Any, Any]:
    """(input guard, answer schema guard, draft guard) as Guardrails AI guards with our validators."""
    with warnings.catch_warnings():  # its CLI dependencies warn about their own deprecations on import
        warnings.simplefilter("ignore", DeprecationWarning)
        _guardrails_offline()
        from guardrails import Guard, OnFailAction
        from guardrails.validator_base import FailResult, PassResult, Validator, register_validator

    def input_validator(name: str, check: Callable[[str], GuardFailure | None]) -> Any:
        class InputValidator(Validator):  # type: ignore[misc]
            def _validate(self, value: Any, metadata: dict[str, Any]) -> Any:
                failure = check(str(value))
                if failure is None:
                    return PassResult()
                metadata["failures"].items.append(failure)
                return FailResult(error_message=failure.detail)

        InputValidator.__name__ = InputValidator.__qualname__ = f"Tessera_{name}"
        return register_validator(name=f"tessera/{name}", data_type="string")(InputValidator)

    def draft_validator(name: str, check: Callable[[OrderDraft, DraftContext], GuardFailure | None]) -> Any:
        class DraftValidator(Validator):  # type: ignore[misc]
            def _validate(self, value: Any, metadata: dict[str, Any]) -> Any:
                failures: _Failures = metadata["failures"]
                if failures.items:  # an earlier guard failed: this one's premise may not hold
                    return PassResult()
                failure = check(OrderDraft.model_validate_json(value), metadata["context"])
                if failure is None:
                    return PassResult()
                failures.items.append(failure)
                return FailResult(error_message=failure.detail)

        DraftValidator.__name__ = DraftValidator.__qualname__ = f"Tessera_{name}"
        return register_validator(name=f"tessera/{name}", data_type="string")(DraftValidator)

    @register_validator(name=f"tessera/{PERSONAL_DATA}", data_type="string")
    class RedactPersonalData(Validator):  # type: ignore[misc]
        def _validate(self, value: Any, metadata: dict[str, Any]) -> Any:
            redacted = redact_personal_data(str(value))
            if redacted == value:
                return PassResult()
            return FailResult(error_message="personal data redacted", fix_value=redacted)

    def configured(guard: Any) -> Any:
        guard.configure(allow_metrics_collection=False)
        _guardrails_offline()  # configure() re-read the rc file
        return guard

    input_guard = Guard().use(
        *(input_validator(name, check)(on_fail=OnFailAction.NOOP) for name, check in INPUT_CHECKS),
        RedactPersonalData(on_fail=OnFailAction.FIX),
    )
    answer_guard = Guard.for_pydantic(ModelAnswer)
    draft_guard = Guard().use(
        *(draft_validator(name, check)(on_fail=OnFailAction.NOOP) for name, check in DRAFT_CHECKS)
    )
    return configured(input_guard), configured(answer_guard), configured(draft_guard)
