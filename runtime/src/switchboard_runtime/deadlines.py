"""Fires deadlines kept in a Redis sorted set: the router's offer and wrap-up
deadlines, the callback service's scheduled callbacks.

Every replica runs a timer. It sleeps until the earliest deadline (or at most
``poll_ms``, so a deadline added by another replica is seen soon), then fires
whatever is due through the service's own script. That script must remove the member
and apply the transition in one atomic step (answering "gone" when the member was
already removed), so each deadline fires exactly once however many replicas race for
it, and still fires after every replica was restarted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from switchboard_runtime.metrics import DEADLINE_LATENESS, DEADLINES_FIRED
from switchboard_runtime.waiting import wait_at_most

log = structlog.get_logger(__name__)

Fire = Callable[[str, int], Awaitable[str]]
FireBatch = Callable[[Sequence[str], int], Awaitable[list[str]]]
ClockMs = Callable[[], int]


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
    ) -> None:
        self._redis = redis
        self._key = deadlines_key
        self._fire = fire
        self._clock_ms = clock_ms
        self._poll_ms = poll_ms
        self._batch = batch
        self._fire_batch = fire_batch
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.fired = 0

    def poke(self) -> None:
        """A deadline was added here; look again now rather than at the next poll."""
        self._wake.set()

    async def fire_due(self) -> int:
        """Fire what is due now; returns how many due members this pass looked at."""
        now = self._clock_ms()
        due = cast(
            list[tuple[bytes, float]],
            await self._redis.zrangebyscore(
                self._key, "-inf", now, start=0, num=self._batch, withscores=True
            ),
        )
        members = [raw.decode() for raw, _ in due]
        if self._fire_batch is not None and members:
            outcomes = await self._fire_batch(members, now)
        else:
            outcomes = [await self._fire(member, now) for member in members]
        for member, (_, score), outcome in zip(members, due, outcomes, strict=True):
            if outcome not in ("gone", "stale"):
                self.fired += 1
                DEADLINES_FIRED.labels(outcome).inc()
                DEADLINE_LATENESS.observe(max(0.0, now - score) / 1000)
                log.debug("deadline_fired", member=member, outcome=outcome, late_ms=now - score)
        return len(due)

    async def _sleep_ms(self) -> float:
        first = cast(
            list[tuple[bytes, float]], await self._redis.zrange(self._key, 0, 0, withscores=True)
        )
        if not first:
            return self._poll_ms
        return max(0.0, min(self._poll_ms, first[0][1] - self._clock_ms()))

    async def run(self) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            try:
                if await self.fire_due() >= self._batch:
                    continue
                wait_ms = await self._sleep_ms()
                backoff = 0.05
            except (RedisError, OSError) as exc:
                log.warning("deadline_timer_retrying", error=repr(exc), backoff_s=backoff)
                wait_ms = backoff * 1000
                backoff = min(backoff * 2, 2.0)
            self._wake.clear()
            if wait_ms > 0:
                await wait_at_most(self._wake, wait_ms / 1000)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
