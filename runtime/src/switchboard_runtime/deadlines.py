"""Fires deadlines kept in Redis sorted sets: the router's offer and wrap-up deadlines,
the callback service's scheduled callbacks.

Every replica runs a timer. It sleeps until the earliest deadline (or at most
``poll_ms``, so a deadline added by another replica is seen soon), then fires
whatever is due through the service's own script. That script must remove the member
and apply the transition in one atomic step (answering "gone" when the member was
already removed), so each deadline fires exactly once however many replicas race for
it, and still fires after every replica was restarted.

Deadlines answered by commands on a Kafka topic can also be kept per partition of that
topic (``Partitioned``): then only the replica that owns a partition fires its set, and
only up to the partition's watermark, the time up to which every command of the
partition is applied (see switchboard_runtime.watermarks). A due deadline past the
watermark waits; the timer is woken when it may fire. The single set (``deadlines_key``)
is always fired as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisClusterException, RedisError

from switchboard_runtime.clock import ClockMs
from switchboard_runtime.metrics import DeadlineMetrics
from switchboard_runtime.waiting import wait_at_most

log = structlog.get_logger(__name__)

Fire = Callable[[str, int], Awaitable[str]]
FireBatch = Callable[[Sequence[str], int], Awaitable[list[str]]]
# fire the due members of several sets ((partition or None, members) each) together,
# e.g. in one round trip; the outcomes per set, in order
FireSets = Callable[[Sequence[tuple[int | None, Sequence[str]]], int], Awaitable[list[list[str]]]]
Due = list[tuple[str, float]]
# a sorted set the timer fires: its key, and its partition (None: the single set)
DeadlineSet = tuple[str, int | None]


class PartitionGate(Protocol):
    """Which partitions' deadlines this replica fires, and up to when: ``known`` says
    what it knows now, ``watermarks`` may ask the broker first."""

    def owned(self) -> list[int]: ...

    def known(self, partition: int) -> int: ...

    async def watermarks(self, due: Mapping[int, Sequence[float]]) -> dict[int, int]: ...


@dataclass(frozen=True)
class Partitioned:
    """Deadlines kept in one sorted set per partition (``key_of``), fired only up to the
    ``gate``'s watermark of the partition; ``fire`` fires what one round found ready in
    every set, the single one included, together."""

    key_of: Callable[[int], str]
    gate: PartitionGate
    fire: FireSets


def _members(rows: Any) -> Due:
    return [(raw.decode() if isinstance(raw, bytes) else str(raw), score) for raw, score in rows]


class DeadlineTimer:
    def __init__(
        self,
        redis: Redis,
        deadlines_key: str,
        fire: Fire,
        clock_ms: ClockMs,
        *,
        poll_ms: int = 50,
        batch: int = 200,
        fire_batch: FireBatch | None = None,
        partitioned: Partitioned | None = None,
    ) -> None:
        self._redis = redis
        self._key = deadlines_key
        self._fire = fire
        self._clock_ms = clock_ms
        self._poll_ms = poll_ms
        self._batch = batch
        self._fire_batch = fire_batch
        self._partitioned = partitioned
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._held: set[str] = set()  # sets whose due members wait for their watermark
        self._round_ms = 0
        self.fired = 0
        self.metrics = DeadlineMetrics()  # exported by the service that runs the timer

    def poke(self) -> None:
        """A deadline was added here, or one held back may fire: look again now."""
        self._wake.set()

    def _sets(self) -> list[DeadlineSet]:
        sets: list[DeadlineSet] = [(self._key, None)]
        if self._partitioned is not None:
            key_of = self._partitioned.key_of
            sets += [(key_of(p), p) for p in self._partitioned.gate.owned()]
        return sets

    async def _due(self, sets: list[DeadlineSet], now: int) -> list[Due]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, _ in sets:
                pipe.zrangebyscore(key, "-inf", now, start=0, num=self._batch, withscores=True)
            found = await pipe.execute()
        return [_members(rows) for rows in found]

    def _split(
        self, sets: list[DeadlineSet], due: dict[int, Due], marks: Mapping[int, int]
    ) -> tuple[list[tuple[int | None, Due]], dict[int, Due]]:
        """The members of each set (by index) that may fire, and those that must wait."""
        ready: list[tuple[int | None, Due]] = []
        waiting: dict[int, Due] = {}
        for i, members in due.items():
            part = sets[i][1]
            mark = marks.get(part, -1) if part is not None else float("inf")
            if fire := [m for m in members if m[1] <= mark]:
                ready.append((part, fire))
            if wait := [m for m in members if m[1] > mark]:
                waiting[i] = wait
        return ready, waiting

    async def fire_due(self) -> int:
        """Fire what is due now (and, per partition, not past its watermark); returns the
        most due members one set had, of the sets that held nothing back (so the caller
        knows a full batch was fired and more may be due).

        What this replica knows already fires first; then the broker is asked about the
        partitions whose due deadlines are past that, and what it allows fires too."""
        now = self._clock_ms()
        sets = self._sets()
        due = await self._due(sets, now)
        gate = self._partitioned.gate if self._partitioned is not None else None
        known = {p: gate.known(p) for _, p in sets if gate is not None and p is not None}
        ready, waiting = self._split(sets, dict(enumerate(due)), known)
        await self._fire_sets(ready, now)
        if waiting and gate is not None:
            parts = {i: p for i in waiting if (p := sets[i][1]) is not None}
            marks = await gate.watermarks({p: [s for _, s in waiting[i]] for i, p in parts.items()})
            ready, waiting = self._split(sets, waiting, marks)
            await self._fire_sets(ready, now)
        self._held, self._round_ms = {sets[i][0] for i in waiting}, now
        return max((len(d) for i, d in enumerate(due) if i not in waiting), default=0)

    async def _fire_sets(self, ready: list[tuple[int | None, Due]], now: int) -> None:
        if not ready:
            return
        if self._partitioned is not None:
            groups = [(part, [member for member, _ in due]) for part, due in ready]
            outcomes = await self._partitioned.fire(groups, now)
        else:
            [(_, due)] = ready
            members = [member for member, _ in due]
            if self._fire_batch is not None:
                outcomes = [await self._fire_batch(members, now)]
            else:
                outcomes = [[await self._fire(member, now) for member in members]]
        for (_, due), fired in zip(ready, outcomes, strict=True):
            self._count(due, fired, now)

    def _count(self, due: Due, outcomes: list[str], now: int) -> None:
        for (member, score), outcome in zip(due, outcomes, strict=True):
            if outcome not in ("gone", "stale"):
                self.fired += 1
                self.metrics.fired.labels(outcome).inc()
                self.metrics.lateness.observe(max(0.0, now - score) / 1000)
                log.debug("deadline_fired", member=member, outcome=outcome, late_ms=now - score)

    async def _sleep_ms(self) -> float:
        """Until the earliest deadline not yet looked at (held ones wait to be woken)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, _ in self._sets():
                low = f"({self._round_ms}" if key in self._held else "-inf"
                pipe.zrangebyscore(key, low, "+inf", start=0, num=1, withscores=True)
            firsts = cast(list[list[tuple[bytes, float]]], await pipe.execute())
        scores = [rows[0][1] for rows in firsts if rows]
        if not scores:
            return self._poll_ms
        return max(0.0, min(self._poll_ms, min(scores) - self._clock_ms()))

    async def run(self) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            self._wake.clear()  # a poke during this round makes the next one start at once
            try:
                if await self.fire_due() >= self._batch:
                    continue
                wait_ms = await self._sleep_ms()
                backoff = 0.05
            except (RedisError, RedisClusterException, OSError) as exc:
                log.warning("deadline_timer_retrying", error=repr(exc), backoff_s=backoff)
                wait_ms = backoff * 1000
                backoff = min(backoff * 2, 2.0)
            if wait_ms > 0:
                await wait_at_most(self._wake, wait_ms / 1000)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
