/** The app's one live connection and the hooks routes use to listen on it. */
import { useEffect, useRef, useSyncExternalStore } from "react";

import { webSocketUrl } from "../env";
import { LiveSocket, type ChannelListener, type LiveStatus } from "./liveSocket";

let shared: LiveSocket | undefined;

export function liveSocket(): LiveSocket {
  shared ??= new LiveSocket(webSocketUrl());
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
