/**
 * The app's one live connection to `/ws` (the web app's `LiveSocket`: backoff, resubscribe, resync) with
 * what a phone adds: the bearer token sent as `{"op": "auth"}` before any subscription, and a fresh
 * connection when the app returns to the foreground, since the OS may have dropped it in the background.
 */
import { useEffect, useRef, useSyncExternalStore } from "react";
import { AppState, type AppStateStatus } from "react-native";

import { currentTokens, onTokensChange } from "../api/tokenStore";
import { webSocketUrl } from "../env";
import { LiveSocket, type ChannelListener, type LiveSocketOptions, type LiveStatus } from "./web";

type SocketLike = ReturnType<NonNullable<LiveSocketOptions["createSocket"]>>;

/** A WebSocket that signs in with the current access token as soon as it opens, then behaves as usual. */
export function bearerSocket(socket: WebSocket, accessToken: () => string | undefined): SocketLike {
  const wrapper: SocketLike = {
    get readyState() {
      return socket.readyState;
    },
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
    onopen: null,
    onclose: null,
    onmessage: null,
    onerror: null,
  };
  socket.onopen = (event) => {
    const token = accessToken();
    // The server handles frames in order, so the subscriptions that follow are already authenticated.
    if (token !== undefined) socket.send(JSON.stringify({ op: "auth", token }));
    wrapper.onopen?.(event);
  };
  socket.onclose = (event) => wrapper.onclose?.(event);
  socket.onmessage = (event) => wrapper.onmessage?.(event);
  socket.onerror = (event) => wrapper.onerror?.(event);
  return wrapper;
}

let shared: LiveSocket | undefined;

export function liveSocket(): LiveSocket {
  if (shared === undefined) {
    const socket = new LiveSocket(webSocketUrl(), {
      createSocket: (url) => bearerSocket(new WebSocket(url), () => currentTokens()?.accessToken),
    });
    // A new token (sign-in, refresh, sign-out) must reach the server: reconnect with it.
    onTokensChange(() => {
      if (socket.status !== "idle") socket.reconnect();
    });
    let previous: AppStateStatus = AppState.currentState;
    AppState.addEventListener("change", (next) => {
      const wasAway = previous === "background" || previous === "inactive";
      if (wasAway && next === "active" && socket.status !== "idle") socket.reconnect();
      previous = next;
    });
    shared = socket;
  }
  return shared;
}

export function useLiveStatus(): LiveStatus {
  const socket = liveSocket();
  return useSyncExternalStore(socket.onStatusChange, socket.getStatus, socket.getStatus);
}

/** Listens on `channel` while the component is mounted; `null` listens to nothing. */
export function useLiveChannel(channel: string | null, listener: ChannelListener): void {
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => {
    if (channel === null) return undefined;
    return liveSocket().subscribe(channel, (message) => latest.current(message));
  }, [channel]);
}
