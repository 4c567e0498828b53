import { describe, expect, it } from "vitest";

import { applyBookEvent, bestPrices, bookSides, emptyBook, type BookDelta, type BookState } from "./orderBook";

const snapshot = {
  symbol: "BTC-USDT",
  seq: 10,
  bids: [
    { price: "99.5", quantity: "2" },
    { price: "100.0", quantity: "1" },
  ],
  asks: [
    { price: "101", quantity: "3" },
    { price: "100.5", quantity: "0.5" },
  ],
};

function delta(seq: number, side: "buy" | "sell", price: string, quantity: string): BookDelta {
  return { symbol: "BTC-USDT", seq, side, price, quantity };
}

function live(): BookState {
  return applyBookEvent(emptyBook, { kind: "snapshot", snapshot }).state;
}

describe("order book", () => {
  it("builds sorted sides with cumulative depth from a snapshot", () => {
    const state = live();
    expect(state.status).toBe("live");
    expect(bookSides(state)).toEqual({
      bids: [
        { price: "100", quantity: "1", cumulative: "1" },
        { price: "99.5", quantity: "2", cumulative: "3" },
      ],
      asks: [
        { price: "100.5", quantity: "0.5", cumulative: "0.5" },
        { price: "101", quantity: "3", cumulative: "3.5" },
      ],
    });
    expect(bestPrices(state)).toEqual({ bestBid: "100", bestAsk: "100.5" });
  });

  it("applies consecutive deltas: change, add and remove levels", () => {
    let state = live();
    for (const d of [delta(11, "buy", "100.00", "4"), delta(12, "sell", "100.5", "0"), delta(13, "sell", "100.7", "1")]) {
      const next = applyBookEvent(state, { kind: "delta", delta: d });
      expect(next.needsSnapshot).toBe(false);
      state = next.state;
    }
    expect(state.seq).toBe(13);
    expect(bestPrices(state)).toEqual({ bestBid: "100", bestAsk: "100.7" });
    expect(state.bids.get("100")).toBe("4");
    expect(state.asks.has("100.5")).toBe(false);
  });

  it("ignores deltas already contained in the snapshot", () => {
    const state = live();
    const next = applyBookEvent(state, { kind: "delta", delta: delta(10, "buy", "100", "9") });
    expect(next).toEqual({ state, needsSnapshot: false });
  });

  it("stops on a sequence gap and asks for a fresh snapshot", () => {
    const state = live();
    const gap = applyBookEvent(state, { kind: "delta", delta: delta(12, "buy", "100", "9") });
    expect(gap.needsSnapshot).toBe(true);
    expect(gap.state.status).toBe("resyncing");
    expect(gap.state.bids.get("100")).toBe("1");

    // Later deltas are not applied on top of a book known to be wrong, and no second request is made.
    const later = applyBookEvent(gap.state, { kind: "delta", delta: delta(13, "buy", "100", "7") });
    expect(later).toEqual({ state: gap.state, needsSnapshot: false });

    const fresh = applyBookEvent(later.state, {
      kind: "snapshot",
      snapshot: { ...snapshot, seq: 13, bids: [{ price: "100", quantity: "7" }] },
    });
    expect(fresh.state.status).toBe("live");
    expect(fresh.state.seq).toBe(13);
    expect(applyBookEvent(fresh.state, { kind: "delta", delta: delta(14, "buy", "100", "8") }).state.bids.get("100")).toBe("8");
  });

  it("treats a server gap notice like a sequence gap, once", () => {
    const first = applyBookEvent(live(), { kind: "gap" });
    expect(first.needsSnapshot).toBe(true);
    expect(applyBookEvent(first.state, { kind: "gap" }).needsSnapshot).toBe(false);
  });

  it("ignores deltas before the first snapshot", () => {
    expect(applyBookEvent(emptyBook, { kind: "delta", delta: delta(1, "buy", "1", "1") })).toEqual({
      state: emptyBook,
      needsSnapshot: false,
    });
  });
});
