import { describe, expect, it } from "vitest";

import { backoffDelay, LiveSocket, type ChannelMessage } from "./liveSocket";

class FakeSocket {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({} as CloseEvent);
  }
  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent);
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers: { callback: () => void; ms: number }[] = [];
  const live = new LiveSocket("ws://test/ws", {
    createSocket: () => {
      const socket = new FakeSocket();
      sockets.push(socket);
      return socket;
    },
    random: () => 1,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    setTimeout: (callback, ms) => {
      timers.push({ callback, ms });
      return timers.length;
    },
    clearTimeout: () => undefined,
  });
  return { live, sockets, timers };
}

describe("LiveSocket", () => {
  it("opens one connection and subscribes every channel once it is open", () => {
    const { live, sockets } = harness();
    live.subscribe("ticker:BTC-USDT", () => undefined);
    live.subscribe("ticker:BTC-USDT", () => undefined);
    live.subscribe("book:BTC-USDT", () => undefined);
    expect(sockets).toHaveLength(1);
    expect(live.status).toBe("connecting");
    sockets[0]?.open();
    expect(live.status).toBe("live");
    expect(sockets[0]?.sent).toEqual([{ op: "subscribe", channels: ["ticker:BTC-USDT", "book:BTC-USDT"] }]);
  });

  it("routes frames and gap notices to the channel's listeners", () => {
    const { live, sockets } = harness();
    const heard: ChannelMessage[] = [];
    live.subscribe("book:BTC-USDT", (message) => heard.push(message));
    live.subscribe("ticker:ETH-USDT", () => {
      throw new Error("wrong channel");
    });
    sockets[0]?.open();
    const frame = { channel: "book:BTC-USDT", seq: 4, type: "delta", data: { seq: 4 } };
    sockets[0]?.receive(frame);
    sockets[0]?.receive({ op: "gap", channel: "book:BTC-USDT", missed: 3 });
    sockets[0]?.receive({ op: "heartbeat", time: 1 });
    expect(heard).toEqual([{ kind: "frame", frame }, { kind: "resync" }]);
  });

  it("unsubscribes when the last listener leaves", () => {
    const { live, sockets } = harness();
    sockets.length = 0;
    const stopA = live.subscribe("trades:BTC-USDT", () => undefined);
    const stopB = live.subscribe("trades:BTC-USDT", () => undefined);
    sockets[0]?.open();
    stopA();
    expect(sockets[0]?.sent).toHaveLength(1);
    stopB();
    expect(sockets[0]?.sent.at(-1)).toEqual({ op: "unsubscribe", channels: ["trades:BTC-USDT"] });
  });

  it("reconnects with growing backoff, resubscribes and tells listeners to resync", () => {
    const { live, sockets, timers } = harness();
    const heard: ChannelMessage[] = [];
    live.subscribe("book:BTC-USDT", (message) => heard.push(message));
    sockets[0]?.open();

    sockets[0]?.drop();
    expect(live.status).toBe("reconnecting");
    expect(timers.map((t) => t.ms)).toEqual([100]);
    timers[0]?.callback();
    sockets[1]?.drop();
    expect(timers.map((t) => t.ms)).toEqual([100, 200]);
    timers[1]?.callback();
    expect(live.status).toBe("reconnecting");
    sockets[2]?.open();

    expect(live.status).toBe("live");
    expect(sockets[2]?.sent).toEqual([{ op: "subscribe", channels: ["book:BTC-USDT"] }]);
    expect(heard).toEqual([{ kind: "resync" }]);

    // A successful connection resets the backoff.
    sockets[2]?.drop();
    expect(timers.at(-1)?.ms).toBe(100);
  });

  it("asks for a fresh snapshot by resubscribing", () => {
    const { live, sockets } = harness();
    live.subscribe("book:BTC-USDT", () => undefined);
    sockets[0]?.open();
    live.resubscribe("book:BTC-USDT");
    expect(sockets[0]?.sent.slice(1)).toEqual([
      { op: "unsubscribe", channels: ["book:BTC-USDT"] },
      { op: "subscribe", channels: ["book:BTC-USDT"] },
    ]);
  });

  it("caps the backoff", () => {
    expect(backoffDelay(0, 500, 15_000, () => 0)).toBe(250);
    expect(backoffDelay(10, 500, 15_000, () => 1)).toBe(15_000);
  });
});
