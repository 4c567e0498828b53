import { useState, useSyncExternalStore } from "react";
import { css } from "styled-system/css";

import type { OrderBook } from "../../../api/generated/model";
import { Card } from "../../../components/ui";
import { decimalPlaces, formatDecimal } from "../../../lib/decimal";
import { liveSocket, useLiveChannel } from "../../../lib/live";
import { applyBookEvent, bookSides, emptyBook, type BookDelta, type BookEvent, type BookState } from "../../../lib/orderBook";

function createBookStore(initial: OrderBook) {
  let state = applyBookEvent(emptyBook, { kind: "snapshot", snapshot: initial }).state;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    subscribe: (listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Applies one event; true when the book needs a fresh snapshot. */
    apply: (event: BookEvent): boolean => {
      const transition = applyBookEvent(state, event);
      state = transition.state;
      for (const listener of listeners) listener();
      return transition.needsSnapshot;
    },
  };
}

/** Live depth: seeded by the loader's snapshot, kept by `book:{symbol}` deltas, resynced on any gap. */
export function useLiveBook(symbol: string, initial: OrderBook): BookState {
  const [store] = useState(() => createBookStore(initial));
  const channel = `book:${symbol}`;
  useLiveChannel(channel, (message) => {
    let event: BookEvent;
    if (message.kind === "resync") event = { kind: "gap" };
    else if (message.kind === "frame" && message.frame.type === "snapshot") event = { kind: "snapshot", snapshot: message.frame.data as OrderBook };
    else if (message.kind === "frame") event = { kind: "delta", delta: message.frame.data as BookDelta };
    else return;
    // A gap: resubscribing makes the server send a fresh snapshot frame first.
    if (store.apply(event)) liveSocket().resubscribe(channel);
  });
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

export function OrderBookPanel({ state, tickSize }: { state: BookState; tickSize: string }) {
  const { bids, asks } = bookSides(state, 12);
  const places = decimalPlaces(tickSize);
  const deepest = Math.max(Number(bids.at(-1)?.cumulative ?? 0), Number(asks.at(-1)?.cumulative ?? 0)) || 1;
  const row = (side: "buy" | "sell") =>
    function Level({ price, quantity, cumulative }: { price: string; quantity: string; cumulative: string }) {
      const width = `${(Number(cumulative) / deepest) * 100}%`; // bar length only
      return (
        <tr style={{ backgroundImage: `linear-gradient(to left, var(--colors-${side}) ${width}, transparent ${width})`, backgroundSize: "100% 100%", backgroundBlendMode: "normal" }} className={css({ "& td": { bg: "bg.surface/85" } })}>
          <td style={{ color: `var(--colors-${side})` }}>{formatDecimal(price, places)}</td>
          <td className="num">{formatDecimal(quantity)}</td>
          <td className="num">{formatDecimal(cumulative)}</td>
        </tr>
      );
    };
  const Bid = row("buy");
  const Ask = row("sell");
  return (
    <Card title="Order book" actions={state.status === "live" ? null : <span className={css({ fontSize: "xs", color: "warning" })}>resyncing…</span>}>
      <table className={css({ width: "100%", fontSize: "xs", fontVariantNumeric: "tabular-nums", "& td, & th": { px: "1", py: "0.5" }, "& .num": { textAlign: "right" } })} aria-label="Order book">
        <thead>
          <tr>
            <th className={css({ textAlign: "left", color: "fg.muted" })}>Price</th>
            <th className={`num ${css({ color: "fg.muted" })}`}>Size</th>
            <th className={`num ${css({ color: "fg.muted" })}`}>Total</th>
          </tr>
        </thead>
        <tbody aria-label="Asks">
          {[...asks].reverse().map((level) => (
            <Ask key={level.price} {...level} />
          ))}
        </tbody>
        <tbody aria-label="Bids">
          {bids.map((level) => (
            <Bid key={level.price} {...level} />
          ))}
        </tbody>
      </table>
      {bids.length === 0 && asks.length === 0 ? <p className={css({ color: "fg.muted", fontSize: "sm" })}>No orders yet.</p> : null}
    </Card>
  );
}
