"""The rule-based parser: a trader's words → one order intent, or a refusal saying why not.

Deterministic and pure (no I/O): the default way the assistant understands text and the fallback whenever a
language model is absent, slow, wrong or unsure. It understands

- quantities with separators ("1,250.5", "1 250", "0.25", "1.5k") and spelled small numbers ("two"),
- relative amounts ("half my SOL", "all my ETH", "25% of my USDT"), returned as a `portion` that the service
  turns into an amount from the trader's real balance,
- amounts of quote to spend or receive ("$500 of BTC", "buy ETH with 0.1 BTC", "spend 200 usdt on sol"),
- markets by ticker, name or pair ("bitcoin", "ether", "sol", "ETH/USDT", "eth-btc", "ethusdt"),
- prices with currency signs or units ("at $3,100", "@ 3.1k", "at 3100 usdt", "for 0.05 btc"),
- market or limit, and time in force ("good till cancelled", "IOC", "fill or kill", "post only").

Anything ambiguous (a unitless number, two markets, "1,5") or impossible (two orders at once, a stop order,
a market that does not exist) is refused with a reason rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from server_fastapi.assistant.schemas import RefusalReason
from server_fastapi.trading.schemas import SideName, TimeInForceName, TypeName


@dataclass(frozen=True, slots=True)
class Pair:
    symbol: str
    base: str
    quote: str


@dataclass(frozen=True, slots=True)
class Intent:
    """What the trader asked for, before amounts are computed and checked against the market.

    Exactly one of `quantity` (base), `quote_amount` (quote to spend or receive) and `portion` (share of the
    balance being sold or spent) is set."""

    symbol: str
    side: SideName
    type: TypeName
    quantity: Decimal | None = None
    quote_amount: Decimal | None = None
    portion: Decimal | None = None
    price: Decimal | None = None
    time_in_force: TimeInForceName = "GTC"
    post_only: bool = False


@dataclass(frozen=True, slots=True)
class ParseRefusal:
    reason: RefusalReason
    detail: str


class _Refuse(Exception):
    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(detail)
        self.refusal = ParseRefusal(reason, detail)


# Names people use for the listed assets; only those whose code is listed are recognised.
ASSET_NAMES: dict[str, tuple[str, ...]] = {
    "BTC": ("bitcoin", "bitcoins", "xbt"),
    "ETH": ("ether", "ethereum", "ethers"),
    "SOL": ("solana",),
    "USDT": ("tether", "usd", "dollar", "dollars", "bucks"),
}
USD_CODE = "USDT"  # "$" and "usd" mean the venue's dollar stablecoin
DEFAULT_QUOTE = "USDT"

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_FRACTIONS = {
    "half": Decimal("0.5"),
    "a half": Decimal("0.5"),
    "a third": Decimal(1) / Decimal(3),
    "one third": Decimal(1) / Decimal(3),
    "a quarter": Decimal("0.25"),
    "one quarter": Decimal("0.25"),
    "three quarters": Decimal("0.75"),
    "all": Decimal(1),
    "all of": Decimal(1),
    "everything of": Decimal(1),
    "the whole of": Decimal(1),
    "the entirety of": Decimal(1),
}

_BUY_WORDS = ("buy", "spend", "purchase", "acquire", "bid for", "pick up", "grab", "get me")
_SELL_WORDS = ("sell", "offload", "unload", "dump", "liquidate", "cash in")
_UNSUPPORTED = {
    r"\bstop[- ]?(?:loss|limit|order)?\b": "stop orders",
    r"\btake[- ]profit\b": "take-profit orders",
    r"\btrailing\b": "trailing orders",
    r"\boco\b": "one-cancels-other orders",
    r"\bshort(?:ing)?\b": "short selling",
    r"\b(?:leverage|margin|\d+x)\b": "leverage",
    r"\b(?:if|when|once)\b.*\b(?:drops?|falls?|rises?|hits?|reaches?|goes)\b": "conditional orders",
    r"\b(?:every|daily|weekly|monthly|recurring|dca)\b": "recurring orders",
    r"\bcancel\w*\b": "cancelling (use the orders list)",
    r"\b(?:swap|convert)\b": "conversions (say buy or sell and the market)",
}

_TIF_PATTERNS: tuple[tuple[str, TimeInForceName], ...] = (
    (r"\bgood[- ]?(?:till?|until|'til)[- ]?cancell?ed\b|\buntil cancell?ed\b|\bgtc\b", "GTC"),
    (r"\bimmediate[- ]?or[- ]?cancel\b|\bioc\b", "IOC"),
    (r"\bfill[- ]?or[- ]?kill\b|\bfok\b|\ball[- ]or[- ]nothing\b", "FOK"),
)
_POST_ONLY = r"\bpost[- ]?only\b|\bmaker[- ]?only\b"
_MARKET = r"\bat (?:the )?market(?: price)?\b|\bmarket (?:order|price)\b|\bat best\b|\bmkt\b|\bmarket\b"
_LIMIT = r"\blimit(?: order)?\b"

_NUMBER = (
    r"(?P<num>\d{1,3}(?:(?:,|[ ])\d{3})+(?:\.\d+)?(?![\d,])|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?P<suffix>k|m)(?![a-z]))?"
)
_NUMBER_RE = re.compile(r"(?<![\w.])" + _NUMBER)
_WORD = re.compile(r"[a-z][a-z0-9]*")
_PRICE_LEAD = re.compile(r"(?:@|\bat|\blimit(?: price)?(?: of)?|\bprice(?: of)?|\bpriced at|\bfor)\s*\$?\s*$")
_SPEND_LEAD = re.compile(r"(?:\bwith|\bspend|\busing|\bspending|\bfor)\s*\$?\s*$")


@dataclass
class _Scan:
    text: str
    aliases: dict[str, str]
    quantities: list[tuple[Decimal, str]] = field(default_factory=list)
    prices: list[tuple[Decimal, str | None]] = field(default_factory=list)
    spends: list[tuple[Decimal, str]] = field(default_factory=list)
    portions: list[tuple[Decimal, str]] = field(default_factory=list)
    quote_hints: set[str] = field(default_factory=set)


def parse(text: str, pairs: Sequence[Pair]) -> Intent | ParseRefusal:
    """The order `text` asks for in one of `pairs`, or why there is none."""
    try:
        return _parse(text, pairs)
    except _Refuse as refused:
        return refused.refusal


def asset_aliases(pairs: Iterable[Pair]) -> dict[str, str]:
    """Lower-case word → asset code, for every asset the listed markets trade."""
    codes = {code for pair in pairs for code in (pair.base, pair.quote)}
    aliases = {code.lower(): code for code in codes}
    for code, names in ASSET_NAMES.items():
        if code in codes:
            aliases.update(dict.fromkeys(names, code))
    return aliases


def _normalise(text: str) -> str:
    text = text.lower()
    text = re.sub(r"[\u00a0\u2007\u2009\u202f]", " ", text)  # no-break and thin spaces group thousands
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", text).strip(" .!?")


def _decimal(raw: str, suffix: str | None) -> Decimal:
    try:
        value = Decimal(re.sub(r"[ ,]", "", raw))
    except InvalidOperation:
        raise _Refuse("ambiguous", f"I could not read the number {raw!r}.") from None
    if suffix == "k":
        value *= 1000
    elif suffix == "m":
        value *= 1_000_000
    return value


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _parse(raw_text: str, pairs: Sequence[Pair]) -> Intent:
    text = _normalise(raw_text)
    aliases = asset_aliases(pairs)
    if not text:
        raise _Refuse("not_an_order", "Say what to buy or sell, e.g. “buy 0.25 ETH at 3,100”.")

    time_in_force, post_only, text = _time_in_force(text)
    for pattern, what in _UNSUPPORTED.items():
        if re.search(pattern, text):
            raise _Refuse("unsupported", f"The assistant drafts plain limit and market orders, not {what}.")
    side = _side(text)
    if re.search(r"(?:^|[\s(])-\s?\d", text):
        raise _Refuse("invalid_order", "Amounts must be positive.")
    comma = re.search(r"(?<![\d,])(\d+),(\d{1,2}|\d{4,})(?![\d,])", text)
    if comma:
        whole, part = comma.groups()
        raise _Refuse(
            "ambiguous",
            f"“{comma.group(0)}” is unclear: write {whole}.{part} or {whole}{part} (a dot for decimals).",
        )
    text = re.sub(r"\b(" + "|".join(_WORD_NUMBERS) + r")\b", lambda m: str(_WORD_NUMBERS[m.group(1)]), text)

    scan = _Scan(text=text, aliases=aliases)
    pair = _explicit_pair(scan, pairs)
    _portions(scan)
    _numbers(scan, has_base_quantity=_has_base_quantity(scan), pair=pair)
    is_market = re.search(_MARKET, scan.text) is not None
    is_limit = re.search(_LIMIT, scan.text) is not None
    mentioned = _mentioned_assets(scan)

    if side is None:
        if not (scan.quantities or scan.spends or scan.portions or scan.prices):
            raise _Refuse("not_an_order", "I draft buy and sell orders only: say what to buy or sell.")
        raise _Refuse("ambiguous", "Say whether to buy or sell.")
    amounts = len(scan.quantities) + len(scan.spends) + len(scan.portions)
    if amounts == 0:
        raise _Refuse("ambiguous", "Say how much, e.g. “0.5 ETH”, “$200 of BTC” or “half my SOL”.")
    if amounts > 1:
        raise _Refuse("ambiguous", "Give one amount: the assistant drafts one order at a time.")
    if len(scan.prices) > 1:
        raise _Refuse("ambiguous", "Give one price.")
    price, price_asset = scan.prices[0] if scan.prices else (None, None)
    if price is not None and is_market:
        raise _Refuse("ambiguous", "A market order has no price: say “at market” or give a limit price.")
    if is_limit and price is None:
        raise _Refuse("ambiguous", "A limit order needs a price, e.g. “at 3,100”.")
    if price_asset is not None:
        scan.quote_hints.add(price_asset)

    quantity = quote_amount = portion = None
    base_hints: set[str] = set()
    if scan.quantities:
        quantity, unit = scan.quantities[0]
        base_hints.add(unit)
    elif scan.spends:
        quote_amount, unit = scan.spends[0]
        scan.quote_hints.add(unit)
    else:
        portion, unit = scan.portions[0]
        if side == "sell":
            base_hints.add(unit)
        else:
            scan.quote_hints.add(unit)
    for value in (quantity, quote_amount, portion, price):
        if value is not None and value <= 0:
            raise _Refuse("invalid_order", "Amounts and prices must be greater than zero.")

    if pair is None:
        pair = _choose_pair(pairs, base_hints, scan.quote_hints, mentioned)
    elif not base_hints <= {pair.base} or not scan.quote_hints <= {pair.quote}:
        if not (base_hints <= {pair.base, pair.quote} and scan.quote_hints <= {pair.quote}):
            raise _Refuse("ambiguous", f"The amounts do not match the market {pair.symbol}.")
        if quantity is not None and base_hints == {pair.quote}:
            # "buy 500 USDT of ETH/USDT": an amount in the quote asset is a sum to spend.
            quote_amount, quantity = quantity, None
    if portion is not None:
        spent = pair.base if side == "sell" else pair.quote
        if scan.portions[0][1] != spent:
            raise _Refuse(
                "ambiguous",
                f"To {side} on {pair.symbol} you spend {spent}; say a share of your {spent}.",
            )
    return Intent(
        symbol=pair.symbol,
        side=side,
        type="limit" if price is not None else "market",
        quantity=quantity,
        quote_amount=quote_amount,
        portion=portion,
        price=price,
        time_in_force=time_in_force,
        post_only=post_only,
    )


def _time_in_force(text: str) -> tuple[TimeInForceName, bool, str]:
    found: list[TimeInForceName] = []
    for pattern, value in _TIF_PATTERNS:
        if re.search(pattern, text):
            found.append(value)
            text = re.sub(pattern, " ", text)
    post_only = re.search(_POST_ONLY, text) is not None
    text = re.sub(_POST_ONLY, " ", text)
    if len(found) > 1:
        raise _Refuse("ambiguous", "Give one time in force: good till cancelled, IOC or fill or kill.")
    return (found[0] if found else "GTC"), post_only, re.sub(r"\s+", " ", text).strip()


def _side(text: str) -> Literal["buy", "sell"] | None:
    buys = any(re.search(rf"\b{word}\b", text) for word in _BUY_WORDS)
    sells = any(re.search(rf"\b{word}\b", text) for word in _SELL_WORDS)
    if buys and sells:
        raise _Refuse("unsupported", "One order at a time: ask for the buy and the sell separately.")
    return "buy" if buys else "sell" if sells else None


def _explicit_pair(scan: _Scan, pairs: Sequence[Pair]) -> Pair | None:
    """A pair written as `ETH/USDT`, `eth-btc`, `eth_usdt` or `ethusdt`; refused when it is not listed."""
    by_assets = {(p.base, p.quote): p for p in pairs}
    written = re.search(r"\b([a-z0-9]{2,12})\s?[/\-_:]\s?([a-z0-9]{2,12})\b", scan.text)
    found: tuple[str, str] | None = None
    span = (0, 0)
    if written:
        first, second = (scan.aliases.get(word) for word in written.groups())
        if first and second:
            found, span = (first, second), written.span()
    if found is None:
        for match in _WORD.finditer(scan.text):
            word = match.group(0)
            for candidate in pairs:
                if word == (candidate.base + candidate.quote).lower():
                    found, span = (candidate.base, candidate.quote), match.span()
    if found is None:
        return None
    pair = by_assets.get(found)
    if pair is not None:
        # The pair stands for its base asset from here on: "buy 1 eth/btc" is 1 ETH.
        start, end = span
        scan.text = scan.text[:start] + pair.base.lower().ljust(end - start) + scan.text[end:]
        return pair
    reverse = by_assets.get((found[1], found[0]))
    hint = f" Did you mean {reverse.symbol}?" if reverse else ""
    raise _Refuse("unknown_market", f"There is no {found[0]}-{found[1]} market.{hint}")


def _portions(scan: _Scan) -> None:
    fraction = "|".join(sorted((re.escape(key) for key in _FRACTIONS), key=len, reverse=True))
    pattern = re.compile(
        rf"\b(?:(?P<word>{fraction})(?:\s+of)?|(?P<pct>\d+(?:\.\d+)?)\s?(?:%|percent\b)(?: of)?)"
        r"\s+my\s+(?:entire\s+|whole\s+)?(?P<asset>[a-z0-9]+)(?:\s+(?:balance|holdings?|position|stack|bag))?"
        r"|\bmy\s+(?:entire|whole)\s+(?P<asset2>[a-z0-9]+)(?:\s+(?:balance|holdings?|position|stack|bag))?"
    )
    for match in list(pattern.finditer(scan.text)):
        word = match.group("asset") or match.group("asset2")
        asset = scan.aliases.get(word)
        if asset is None:
            raise _Refuse("unknown_market", f"“{word.upper()}” is not an asset traded here.")
        if match.group("pct"):
            share = Decimal(match.group("pct")) / 100
            if not 0 < share <= 1:
                raise _Refuse("invalid_order", "A share of a balance must be more than 0% and at most 100%.")
        elif match.group("word"):
            share = _FRACTIONS[match.group("word")]
        else:
            share = Decimal(1)
        scan.portions.append((share, asset))
        scan.text = _blank(scan.text, *match.span())


def _unit_after(scan: _Scan, end: int) -> tuple[str | None, int]:
    """The asset written right after a number ("0.25 eth", "3100usdt", "1 bitcoin"), if any."""
    match = re.match(r"\s?([a-z][a-z0-9]*)", scan.text[end:])
    if not match:
        return None, end
    word = match.group(1)
    if word in scan.aliases:
        return scan.aliases[word], end + match.end()
    return None, end


def _has_base_quantity(scan: _Scan) -> bool:
    """Whether some number carries a unit that is not a currency sign: "for $1000" is then a price."""
    for match in _NUMBER_RE.finditer(scan.text):
        unit, _ = _unit_after(scan, match.end())
        before = scan.text[: match.start()].rstrip()
        if unit is not None and unit != USD_CODE and not before.endswith("$"):
            return True
    return False


_NOT_ASSETS = frozenset(
    re.findall(
        r"\w+",
        "at for of worth each per a an the and with on in into to usd limit market price order orders now "
        "please right away immediately today tokens token coins coin units unit my it them",
    )
)


def _numbers(scan: _Scan, *, has_base_quantity: bool, pair: Pair | None) -> None:
    for match in list(_NUMBER_RE.finditer(scan.text)):
        value = _decimal(match.group("num"), match.group("suffix"))
        before = scan.text[: match.start()]
        dollar = before.rstrip().endswith("$")
        unit, unit_end = _unit_after(scan, match.end())
        if dollar and unit is None:
            unit = USD_CODE
        rest = scan.text[unit_end:]
        if _PRICE_LEAD.search(before) and not (
            before.rstrip().rstrip("$").rstrip().endswith("for") and not has_base_quantity
        ):
            if re.match(r"\s?(?:worth|of)\b", rest):
                raise _Refuse(
                    "ambiguous", "Is that a price or an amount to spend? Say “at 3,100” for a price."
                )
            scan.prices.append((value, unit))
            continue
        if (
            re.match(r"\s?(?:worth(?: of)?|of)\b", rest)
            and unit is not None
            and not re.match(r"\s?of my\b", rest)
        ):
            if not re.match(r"\s?(?:worth(?: of)?|of)\s+[a-z]", rest):
                raise _Refuse("ambiguous", "Say what to buy or sell with that amount.")
            scan.spends.append((value, unit))
            continue
        if _SPEND_LEAD.search(before):
            if unit is None:
                raise _Refuse("ambiguous", f"{match.group(0).strip()} of what? Add the asset, e.g. “USDT”.")
            scan.spends.append((value, unit))
            continue
        if unit is None:
            word = re.match(r"\s?(?:of\s+my\s+)?([a-z][a-z0-9]*)", scan.text[match.end() :])
            if word and word.group(1) in scan.aliases:
                scan.quantities.append((value, scan.aliases[word.group(1)]))
                continue
            if pair is not None and not scan.quantities:
                scan.quantities.append((value, pair.base))  # "buy ETH-USDT 0.5"
                continue
            if word and word.group(1) not in _NOT_ASSETS and re.fullmatch(r"[a-z]{2,10}", word.group(1)):
                raise _Refuse("unknown_market", f"“{word.group(1).upper()}” is not an asset traded here.")
            raise _Refuse(
                "ambiguous", f"“{match.group(0).strip()}” needs a unit: write e.g. “{value} ETH” or a price."
            )
        scan.quantities.append((value, unit))


def _mentioned_assets(scan: _Scan) -> list[str]:
    found: list[str] = []
    for match in _WORD.finditer(scan.text):
        word = match.group(0)
        asset = scan.aliases.get(word)
        if asset is None:
            continue
        lead = scan.text[: match.start()].rstrip()
        if re.search(r"\b(?:with|in|for|using|against|into)$", lead):
            scan.quote_hints.add(asset)
        if asset not in found:
            found.append(asset)
    if "$" in scan.text and USD_CODE in scan.aliases.values():
        scan.quote_hints.add(USD_CODE)
    return found


def _choose_pair(pairs: Sequence[Pair], bases: set[str], quotes: set[str], mentioned: list[str]) -> Pair:
    bases = set(bases)
    if not bases:
        bases = {asset for asset in mentioned if asset not in quotes}
    if len(bases) > 1:
        names = " or ".join(sorted(bases))
        raise _Refuse("ambiguous", f"Which asset: {names}? The assistant drafts one order at a time.")
    if len(quotes) > 1:
        raise _Refuse("ambiguous", f"Which currency: {' or '.join(sorted(quotes))}?")
    if not bases:
        if quotes:
            (quote,) = quotes
            raise _Refuse("ambiguous", f"Say what to trade for {quote}, e.g. “buy ETH with 100 {quote}”.")
        raise _Refuse("ambiguous", "Say which asset, e.g. BTC, ETH or SOL.")
    (base,) = bases
    candidates = [p for p in pairs if p.base == base and (not quotes or p.quote in quotes)]
    if not candidates:
        if quotes:
            (quote,) = quotes
            reverse = next((p for p in pairs if p.base == quote and p.quote == base), None)
            if reverse is not None:
                raise _Refuse(
                    "unsupported",
                    f"{reverse.symbol} is priced in {reverse.quote}: say “buy {reverse.base} with … "
                    f"{reverse.quote}” or “sell {reverse.base} for {reverse.quote}”.",
                )
            raise _Refuse("unknown_market", f"There is no {base}-{quote} market.")
        raise _Refuse("unknown_market", f"{base} is not traded against anything here.")
    if len(candidates) == 1:
        return candidates[0]
    default = next((p for p in candidates if p.quote == DEFAULT_QUOTE), None)
    if default is not None:
        return default
    options = ", ".join(p.symbol for p in candidates)
    raise _Refuse("ambiguous", f"Which market: {options}?")
