/**
 * One WebSocket to `/ws` for the whole app. Routes subscribe to channels (`ticker:BTC-USDT`, `book:…`);
 * the socket subscribes on the server while anyone listens, reconnects with capped exponential backoff
 * and jitter, and resubscribes everything after a reconnect. Listeners hear `resync` when they may have
 * missed messages (a server `gap` or a reconnect), so stateful views (the book) fetch a fresh snapshot.
 */

export type LiveStatus = "idle" | "connecting" | "live" | "reconnecting";

export interface ChannelFrame {
  channel: string;
  seq: number;
  type: "snapshot" | "update" | "delta";
  data: unknown;
}

export type ChannelMessage = { kind: "frame"; frame: ChannelFrame } | { kind: "resync" } | { kind: "error"; detail: string; status: number };

export type ChannelListener = (message: ChannelMessage) => void;

interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
}

export interface LiveSocketOptions {
  createSocket?: (url: string) => SocketLike;
  /** First retry delay; doubles per failed attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

const OPEN = 1;

/** Delay before reconnect attempt `attempt` (0-based): full jitter over a capped exponential. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class LiveSocket {
  private readonly url: string;
  private readonly options: Required<LiveSocketOptions>;
  private socket: SocketLike | undefined;
  private readonly listeners = new Map<string, Set<ChannelListener>>();
  private readonly statusListeners = new Set<() => void>();
  private currentStatus: LiveStatus = "idle";
  private attempt = 0;
  private retryTimer: unknown;
  private everConnected = false;

  constructor(url: string, options: LiveSocketOptions = {}) {
    this.url = url;
    this.options = {
      createSocket: options.createSocket ?? ((target) => new WebSocket(target)),
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 15_000,
      random: options.random ?? Math.random,
      setTimeout: options.setTimeout ?? ((callback, ms) => globalThis.setTimeout(callback, ms)),
      clearTimeout: options.clearTimeout ?? ((handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>)),
    };
  }

  get status(): LiveStatus {
    return this.currentStatus;
  }

  /** For `useSyncExternalStore`. */
  readonly onStatusChange = (listener: () => void): (() => void) => {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  };

  readonly getStatus = (): LiveStatus => this.currentStatus;

  /** Listens to a channel; the returned function stops listening (and unsubscribes when last). */
  subscribe(channel: string, listener: ChannelListener): () => void {
    let set = this.listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(channel, set);
      this.send({ op: "subscribe", channels: [channel] });
    }
    set.add(listener);
    this.ensureConnected();
    return () => {
      const current = this.listeners.get(channel);
      if (current === undefined) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(channel);
        this.send({ op: "unsubscribe", channels: [channel] });
      }
    };
  }

  /** Asks the server for a fresh snapshot of one channel (after a sequence gap). */
  resubscribe(channel: string): void {
    if (!this.listeners.has(channel)) return;
    this.send({ op: "unsubscribe", channels: [channel] });
    this.send({ op: "subscribe", channels: [channel] });
  }

  /** Closes the connection for good (sign-out, tests). */
  close(): void {
    if (this.retryTimer !== undefined) this.options.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "closed by the app");
    }
    this.listeners.clear();
    this.everConnected = false;
    this.setStatus("idle");
  }

  /** Reconnects now (e.g. after sign-in, so the cookie authenticates the private channels). */
  reconnect(): void {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "reconnecting");
    }
    this.open();
  }

  private ensureConnected(): void {
    if (this.socket === undefined && this.retryTimer === undefined) this.open();
  }

  private open(): void {
    this.retryTimer = undefined;
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    const socket = this.options.createSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      const channels = [...this.listeners.keys()];
      if (channels.length > 0) socket.send(JSON.stringify({ op: "subscribe", channels }));
      const wasConnected = this.everConnected;
      this.everConnected = true;
      this.setStatus("live");
      // Anything may have happened while we were away: every listener rebuilds from a snapshot.
      if (wasConnected) this.broadcast({ kind: "resync" });
    };
    socket.onmessage = (event) => this.handleMessage(event.data);
    socket.onclose = () => this.scheduleReconnect(socket);
    socket.onerror = () => {
      // The close event follows and schedules the retry.
    };
  }

  private scheduleReconnect(socket: SocketLike): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.listeners.size === 0) {
      this.setStatus(this.everConnected ? "reconnecting" : "idle");
    } else {
      this.setStatus("reconnecting");
    }
    const delay = backoffDelay(this.attempt, this.options.baseDelayMs, this.options.maxDelayMs, this.options.random);
    this.attempt += 1;
    this.retryTimer = this.options.setTimeout(() => this.open(), delay);
  }

  private handleMessage(raw: unknown): void {
    if (typeof raw !== "string") return;
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null) return;
    const frame = message as Record<string, unknown>;
    if (typeof frame.channel === "string" && typeof frame.type === "string" && frame.op === undefined) {
      this.dispatch(frame.channel, { kind: "frame", frame: frame as unknown as ChannelFrame });
    } else if (frame.op === "gap" && typeof frame.channel === "string") {
      this.dispatch(frame.channel, { kind: "resync" });
    } else if (frame.op === "error") {
      const detail = typeof frame.detail === "string" ? frame.detail : "error";
      const status = typeof frame.status === "number" ? frame.status : 400;
      if (typeof frame.channel === "string") this.dispatch(frame.channel, { kind: "error", detail, status });
    }
  }

  private dispatch(channel: string, message: ChannelMessage): void {
    for (const listener of this.listeners.get(channel) ?? []) listener(message);
  }

  private broadcast(message: ChannelMessage): void {
    for (const set of this.listeners.values()) for (const listener of set) listener(message);
  }

  private send(message: object): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    for (const listener of this.statusListeners) listener();
  }
}
