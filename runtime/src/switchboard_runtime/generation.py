"""Noticing a store that lost its state.

A Redis without persistence that restarts comes back empty, and a service that carried
on would answer 404 for records it acknowledged, forget its agents and idempotency keys
and hand out ids again. So each tenant's state carries a **generation marker**: a string
key written once, when the tenant's state is first initialised, holding
``init:<random id>``. Every state-changing script names the generation it expects and
refuses to run when the store holds another (:mod:`switchboard_runtime.atomic`), and
each service re-reads the marker every second for readiness and its HTTP reads.

When is an empty store new rather than wiped? A service initialises the marker only
when it has never seen one in this process *and* its Kafka consumer group has no
committed offsets (a deployment that has never consumed anything), or the tenant still
has outbox streams (state from a version before markers). Otherwise it reports
``redis_state_lost`` and applies nothing until an operator either restores the store
(an AOF or RDB copy brings the same marker back, and every service carries on) or
resets it deliberately with ``sb-state reset``, which writes ``reset:<random id>``: a
new generation every running service adopts, logged loudly.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisClusterException, RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from switchboard_runtime.redis_keys import Keys
from switchboard_runtime.waiting import wait_at_most

log = structlog.get_logger(__name__)

MayInitialise = Callable[[], Awaitable[bool]]
INIT, RESET = "init:", "reset:"


def new_marker(kind: str = INIT) -> str:
    return f"{kind}{secrets.token_hex(6)}"


class Generation:
    """The generation this process works on, and whether the store still holds it."""

    def __init__(self, redis: Redis, keys: Keys, outbox_services: Sequence[str] = ()) -> None:
        self.redis = redis
        self._keys = keys
        self._outboxes = [keys.outbox(s) for s in outbox_services]
        self.key = keys.generation()
        self.current: str | None = None
        self.lost = False

    @property
    def short(self) -> str:
        """A short form of the generation, for ids that must differ across generations."""
        return (self.current or "").partition(":")[2][:6]

    async def establish(self, may_initialise: MayInitialise) -> bool:
        """Adopt the store's generation, initialising it if this is a new deployment;
        True when the store holds the generation this process works on."""
        marker = await self._marker()
        if marker is None and self.current is None and await self._is_new(may_initialise):
            await self.redis.set(self.key, new_marker(), nx=True)
            marker = await self._marker()
            log.info("redis_state_initialised", generation=marker)
        return self._adopt(marker)

    async def refresh(self) -> bool:
        """Re-read the marker (never initialises); True while the state is there."""
        return self._adopt(await self._marker())

    async def _marker(self) -> str | None:
        value = await self.redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    async def _is_new(self, may_initialise: MayInitialise) -> bool:
        if self._outboxes and await self.redis.exists(*self._outboxes):
            return True  # state written before generation markers existed
        return await may_initialise()

    def _adopt(self, marker: str | None) -> bool:
        was_lost = self.lost
        if marker is not None and (self.current is None or marker.startswith(RESET)):
            if self.current not in (None, marker):
                log.warning("redis_state_reset_adopted", generation=marker, was=self.current)
            self.current = marker
        self.lost = marker is None or marker != self.current
        if self.lost and not was_lost:
            log.error(
                "redis_state_lost",
                expected=self.current,
                found=marker,
                action="restore the store (AOF/RDB), or run `sb-state reset` to start over",
            )
        elif was_lost and not self.lost:
            log.warning("redis_state_back", generation=marker)
        return not self.lost


class GenerationWatch:
    """Re-reads the marker every ``interval_s`` (a worker of the service runtime), so
    readiness and HTTP reads notice a lost state within a second. When the service
    adopts a new generation (after ``sb-state reset``), ``on_new`` runs: what the service
    writes once connected (e.g. the router's queue strategies) is written again."""

    def __init__(
        self,
        generation: Generation,
        on_new: Callable[[], Awaitable[None]],
        interval_s: float = 1.0,
    ) -> None:
        self._generation = generation
        self._on_new = on_new
        self._interval_s = interval_s
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        seen = self._generation.current
        while not self._stopping.is_set():
            try:
                if await self._generation.refresh() and self._generation.current != seen:
                    await self._on_new()
                    seen = self._generation.current
            except (RedisError, RedisClusterException, OSError) as exc:
                log.debug("redis_state_unreadable", error=repr(exc))
            await wait_at_most(self._stopping, self._interval_s)

    def stop(self) -> None:
        self._stopping.set()


class RefuseWhileStateLost:
    """ASGI middleware: while the store has lost its state, every request but health,
    metrics, the API docs and the service's ``pages`` answers 503 ``redis_state_lost``
    (a read would answer 404 for records that exist, a write would be refused by its
    script anyway). A page entry ending in ``/`` opens everything under it, any other
    only itself (``"/"`` is the page, ``"/static/"`` its files)."""

    OPEN = ("/health", "/metrics", "/docs", "/openapi.json")

    def __init__(self, app: ASGIApp, generation: Generation, pages: Sequence[str] = ()) -> None:
        self._app = app
        self._generation = generation
        self._open = self.OPEN + tuple(p for p in pages if p.endswith("/") and p != "/")
        self._exact = frozenset(p for p in pages if not p.endswith("/") or p == "/")

    def _is_open(self, path: str) -> bool:
        return path.startswith(self._open) or path in self._exact

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not self._generation.lost or self._is_open(path):
            await self._app(scope, receive, send)
            return
        body = json.dumps(
            {"detail": "redis_state_lost: the store lost its state; see the service log"}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"retry-after", b"5")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
