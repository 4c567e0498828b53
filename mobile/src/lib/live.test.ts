import { AppState } from "react-native";

import { writeTokens } from "../api/tokenStore";
import { liveSocket } from "./live";
import type { ChannelMessage } from "./web";

class ScriptedSocket {
  static all: ScriptedSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    ScriptedSocket.all.push(this);
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
}

const latest = (): ScriptedSocket => {
  const socket = ScriptedSocket.all.at(-1);
  if (socket === undefined) throw new Error("no socket was opened");
  return socket;
};

test("the socket signs in with the bearer token first, and reconnects and resubscribes on returning to the foreground", async () => {
  (globalThis as { WebSocket: unknown }).WebSocket = ScriptedSocket;
  await writeTokens({ accessToken: "access-1", refreshToken: "refresh-1" });
  const heard: ChannelMessage["kind"][] = [];
  liveSocket().subscribe("fills", (message) => heard.push(message.kind));

  const first = latest();
  expect(first.url).toMatch(/^ws:\/\/.+\/ws$/);
  first.open();
  expect(first.sent).toEqual([
    { op: "auth", token: "access-1" },
    { op: "subscribe", channels: ["fills"] },
  ]);

  const onChange = jest.mocked(AppState.addEventListener).mock.calls.find(([event]) => event === "change")?.[1];
  if (onChange === undefined) throw new Error("the live socket does not follow the app state");
  onChange("background");
  expect(ScriptedSocket.all).toHaveLength(1);
  onChange("active");
  const second = latest();
  expect(second).not.toBe(first);
  second.open();
  expect(second.sent).toEqual([
    { op: "auth", token: "access-1" },
    { op: "subscribe", channels: ["fills"] },
  ]);
  // Whatever happened while away, listeners rebuild from fresh snapshots.
  expect(heard).toEqual(["resync"]);

  // A refreshed token reaches the server on a new connection.
  await writeTokens({ accessToken: "access-2", refreshToken: "refresh-2" });
  const third = latest();
  expect(third).not.toBe(second);
  third.open();
  expect(third.sent[0]).toEqual({ op: "auth", token: "access-2" });
});
