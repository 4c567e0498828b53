"""The WebSocket gateway at `/ws`: one connection, many channels, fed by the event bus.

Client frames (JSON text): `{"op": "subscribe", "channels": [...]}`, `{"op": "unsubscribe", "channels":
[...]}`, `{"op": "auth", "token": "..."}`, `{"op": "ping"}`. Server frames: `{"channel", "seq", "type":
"snapshot"|"update"|"delta", "data"}`, `{"op": "subscribed"|"unsubscribed", "channels"}`, `{"op": "pong"}`,
`{"op": "heartbeat", "time"}`, `{"op": "gap", "channel", "missed"}`, `{"op": "error", "detail", "status"}`.

Domains plug their channels in with `hub.register(prefix, provider)`: the channel `book:BTC-USDT` goes to
the provider registered as `book`, `orders` to the one registered as `orders`. A provider checks the name
and returns a `ChannelFeed`: the bus channel to follow, how to render its events, and optionally a
snapshot sent first. Each subscription of each connection has its own bounded `DROP_OLDEST` queue on the
bus, so a slow client only ever loses its own messages: it is told with a `gap` frame, and disconnected
when it keeps falling behind. A bad frame gets an `error` frame; the connection stays usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.websockets import WebSocketState

from server_fastapi.core.bus import Bus, Envelope, Event, Gap, Overflow, Subscription
from server_fastapi.core.problems import TesseraError

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16_384
FRAME_CACHE_SIZE = 4096
"""Serialised update frames kept for fan-out: each is rendered once, not once per connection."""


class ChannelError(Exception):
    """A subscription that cannot be served; the client gets an `error` frame with this detail."""

    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


@dataclass(frozen=True, slots=True)
class ChannelFeed:
    """What a provider hands the gateway for one subscription.

    `source` is the bus channel to follow; `render` turns each of its events into the frame's `data`
    (None skips the event); `snapshot`, when not None, is sent first as a `snapshot` frame; updates go
    out as `update_type` frames.
    """

    source: Bus[Any]
    render: Callable[[Any], Any]
    snapshot: Any = None
    update_type: Literal["update", "delta"] = "update"


@dataclass(slots=True)
class Session:
    """One connection as providers see it: `principal` is set by a successful `auth` op."""

    connection_id: int
    principal: Any = None
    state: Any = None


class ChannelProvider(Protocol):
    """Serves every channel whose name starts with the prefix it is registered under."""

    requires_auth: bool

    async def open(self, channel: str, session: Session) -> ChannelFeed:
        """Validate `channel` (raise `ChannelError`) and return its feed."""
        ...


Authenticator = Callable[[Any, str], Awaitable[Any]]
CookieAuthenticator = Callable[[Any, WebSocket], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class HubLimits:
    max_subscriptions: int = 50
    queue_size: int = 256
    """Messages buffered per subscription before the oldest are dropped."""
    max_gaps: int = 5
    """Gaps a connection may suffer within `gap_window_seconds` before it is disconnected."""
    gap_window_seconds: float = 60.0
    heartbeat_seconds: float = 15.0
    send_timeout_seconds: float = 5.0
    """A client that does not take a frame within this time is disconnected (checked by the hub's watchdog
    a few times per timeout, rather than with a timer per frame: fan-out sends very many frames)."""


@dataclass(slots=True)
class HubStats:
    connections: int = 0
    connections_total: int = 0
    messages_sent: int = 0
    gaps: int = 0
    disconnected_slow: int = 0
    errors_sent: int = 0


class _SlowClientError(Exception):
    pass


@dataclass(slots=True)
class _Connection:
    websocket: WebSocket
    session: Session
    limits: HubLimits
    stats: HubStats
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pumps: dict[str, tuple[Subscription[Any], asyncio.Task[None]]] = field(default_factory=dict)
    gap_times: list[float] = field(default_factory=list)
    closing: bool = False
    sending_since: float = 0.0
    """`time.monotonic()` when the send in progress started; 0 when none is."""
    sender: asyncio.Task[Any] | None = None
    stuck: bool = False

    async def send(self, message: Mapping[str, Any]) -> None:
        await self.send_text(orjson.dumps(message, default=str).decode())

    async def send_text(self, data: str) -> None:
        async with self.send_lock:
            self.sender = asyncio.current_task()
            self.sending_since = time.monotonic()
            try:
                await self.websocket.send_text(data)
            except asyncio.CancelledError:
                if not self.stuck or self.sender is None:
                    raise
                self.sender.uncancel()  # the hub's watchdog gave up on this send, not the task's owner
                raise _SlowClientError from None
            finally:
                self.sending_since = 0.0
        self.stats.messages_sent += 1

    def give_up_if_stuck(self, now: float) -> None:
        """Called by the hub's watchdog: abort a send the client has not taken in time."""
        since = self.sending_since
        if since and now - since > self.limits.send_timeout_seconds and not self.stuck:
            self.stuck = True
            if self.sender is not None:
                self.sender.cancel()

    async def error(self, detail: str, status: int = 400, **extra: Any) -> None:
        self.stats.errors_sent += 1
        await self.send({"op": "error", "detail": detail, "status": status, **extra})

    def note_gap(self) -> None:
        now = time.monotonic()
        window = self.limits.gap_window_seconds
        self.gap_times = [t for t in self.gap_times if now - t < window]
        self.gap_times.append(now)
        self.stats.gaps += 1
        if len(self.gap_times) > self.limits.max_gaps:
            raise _SlowClientError


class Hub:
    """The registry of channel providers and the handler of every `/ws` connection."""

    def __init__(
        self,
        *,
        limits: HubLimits | None = None,
        state: Any = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.limits = limits or HubLimits()
        self.state = state
        self.stats = HubStats()
        self._providers: dict[str, ChannelProvider] = {}
        found, found_cookie = _find_authenticators()
        self._authenticator = authenticator if authenticator is not None else found
        self._cookie_authenticator = found_cookie if authenticator is None else None
        self._next_id = 0
        self._frames: OrderedDict[tuple[str, int, int], str | None] = OrderedDict()
        self._connections: dict[int, _Connection] = {}
        self._watchdog: asyncio.Task[None] | None = None

    def register(self, prefix: str, provider: ChannelProvider) -> None:
        if prefix in self._providers:
            raise ValueError(f"a provider for {prefix!r} channels is registered already")
        if not prefix or ":" in prefix:
            raise ValueError("a prefix is a non-empty name without ':'")
        self._providers[prefix] = provider

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(self._providers)

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self._next_id += 1
        connection = _Connection(websocket, Session(self._next_id, state=self.state), self.limits, self.stats)
        self.stats.connections += 1
        self.stats.connections_total += 1
        heartbeat = asyncio.create_task(self._heartbeat(connection), name=f"ws-heartbeat:{self._next_id}")
        self._connections[connection.session.connection_id] = connection
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch_sends(), name="ws-send-watchdog")
        try:
            await self._cookie_auth(connection)
            while True:
                text = await websocket.receive_text()
                await self._handle_frame(connection, text)
        except (WebSocketDisconnect, _SlowClientError, RuntimeError):
            pass
        finally:
            connection.closing = True
            heartbeat.cancel()
            for subscription, task in connection.pumps.values():
                subscription.unsubscribe()
                task.cancel()
            for _subscription, task in connection.pumps.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            connection.pumps.clear()
            del self._connections[connection.session.connection_id]
            self.stats.connections -= 1

    async def _watch_sends(self) -> None:
        """Gives up on sends that clients do not take within `send_timeout_seconds`, for every connection,
        while there are any."""
        while self._connections:
            await asyncio.sleep(min(1.0, self.limits.send_timeout_seconds / 5))
            now = time.monotonic()
            for connection in list(self._connections.values()):
                connection.give_up_if_stuck(now)
        self._watchdog = None

    async def _heartbeat(self, connection: _Connection) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.limits.heartbeat_seconds)
                await connection.send({"op": "heartbeat", "time": time.time()})

    async def _handle_frame(self, connection: _Connection, text: str) -> None:
        if len(text) > MAX_FRAME_BYTES:
            await connection.error(f"frame too large; at most {MAX_FRAME_BYTES} bytes", 413)
            return
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            await connection.error("frame is not valid JSON")
            return
        if not isinstance(message, dict):
            await connection.error('frame must be a JSON object with an "op"')
            return
        op = message.get("op")
        if op == "ping":
            await connection.send({"op": "pong"})
        elif op in ("subscribe", "unsubscribe"):
            channels = message.get("channels")
            if (
                not isinstance(channels, list)
                or not channels
                or not all(isinstance(c, str) and c for c in channels)
            ):
                await connection.error(f'"{op}" needs "channels": a non-empty list of channel names')
                return
            if op == "subscribe":
                await self._subscribe(connection, list(dict.fromkeys(channels)))
            else:
                await self._unsubscribe(connection, list(dict.fromkeys(channels)))
        elif op == "auth":
            await self._auth(connection, message.get("token"))
        else:
            known = "subscribe, unsubscribe, auth, ping"
            await connection.error(f"unknown op {op!r}; expected one of {known}")

    async def _cookie_auth(self, connection: _Connection) -> None:
        """A browser's session cookie signs the connection in; a stale one leaves it public."""
        if self._cookie_authenticator is None or not connection.websocket.cookies:
            return
        try:
            connection.session.principal = await self._cookie_authenticator(self.state, connection.websocket)
        except TesseraError as error:
            if int(error.status) != 401:
                await connection.error(error.detail, int(error.status))
            return
        await connection.send({"op": "authenticated"})

    async def _auth(self, connection: _Connection, token: object) -> None:
        if not isinstance(token, str) or not token:
            await connection.error('"auth" needs "token": a non-empty string')
            return
        if self._authenticator is None:
            await connection.error("authentication not available", 501)
            return
        try:
            connection.session.principal = await self._authenticator(self.state, token)
        except TesseraError as error:
            await connection.error(error.detail, int(error.status))
            return
        await connection.send({"op": "authenticated"})

    async def _subscribe(self, connection: _Connection, channels: list[str]) -> None:
        subscribed: list[str] = []
        acknowledged = asyncio.Event()  # snapshots and updates follow the "subscribed" frame
        for channel in channels:
            if channel in connection.pumps:
                subscribed.append(channel)
                continue
            if len(connection.pumps) >= self.limits.max_subscriptions:
                await connection.error(
                    f"at most {self.limits.max_subscriptions} subscriptions per connection",
                    429,
                    channel=channel,
                )
                continue
            provider = self._providers.get(channel.split(":", 1)[0])
            if provider is None:
                known = ", ".join(sorted(self._providers)) or "none"
                await connection.error(
                    f"unknown channel {channel!r}; channel kinds: {known}", 404, channel=channel
                )
                continue
            if provider.requires_auth and connection.session.principal is None:
                await connection.error(f"{channel!r} needs authentication first", 401, channel=channel)
                continue
            try:
                feed = await provider.open(channel, connection.session)
            except ChannelError as error:
                await connection.error(error.detail, error.status, channel=channel)
                continue
            subscription = feed.source.subscribe(
                f"ws:{connection.session.connection_id}:{channel}",
                maxsize=self.limits.queue_size,
                overflow=Overflow.DROP_OLDEST,
                include_remote=True,
            )
            task = asyncio.create_task(
                self._pump(connection, channel, feed, subscription, acknowledged),
                name=f"ws-pump:{connection.session.connection_id}:{channel}",
            )
            connection.pumps[channel] = (subscription, task)
            subscribed.append(channel)
        try:
            if subscribed:
                await connection.send({"op": "subscribed", "channels": subscribed})
        finally:
            acknowledged.set()

    async def _unsubscribe(self, connection: _Connection, channels: list[str]) -> None:
        removed = []
        for channel in channels:
            entry = connection.pumps.pop(channel, None)
            if entry is None:
                await connection.error(f"not subscribed to {channel!r}", 404, channel=channel)
                continue
            subscription, task = entry
            subscription.unsubscribe()
            task.cancel()
            removed.append(channel)
        if removed:
            await connection.send({"op": "unsubscribed", "channels": removed})

    async def _pump(
        self,
        connection: _Connection,
        channel: str,
        feed: ChannelFeed,
        subscription: Subscription[Any],
        acknowledged: asyncio.Event,
    ) -> None:
        try:
            await acknowledged.wait()
            if feed.snapshot is not None:
                await connection.send(
                    {
                        "channel": channel,
                        "seq": feed.source.last_seq,
                        "type": "snapshot",
                        "data": feed.snapshot,
                    }
                )
            while (delivery := await subscription.get()) is not None:
                if isinstance(delivery, Gap):
                    await connection.send({"op": "gap", "channel": channel, "missed": delivery.missed})
                    connection.note_gap()
                    continue
                envelope: Envelope[Event] = delivery
                text = self._frame(channel, feed, envelope)
                if text is not None:
                    await connection.send_text(text)
        except _SlowClientError:
            await self._disconnect_slow(connection)
        except asyncio.CancelledError:
            raise
        except Exception:
            if not connection.closing and connection.websocket.client_state is WebSocketState.CONNECTED:
                logger.exception("websocket channel failed", extra={"channel": channel})

    def _frame(self, channel: str, feed: ChannelFeed, envelope: Envelope[Event]) -> str | None:
        """The update frame, rendered and serialised once for every connection on the channel."""
        key = (channel, envelope.seq, id(envelope.event))
        if key in self._frames:
            return self._frames[key]
        data = feed.render(envelope.event)
        text = (
            None
            if data is None
            else orjson.dumps(
                {"channel": channel, "seq": envelope.seq, "type": feed.update_type, "data": data}, default=str
            ).decode()
        )
        self._frames[key] = text
        if len(self._frames) > FRAME_CACHE_SIZE:
            self._frames.popitem(last=False)
        return text

    async def _disconnect_slow(self, connection: _Connection) -> None:
        if connection.closing:
            return
        connection.closing = True
        self.stats.disconnected_slow += 1
        logger.warning("disconnecting a websocket client that keeps falling behind")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                connection.websocket.close(code=1013, reason="too slow: messages were dropped repeatedly"), 1
            )


def _find_authenticators() -> tuple[Authenticator | None, CookieAuthenticator | None]:
    """`authenticate_websocket_token(state, token)` and `authenticate_websocket_cookie(state, websocket)`
    from `server_fastapi.core.security`, where the auth domain provides them."""
    try:
        module = importlib.import_module("server_fastapi.core.security")
    except ImportError:
        return None, None
    token: Authenticator | None = getattr(module, "authenticate_websocket_token", None)
    cookie: CookieAuthenticator | None = getattr(module, "authenticate_websocket_cookie", None)
    return token, cookie


class HubMetricsCollector:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> list[Metric]:
        stats = self._hub.stats
        connections = GaugeMetricFamily("tessera_ws_connections", "Open WebSocket connections")
        connections.add_metric([], stats.connections)
        counters = []
        for name, value, text in (
            ("tessera_ws_messages_sent", stats.messages_sent, "Frames sent to WebSocket clients"),
            ("tessera_ws_gaps", stats.gaps, "Gap frames sent to slow clients"),
            ("tessera_ws_slow_disconnects", stats.disconnected_slow, "Clients disconnected for lagging"),
            ("tessera_ws_errors_sent", stats.errors_sent, "Error frames sent"),
        ):
            counter = CounterMetricFamily(name, text)
            counter.add_metric([], value)
            counters.append(counter)
        return [connections, *counters]


router = APIRouter()


@router.websocket("/ws")
async def websocket_gateway(websocket: WebSocket) -> None:
    """Every WebSocket client connects here; see the module docstring for the protocol."""
    hub: Hub = websocket.app.state.ws_hub
    await hub.serve(websocket)
