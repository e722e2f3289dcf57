"""The router's Lua scripts: one atomic script per state transition.

Each script is ``lua/lib.lua`` (common arguments, events, agent state) and
``lua/matching.lua`` (matching and the shared item moves) followed by its own body, all
inside the runtime's atomic wrapper (all or nothing, over the generation of state it
expects; see switchboard_runtime.atomic), written as switchboard_runtime.lua describes.
Scripts take the time from the caller, so tests can drive them with a fake clock; event
ids are a per-call nonce plus a counter.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from redis.asyncio import Redis
from redis.typing import EncodableT
from switchboard_runtime.atomic import PIPELINE_CALLS, AtomicScript, GenerationSource, executed
from switchboard_runtime.clock import ClockMs
from switchboard_runtime.lua import LuaFile, lua_files
from switchboard_runtime.redis_keys import Keys

from router.routing_config import RoutingConfig

ScriptName = Literal["enqueue", "agent_status", "command", "cancel", "fire"]
SCRIPT_NAMES: tuple[ScriptName, ...] = ("enqueue", "agent_status", "command", "cancel", "fire")
# named arguments every call carries (see lua/lib.lua); an operation's own must differ
CONTEXT = frozenset(
    {"now", "nonce", "tenant", "correlation_id", "offer_ms", "wrapup_ms"}
    | {"scan_items", "scan_agents", "retention_s"}
)


def _files(name: str) -> list[LuaFile]:
    return lua_files("router", "lib.lua", "matching.lua", f"{name}.lua")


@dataclass(frozen=True)
class ScriptCall:
    """One planned script call: which script, its arguments, the correlation id."""

    name: ScriptName
    args: dict[str, Any]
    correlation_id: str | None = None
    now_ms: int | None = None


@dataclass(frozen=True)
class Timing:
    """Deadlines and scan bounds handed to every script."""

    offer_timeout_ms: int
    wrapup_timeout_ms: int
    scan_items: int = 200
    scan_agents: int = 500
    retention_s: int = 30 * 86400  # how long a closed item's record is kept


class RouterScripts:
    """Registered scripts for one tenant; ``run`` calls one with the common arguments."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        timing: Timing,
        clock_ms: ClockMs,
        generation: GenerationSource,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._timing = timing
        self._clock_ms = clock_ms
        # a nonce per call, unique across processes: a random prefix and a counter
        self._nonce_prefix = uuid.uuid4().hex[:16]
        self._calls = itertools.count()
        self._generation = generation
        self._scripts = {
            name: AtomicScript(redis, keys, _files(name), generation) for name in SCRIPT_NAMES
        }

    async def publish_queue_strategies(self, config: RoutingConfig) -> None:
        """Tell the scripts each configured queue's strategy (they read it per pass)."""
        strategies: dict[EncodableT, EncodableT] = {q: config.strategy(q) for q in config.queues}
        await self._redis.hset(self._keys.queue_config(), mapping=strategies)

    def _args(
        self, args: dict[str, Any], correlation_id: str | None, now_ms: int | None
    ) -> dict[str, Any]:
        if not CONTEXT.isdisjoint(args):
            raise ValueError(f"an operation's arguments may not be named {sorted(CONTEXT)}")
        t = self._timing
        return {k: v for k, v in args.items() if v is not None} | {
            "now": now_ms if now_ms is not None else self._clock_ms(),
            "nonce": f"{self._nonce_prefix}{next(self._calls):x}",
            "tenant": self._keys.tenant,
            "correlation_id": correlation_id or "",
            "offer_ms": t.offer_timeout_ms,
            "wrapup_ms": t.wrapup_timeout_ms,
            "scan_items": t.scan_items,
            "scan_agents": t.scan_agents,
            "retention_s": t.retention_s,
        }

    async def run(
        self,
        name: ScriptName,
        args: dict[str, Any],
        correlation_id: str | None = None,
        now_ms: int | None = None,
    ) -> str:
        """Call one script; returns its outcome."""
        result = await self._scripts[name](self._args(args, correlation_id, now_ms))
        return _text(result)

    async def run_many(
        self, name: ScriptName, calls: Sequence[tuple[dict[str, Any], str | None]]
    ) -> list[str]:
        """Call one script for each (args, correlation id), in order, in one round trip."""
        return await self.run_calls([ScriptCall(name, args, cid) for args, cid in calls])

    async def run_calls(self, calls: Sequence[ScriptCall]) -> list[str]:
        """Run the calls in order, pipelined ``PIPELINE_CALLS`` at a time.

        Each call is still its own atomic script, executed in the given order; pipelining
        only saves the waiting between them. Redis works through a whole pipeline before
        it serves other clients, so a long one would hold up the outbox relay and the
        deadline timer: the calls go in slices, one after another.
        """
        results: list[str] = []
        for start in range(0, len(calls), PIPELINE_CALLS):
            async with self._redis.pipeline(transaction=False) as pipe:
                for call in calls[start : start + PIPELINE_CALLS]:
                    args = self._args(call.args, call.correlation_id, call.now_ms)
                    await self._scripts[call.name].queue(pipe, args)
                results += [_text(result) for result in await executed(pipe)]
        return results


def _text(result: object) -> str:
    return result.decode() if isinstance(result, bytes) else str(result)
