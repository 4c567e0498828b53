import { act, render, screen } from "@testing-library/react-native";

import type { OrderBook } from "../api/generated/model";
import { OrderBookView, useLiveBook } from "./OrderBook";

/** A WebSocket stand-in: records what the app sends and lets the test play the server's frames. */
class ScriptedSocket {
  static last: ScriptedSocket | undefined;
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    ScriptedSocket.last = this;
  }

  send(data: string) {
    this.sent.push(JSON.parse(data));
  }

  close() {
    this.readyState = 3;
  }

  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  frame(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

const SNAPSHOT: OrderBook = {
  symbol: "BTC-USDT",
  seq: 10,
  bids: [{ price: "64000.00", quantity: "0.5" }],
  asks: [{ price: "64001.00", quantity: "0.25" }],
};

function Book() {
  const state = useLiveBook("BTC-USDT", SNAPSHOT);
  return <OrderBookView state={state} tickSize="0.01" />;
}

const CHANNEL = "book:BTC-USDT";
const delta = (seq: number, side: "buy" | "sell", price: string, quantity: string) => ({
  channel: CHANNEL,
  seq,
  type: "delta",
  data: { seq, side, price, quantity },
});

beforeAll(() => {
  (globalThis as { WebSocket: unknown }).WebSocket = ScriptedSocket;
});

test("the book starts from the snapshot, applies the next deltas and resubscribes on a sequence gap", () => {
  render(<Book />);
  const socket = ScriptedSocket.last;
  if (socket === undefined) throw new Error("the book did not open a socket");
  act(() => socket.open());
  expect(socket.sent).toContainEqual({ op: "subscribe", channels: [CHANNEL] });
  expect(screen.getByLabelText("bid 64000 0.5")).toBeOnTheScreen();
  expect(screen.getByLabelText("ask 64001 0.25")).toBeOnTheScreen();

  // Already in the snapshot: ignored. The next number: applied (a new level, then one removed).
  act(() => socket.frame(delta(10, "buy", "63999", "9")));
  act(() => socket.frame(delta(11, "buy", "63999.5", "1.5")));
  act(() => socket.frame(delta(12, "sell", "64001", "0")));
  expect(screen.queryByLabelText("bid 63999 9")).toBeNull();
  expect(screen.getByLabelText("bid 63999.5 1.5")).toBeOnTheScreen();
  expect(screen.queryByLabelText("ask 64001 0.25")).toBeNull();

  // 13 never came: the book stops applying deltas and asks the server for a fresh snapshot.
  const before = socket.sent.length;
  act(() => socket.frame(delta(14, "sell", "64002", "3")));
  expect(screen.getByText("Catching up with the book…")).toBeOnTheScreen();
  expect(screen.queryByLabelText("ask 64002 3")).toBeNull();
  expect(socket.sent.slice(before)).toEqual([
    { op: "unsubscribe", channels: [CHANNEL] },
    { op: "subscribe", channels: [CHANNEL] },
  ]);
  act(() => socket.frame(delta(15, "sell", "64003", "1")));
  expect(screen.queryByLabelText("ask 64003 1")).toBeNull();

  // The fresh snapshot replaces everything; deltas after it apply again.
  act(() =>
    socket.frame({
      channel: CHANNEL,
      seq: 20,
      type: "snapshot",
      data: { symbol: "BTC-USDT", seq: 20, bids: [{ price: "63990", quantity: "2" }], asks: [{ price: "64010", quantity: "1" }] },
    }),
  );
  expect(screen.queryByText("Catching up with the book…")).toBeNull();
  expect(screen.queryByLabelText("bid 63999.5 1.5")).toBeNull();
  act(() => socket.frame(delta(21, "sell", "64005", "0.75")));
  expect(screen.getByLabelText("bid 63990 2")).toBeOnTheScreen();
  expect(screen.getByLabelText("ask 64005 0.75")).toBeOnTheScreen();
  expect(screen.getByLabelText("ask 64010 1")).toBeOnTheScreen();

  // A `gap` notice from the server (this client was too slow) resyncs the same way.
  const beforeGap = socket.sent.length;
  act(() => socket.frame({ op: "gap", channel: CHANNEL, missed: 4 }));
  expect(screen.getByText("Catching up with the book…")).toBeOnTheScreen();
  expect(socket.sent.slice(beforeGap)).toEqual([
    { op: "unsubscribe", channels: [CHANNEL] },
    { op: "subscribe", channels: [CHANNEL] },
  ]);
});
