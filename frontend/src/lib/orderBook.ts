/**
 * The live L2 book of one symbol, rebuilt from a snapshot plus per-symbol numbered deltas (the
 * `book:{symbol}` channel). A delta whose number is not exactly the next one means something was missed;
 * the book then stops applying deltas and asks for a fresh snapshot instead of showing wrong depth.
 */
import { dec, parseDecimal, toWire } from "./decimal";

export interface BookLevel {
  price: string;
  quantity: string;
}

/** `GET /api/v1/markets/{symbol}/book` and the `snapshot` frame of `book:{symbol}`. */
export interface BookSnapshot {
  symbol: string;
  seq: number;
  bids: BookLevel[];
  asks: BookLevel[];
}

/** One `delta` frame of `book:{symbol}`: the level's new total quantity; "0" removes the level. */
export interface BookDelta {
  symbol: string;
  seq: number;
  side: "buy" | "sell";
  price: string;
  quantity: string;
}

export type BookStatus = "awaiting-snapshot" | "live" | "resyncing";

export interface BookState {
  status: BookStatus;
  /** Number of the last snapshot or delta applied. */
  seq: number;
  /** Keyed by canonical price ("64000.5", not "64000.50"), so the same level always matches. */
  bids: ReadonlyMap<string, string>;
  asks: ReadonlyMap<string, string>;
}

export const emptyBook: BookState = { status: "awaiting-snapshot", seq: 0, bids: new Map(), asks: new Map() };

export type BookEvent =
  | { kind: "snapshot"; snapshot: BookSnapshot }
  | { kind: "delta"; delta: BookDelta }
  /** The server said this connection missed messages on the channel (`{"op": "gap"}`), or it reconnected. */
  | { kind: "gap" };

export interface BookTransition {
  state: BookState;
  /** True when the caller must fetch (or resubscribe for) a fresh snapshot. */
  needsSnapshot: boolean;
}

function canonical(price: string): string {
  return toWire(dec(price));
}

function levelsFrom(levels: BookLevel[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const level of levels) {
    const quantity = parseDecimal(level.quantity);
    if (quantity !== undefined && quantity.gt(0)) map.set(canonical(level.price), toWire(quantity));
  }
  return map;
}

export function applyBookEvent(state: BookState, event: BookEvent): BookTransition {
  switch (event.kind) {
    case "snapshot": {
      const { snapshot } = event;
      return {
        state: { status: "live", seq: snapshot.seq, bids: levelsFrom(snapshot.bids), asks: levelsFrom(snapshot.asks) },
        needsSnapshot: false,
      };
    }
    case "gap":
      return { state: { ...state, status: "resyncing" }, needsSnapshot: state.status !== "resyncing" };
    case "delta": {
      const { delta } = event;
      // Until a snapshot arrives there is nothing to apply a delta to; a resync is already under way.
      if (state.status !== "live") return { state, needsSnapshot: false };
      // Already contained in the snapshot (deltas published while it was being taken), or a duplicate.
      if (delta.seq <= state.seq) return { state, needsSnapshot: false };
      if (delta.seq !== state.seq + 1) return { state: { ...state, status: "resyncing" }, needsSnapshot: true };
      const side = delta.side === "buy" ? "bids" : "asks";
      const levels = new Map(state[side]);
      const price = canonical(delta.price);
      const quantity = parseDecimal(delta.quantity);
      if (quantity === undefined || quantity.eq(0)) levels.delete(price);
      else levels.set(price, toWire(quantity));
      return { state: { ...state, seq: delta.seq, [side]: levels }, needsSnapshot: false };
    }
  }
}

export interface DepthLevel {
  price: string;
  quantity: string;
  /** Running total from the best price outward, for the depth bars. */
  cumulative: string;
}

/** Best first: bids high to low, asks low to high; at most `limit` levels per side. */
export function bookSides(state: BookState, limit = 20): { bids: DepthLevel[]; asks: DepthLevel[] } {
  const side = (levels: ReadonlyMap<string, string>, descending: boolean): DepthLevel[] => {
    const sorted = [...levels.entries()].sort(([a], [b]) => (descending ? dec(b).cmp(dec(a)) : dec(a).cmp(dec(b))));
    let total = dec("0");
    return sorted.slice(0, limit).map(([price, quantity]) => {
      total = total.plus(dec(quantity));
      return { price, quantity, cumulative: toWire(total) };
    });
  };
  return { bids: side(state.bids, true), asks: side(state.asks, false) };
}

export function bestPrices(state: BookState): { bestBid: string | undefined; bestAsk: string | undefined } {
  const { bids, asks } = bookSides(state, 1);
  return { bestBid: bids[0]?.price, bestAsk: asks[0]?.price };
}
