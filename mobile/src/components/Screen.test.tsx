import { act, render, screen } from "@testing-library/react-native";

import { liveSocket } from "../lib/live";
import { OfflineBanner } from "./Screen";

class ScriptedSocket {
  static all: ScriptedSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    ScriptedSocket.all.push(this);
  }

  send() {}

  close() {
    this.readyState = 3;
  }
}

test("losing the connection shows the offline banner until the socket is back", () => {
  jest.useFakeTimers();
  (globalThis as { WebSocket: unknown }).WebSocket = ScriptedSocket;
  render(<OfflineBanner />);
  act(() => {
    liveSocket().subscribe("ticker:BTC-USDT", () => undefined);
  });
  const first = ScriptedSocket.all[0];
  if (first === undefined) throw new Error("no socket");
  act(() => {
    first.readyState = 1;
    first.onopen?.({});
  });
  expect(screen.queryByRole("alert")).toBeNull();

  act(() => first.onclose?.({}));
  expect(screen.getByRole("alert")).toHaveTextContent("Offline: prices may be stale. Reconnecting…");

  act(() => jest.runOnlyPendingTimers());
  const second = ScriptedSocket.all[1];
  if (second === undefined) throw new Error("no reconnection attempt");
  act(() => {
    second.readyState = 1;
    second.onopen?.({});
  });
  expect(screen.queryByRole("alert")).toBeNull();
  jest.useRealTimers();
});
