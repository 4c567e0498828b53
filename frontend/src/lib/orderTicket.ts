/**
 * The order ticket's checks, run before anything is sent: the same grid rules the API enforces (tick,
 * lot, minimum notional) plus the trader's available balance, so most mistakes are caught while typing.
 * The API stays the authority; its problem details are shown when it disagrees.
 */
import { dec, isMultipleOf, parseDecimal, toWire, type Decimal } from "./decimal";

export type Side = "buy" | "sell";
export type OrderType = "limit" | "market";
export type TimeInForce = "GTC" | "IOC" | "FOK";

/** The instrument's rules, as `GET /api/v1/markets/{symbol}` returns them. */
export interface InstrumentRules {
  symbol: string;
  base_asset: string;
  quote_asset: string;
  tick_size: string;
  lot_size: string;
  min_notional: string;
}

export interface TicketInput {
  side: Side;
  type: OrderType;
  price: string;
  quantity: string;
  /** Market buys spend at most this much quote. */
  quoteBudget: string;
  timeInForce: TimeInForce;
  postOnly: boolean;
}

/** Available (not held) amounts by asset, as decimal strings from `GET /api/v1/balances`. */
export type Available = Readonly<Record<string, string | undefined>>;

/** Best prices, to estimate a market order's notional; either may be missing on an empty book. */
export interface Quote {
  bestBid?: string | null | undefined;
  bestAsk?: string | null | undefined;
}

/** The body of `POST /api/v1/orders`. */
export interface OrderDraft {
  symbol: string;
  side: Side;
  type: OrderType;
  quantity?: string;
  price?: string;
  quote_budget?: string;
  time_in_force: TimeInForce;
  post_only: boolean;
}

export type TicketField = "price" | "quantity" | "quoteBudget" | "form";
export type TicketErrors = Partial<Record<TicketField, string>>;

export type TicketResult =
  | { ok: true; order: OrderDraft; notional: string | undefined; cost: { asset: string; amount: string } }
  | { ok: false; errors: TicketErrors; notional: string | undefined };

/** An order-shaped draft (the assistant's, `POST /api/v1/assistant/order-draft`) whose fields fill the ticket. */
export interface DraftFields {
  side: Side;
  type: OrderType;
  price?: string | null;
  quantity?: string | null;
  quote_budget?: string | null;
  time_in_force?: TimeInForce;
  post_only?: boolean;
}

/** The ticket as a draft fills it: every field the draft has, nothing else; the trader still confirms it. */
export function ticketFromDraft(draft: DraftFields): TicketInput {
  return {
    side: draft.side,
    type: draft.type,
    price: draft.price ?? "",
    quantity: draft.quantity ?? "",
    quoteBudget: draft.quote_budget ?? "",
    timeInForce: draft.time_in_force ?? "GTC",
    postOnly: draft.post_only ?? false,
  };
}

type Parsed = { value: Decimal } | { error: string };

function parseAmount(label: string, text: string, step: string, stepName: string): Parsed {
  if (text.trim() === "") return { error: `Enter a ${label}.` };
  const value = parseDecimal(text);
  if (value === undefined) return { error: `${capitalise(label)} must be a number like 0.015.` };
  if (value.lte(0)) return { error: `${capitalise(label)} must be greater than zero.` };
  if (!isMultipleOf(value, dec(step))) return { error: `${capitalise(label)} must be a multiple of the ${stepName} ${step}.` };
  return { value };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function validateOrderTicket(
  input: TicketInput,
  rules: InstrumentRules,
  available: Available,
  quote: Quote = {},
): TicketResult {
  const errors: TicketErrors = {};
  const minNotional = dec(rules.min_notional);
  const availableQuote = parseDecimal(available[rules.quote_asset] ?? "0") ?? dec("0");
  const availableBase = parseDecimal(available[rules.base_asset] ?? "0") ?? dec("0");
  const base = { symbol: rules.symbol, side: input.side, type: input.type };

  if (input.type === "limit") {
    const price = parseAmount("price", input.price, rules.tick_size, "tick size");
    const quantity = parseAmount("quantity", input.quantity, rules.lot_size, "lot size");
    if ("error" in price) errors.price = price.error;
    if ("error" in quantity) errors.quantity = quantity.error;
    if ("error" in price || "error" in quantity) return { ok: false, errors, notional: undefined };
    const notional = price.value.times(quantity.value);
    if (notional.lt(minNotional)) {
      errors.form = `Order value ${toWire(notional)} ${rules.quote_asset} is below the minimum ${rules.min_notional} ${rules.quote_asset}.`;
    } else if (input.side === "buy" && notional.gt(availableQuote)) {
      errors.form = `Not enough ${rules.quote_asset}: ${toWire(notional)} needed, ${toWire(availableQuote)} available.`;
    } else if (input.side === "sell" && quantity.value.gt(availableBase)) {
      errors.quantity = `Not enough ${rules.base_asset}: ${toWire(availableBase)} available.`;
    }
    if (input.postOnly && input.timeInForce !== "GTC") {
      errors.form = "Post-only orders rest in the book, so they must be good-till-cancelled.";
    }
    if (Object.keys(errors).length > 0) return { ok: false, errors, notional: toWire(notional) };
    return {
      ok: true,
      notional: toWire(notional),
      order: {
        ...base,
        price: toWire(price.value),
        quantity: toWire(quantity.value),
        time_in_force: input.timeInForce,
        post_only: input.postOnly,
      },
      cost:
        input.side === "buy"
          ? { asset: rules.quote_asset, amount: toWire(notional) }
          : { asset: rules.base_asset, amount: toWire(quantity.value) },
    };
  }

  // Market orders never rest: immediate-or-cancel, never post-only.
  if (input.side === "buy") {
    if (input.quoteBudget.trim() === "") {
      errors.quoteBudget = `Enter how much ${rules.quote_asset} to spend.`;
      return { ok: false, errors, notional: undefined };
    }
    const budget = parseDecimal(input.quoteBudget);
    if (budget === undefined || budget.lte(0)) {
      errors.quoteBudget = "Amount to spend must be a number greater than zero.";
      return { ok: false, errors, notional: undefined };
    }
    if (budget.lt(minNotional)) {
      errors.quoteBudget = `Spend at least ${rules.min_notional} ${rules.quote_asset}.`;
    } else if (budget.gt(availableQuote)) {
      errors.quoteBudget = `Not enough ${rules.quote_asset}: ${toWire(availableQuote)} available.`;
    }
    if (quote.bestAsk === null || quote.bestAsk === undefined) {
      errors.form = "Nobody is selling right now; a market buy would not fill.";
    }
    if (Object.keys(errors).length > 0) return { ok: false, errors, notional: toWire(budget) };
    return {
      ok: true,
      notional: toWire(budget),
      order: { ...base, quote_budget: toWire(budget), time_in_force: "IOC", post_only: false },
      cost: { asset: rules.quote_asset, amount: toWire(budget) },
    };
  }

  const quantity = parseAmount("quantity", input.quantity, rules.lot_size, "lot size");
  if ("error" in quantity) return { ok: false, errors: { quantity: quantity.error }, notional: undefined };
  const bestBid = parseDecimal(quote.bestBid ?? undefined);
  const estimate = bestBid === undefined ? undefined : bestBid.times(quantity.value);
  if (quantity.value.gt(availableBase)) {
    errors.quantity = `Not enough ${rules.base_asset}: ${toWire(availableBase)} available.`;
  } else if (estimate === undefined) {
    errors.form = "Nobody is buying right now; a market sell would not fill.";
  } else if (estimate.lt(minNotional)) {
    errors.form = `Order value about ${toWire(estimate)} ${rules.quote_asset} is below the minimum ${rules.min_notional} ${rules.quote_asset}.`;
  }
  const notional = estimate === undefined ? undefined : toWire(estimate);
  if (Object.keys(errors).length > 0) return { ok: false, errors, notional };
  return {
    ok: true,
    notional,
    order: { ...base, quantity: toWire(quantity.value), time_in_force: "IOC", post_only: false },
    cost: { asset: rules.base_asset, amount: toWire(quantity.value) },
  };
}
