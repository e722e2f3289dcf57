"""The router's Lua scripts: one atomic script per state transition.

Each script is ``lua/lib.lua`` (keys, events, agent state) and ``lua/matching.lua``
(matching and the shared item moves) followed by its own body, all inside the runtime's
atomic wrapper (all or nothing, over the generation of state it expects; see
switchboard_runtime.atomic). Scripts take the time from the caller, so tests can drive
them with a fake clock; event ids are a per-call nonce plus a counter.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from redis.asyncio import Redis
from switchboard_runtime.atomic import AtomicScript, GenerationSource, executed
from switchboard_runtime.clock import ClockMs
from switchboard_runtime.redis_keys import Keys

from router.routing_config import RoutingConfig

ScriptName = Literal["enqueue", "agent_status", "command", "cancel", "fire", "split"]
SCRIPT_NAMES: tuple[ScriptName, ...] = (
    "enqueue",
    "agent_status",
    "command",
    "cancel",
    "fire",
    "split",
)
# scripts sent to Redis in one pipeline (see RouterScripts.run_calls)
PIPELINE_CALLS = 50


def _body(name: str) -> str:
    lua = resources.files("router").joinpath("lua")
    parts = ("lib.lua", "matching.lua", f"{name}.lua")
    return "\n".join(lua.joinpath(part).read_text() for part in parts)


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
            name: AtomicScript(redis, _body(name), generation) for name in SCRIPT_NAMES
        }

    async def publish_queue_strategies(self, config: RoutingConfig) -> None:
        """Tell the scripts each configured queue's strategy (they read it per pass)."""
        strategies = {queue: config.strategy(queue) for queue in config.queues}
        await self._redis.hset(self._keys.queue_config(), mapping=strategies)  # type: ignore[arg-type]

    async def split_queues_by_kind(self, config: RoutingConfig) -> int:
        """Move the items and agents of a configured queue's single sets (as routers before
        per-kind sets kept them) into the sets of their kinds; returns how many moved."""
        return sum([int(await self.run("split", {"queue": q})) for q in config.queues])

    def _argv(
        self, args: dict[str, Any], correlation_id: str | None, now_ms: int | None
    ) -> list[str | int]:
        t = self._timing
        return [
            now_ms if now_ms is not None else self._clock_ms(),
            f"{self._nonce_prefix}{next(self._calls):x}",
            self._keys.tenant,
            correlation_id or "",
            t.offer_timeout_ms,
            t.wrapup_timeout_ms,
            t.scan_items,
            t.scan_agents,
            json.dumps({k: v for k, v in args.items() if v is not None}),
        ]

    async def run(
        self,
        name: ScriptName,
        args: dict[str, Any],
        correlation_id: str | None = None,
        now_ms: int | None = None,
    ) -> str:
        """Call one script; returns its outcome."""
        argv = self._argv(args, correlation_id, now_ms)
        result = await self._scripts[name]([self._keys.tag], argv)
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
                    argv = self._argv(call.args, call.correlation_id, call.now_ms)
                    await self._scripts[call.name].queue(pipe, [self._keys.tag], argv)
                results += [_text(result) for result in await executed(pipe)]
        return results


def _text(result: object) -> str:
    return result.decode() if isinstance(result, bytes) else str(result)
