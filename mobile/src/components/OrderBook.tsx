/** The live L2 book: seeded by `GET …/book`, kept by `book:{symbol}` deltas, resynced on any gap. */
import { useState, useSyncExternalStore } from "react";
import { StyleSheet, Text, View } from "react-native";

import type { OrderBook as OrderBookSnapshot } from "../api/generated/model";
import { liveSocket, useLiveChannel } from "../lib/live";
import { applyBookEvent, bookSides, decimalPlaces, emptyBook, formatDecimal, type BookDelta, type BookState } from "../lib/web";
import { colors, space } from "../theme";
import { Muted, styles as ui } from "./ui";

type BookEvent = Parameters<typeof applyBookEvent>[1];

function createBookStore(initial: OrderBookSnapshot | undefined) {
  let state: BookState = initial === undefined ? emptyBook : applyBookEvent(emptyBook, { kind: "snapshot", snapshot: initial }).state;
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

export function useLiveBook(symbol: string, initial: OrderBookSnapshot | undefined): BookState {
  const [store] = useState(() => createBookStore(initial));
  const channel = `book:${symbol}`;
  useLiveChannel(channel, (message) => {
    let event: BookEvent;
    if (message.kind === "resync") event = { kind: "gap" };
    else if (message.kind === "frame" && message.frame.type === "snapshot") event = { kind: "snapshot", snapshot: message.frame.data as OrderBookSnapshot };
    else if (message.kind === "frame") event = { kind: "delta", delta: message.frame.data as BookDelta };
    else return;
    // Resubscribing makes the server send a fresh snapshot frame first.
    if (store.apply(event)) liveSocket().resubscribe(channel);
  });
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

export function OrderBookView({ state, tickSize, depth = 8 }: { state: BookState; tickSize: string; depth?: number }) {
  const { bids, asks } = bookSides(state, depth);
  const places = decimalPlaces(tickSize);
  const level = (side: "bid" | "ask") =>
    function Level({ price, quantity }: { price: string; quantity: string }) {
      return (
        <View style={ui.row} accessibilityLabel={`${side} ${price} ${quantity}`}>
          <Text style={[ui.mono, { color: side === "bid" ? colors.buy : colors.sell }]}>{formatDecimal(price, places)}</Text>
          <Text style={ui.mono}>{formatDecimal(quantity)}</Text>
        </View>
      );
    };
  const Bid = level("bid");
  const Ask = level("ask");
  return (
    <View accessibilityLabel="Order book">
      {state.status === "resyncing" && <Muted>Catching up with the book…</Muted>}
      <View style={styles.columns}>
        <View style={styles.column}>
          <Muted>Bids</Muted>
          {bids.map((entry) => (
            <Bid key={entry.price} price={entry.price} quantity={entry.quantity} />
          ))}
        </View>
        <View style={styles.column}>
          <Muted>Asks</Muted>
          {asks.map((entry) => (
            <Ask key={entry.price} price={entry.price} quantity={entry.quantity} />
          ))}
        </View>
      </View>
      {bids.length === 0 && asks.length === 0 && <Muted>The book is empty.</Muted>}
    </View>
  );
}

const styles = StyleSheet.create({
  columns: { flexDirection: "row", gap: space.lg },
  column: { flex: 1 },
});
