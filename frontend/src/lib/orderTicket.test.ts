import { describe, expect, it } from "vitest";

import { ticketFromDraft, validateOrderTicket, type InstrumentRules, type TicketInput } from "./orderTicket";

const btc: InstrumentRules = {
  symbol: "BTC-USDT",
  base_asset: "BTC",
  quote_asset: "USDT",
  tick_size: "0.1",
  lot_size: "0.0001",
  min_notional: "10",
};

const limitBuy: TicketInput = {
  side: "buy",
  type: "limit",
  price: "64000.5",
  quantity: "0.015",
  quoteBudget: "",
  timeInForce: "GTC",
  postOnly: false,
};

const rich = { USDT: "100000", BTC: "2" };

describe("limit orders", () => {
  it("accepts an order on the grid and sends wire decimals", () => {
    const result = validateOrderTicket(limitBuy, btc, rich);
    expect(result).toEqual({
      ok: true,
      notional: "960.0075",
      cost: { asset: "USDT", amount: "960.0075" },
      order: {
        symbol: "BTC-USDT",
        side: "buy",
        type: "limit",
        price: "64000.5",
        quantity: "0.015",
        time_in_force: "GTC",
        post_only: false,
      },
    });
  });

  it("rejects a price off the tick grid", () => {
    const result = validateOrderTicket({ ...limitBuy, price: "64000.55" }, btc, rich);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.price).toBe("Price must be a multiple of the tick size 0.1.");
  });

  it("rejects a quantity off the lot grid", () => {
    const result = validateOrderTicket({ ...limitBuy, quantity: "0.00015" }, btc, rich);
    expect(!result.ok && result.errors.quantity).toBe("Quantity must be a multiple of the lot size 0.0001.");
  });

  it("does exact decimal arithmetic where floats would fail", () => {
    // 0.1 + 0.2 style traps: 0.3 is a multiple of 0.1 and 3 * 0.1 is exactly the minimum notional 0.3.
    const tiny: InstrumentRules = { ...btc, tick_size: "0.1", lot_size: "3", min_notional: "0.3" };
    const result = validateOrderTicket({ ...limitBuy, price: "0.1", quantity: "3" }, tiny, rich);
    expect(result.ok).toBe(true);
    expect(result.notional).toBe("0.3");
  });

  it("rejects an order below the minimum notional", () => {
    const result = validateOrderTicket({ ...limitBuy, price: "1000", quantity: "0.0099" }, btc, rich);
    expect(!result.ok && result.errors.form).toBe("Order value 9.9 USDT is below the minimum 10 USDT.");
  });

  it("accepts exactly the minimum notional", () => {
    expect(validateOrderTicket({ ...limitBuy, price: "1000", quantity: "0.01" }, btc, rich).ok).toBe(true);
  });

  it("rejects a buy that costs more than the available quote", () => {
    const result = validateOrderTicket(limitBuy, btc, { USDT: "960.0074" });
    expect(!result.ok && result.errors.form).toBe("Not enough USDT: 960.0075 needed, 960.0074 available.");
  });

  it("rejects a sell of more base than available", () => {
    const result = validateOrderTicket({ ...limitBuy, side: "sell" }, btc, { BTC: "0.0149" });
    expect(!result.ok && result.errors.quantity).toBe("Not enough BTC: 0.0149 available.");
  });

  it("treats a missing balance as zero", () => {
    expect(validateOrderTicket(limitBuy, btc, {}).ok).toBe(false);
  });

  it.each([
    ["", "Enter a price."],
    ["abc", "Price must be a number like 0.015."],
    ["1e3", "Price must be a number like 0.015."],
    ["-5", "Price must be a number like 0.015."],
    ["0", "Price must be greater than zero."],
  ])("explains a bad price %j", (price, message) => {
    const result = validateOrderTicket({ ...limitBuy, price }, btc, rich);
    expect(!result.ok && result.errors.price).toBe(message);
  });

  it("refuses post-only with immediate time in force", () => {
    const result = validateOrderTicket({ ...limitBuy, postOnly: true, timeInForce: "IOC" }, btc, rich);
    expect(!result.ok && result.errors.form).toMatch(/Post-only/);
  });
});

describe("market orders", () => {
  const marketBuy: TicketInput = { ...limitBuy, type: "market", price: "", quantity: "", quoteBudget: "100" };

  it("sends a market buy as a quote budget, immediate-or-cancel", () => {
    const result = validateOrderTicket(marketBuy, btc, rich, { bestAsk: "64000" });
    expect(result.ok && result.order).toEqual({
      symbol: "BTC-USDT",
      side: "buy",
      type: "market",
      quote_budget: "100",
      time_in_force: "IOC",
      post_only: false,
    });
  });

  it("checks the budget against the minimum notional and the available quote", () => {
    const low = validateOrderTicket({ ...marketBuy, quoteBudget: "9.99" }, btc, rich, { bestAsk: "1" });
    expect(!low.ok && low.errors.quoteBudget).toBe("Spend at least 10 USDT.");
    const poor = validateOrderTicket(marketBuy, btc, { USDT: "99.5" }, { bestAsk: "1" });
    expect(!poor.ok && poor.errors.quoteBudget).toBe("Not enough USDT: 99.5 available.");
  });

  it("says a market buy cannot fill on an empty ask side", () => {
    const result = validateOrderTicket(marketBuy, btc, rich, { bestAsk: null });
    expect(!result.ok && result.errors.form).toMatch(/Nobody is selling/);
  });

  it("estimates a market sell at the best bid", () => {
    const sell: TicketInput = { ...marketBuy, side: "sell", quantity: "0.001", quoteBudget: "" };
    const result = validateOrderTicket(sell, btc, rich, { bestBid: "64000" });
    expect(result.ok && result.order).toMatchObject({ quantity: "0.001", time_in_force: "IOC" });
    expect(result.notional).toBe("64");
    const small = validateOrderTicket({ ...sell, quantity: "0.0001" }, btc, rich, { bestBid: "64000" });
    expect(!small.ok && small.errors.form).toBe("Order value about 6.4 USDT is below the minimum 10 USDT.");
  });
});

describe("assistant drafts", () => {
  it("fill the ticket so that confirming sends the drafted order unchanged", () => {
    const draft = { symbol: "BTC-USDT", side: "sell", type: "limit", price: "64100.5", quantity: "0.25", quote_budget: null, time_in_force: "IOC", post_only: false } as const;
    const result = validateOrderTicket(ticketFromDraft(draft), btc, rich);
    expect(result.ok && result.order).toEqual({ symbol: "BTC-USDT", side: "sell", type: "limit", price: "64100.5", quantity: "0.25", time_in_force: "IOC", post_only: false });
  });

  it("put a market buy's budget in the spend field and leave the rest empty", () => {
    const input = ticketFromDraft({ side: "buy", type: "market", quote_budget: "250" });
    expect(input).toEqual({ side: "buy", type: "market", price: "", quantity: "", quoteBudget: "250", timeInForce: "GTC", postOnly: false });
    const result = validateOrderTicket(input, btc, rich, { bestAsk: "64000" });
    expect(result.ok && result.order).toEqual({ symbol: "BTC-USDT", side: "buy", type: "market", quote_budget: "250", time_in_force: "IOC", post_only: false });
  });
});
