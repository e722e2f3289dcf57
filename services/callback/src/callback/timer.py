"""The callback deadlines (due times, window ends) fired by the shared deadline timer.

A callback's due times and window end are answered by its commands (a
``callback.cancel`` sent before the due time must win), which arrive on the partition
of callback.commands its id is keyed to. So its deadlines are kept in that partition's
set and fire only once every command of the partition sent before them is applied.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisClusterException, RedisError
from switchboard_runtime.deadlines import DeadlineTimer
from switchboard_runtime.partitioned_deadlines import DeadlineSets, PartitionedDeadlines
from switchboard_runtime.redis_keys import Keys

from callback.callbacks import Callbacks
from callback.store import CallbackStore

log = structlog.get_logger(__name__)

RETRY_FAILED_MS = 5000


def deadline_timer(
    redis: Redis,
    keys: Keys,
    callbacks: Callbacks,
    store: CallbackStore,
    deadlines: PartitionedDeadlines,
    *,
    poll_ms: int,
) -> DeadlineTimer:
    """A timer over the callback deadline sets; callbacks poke it when they add one.

    A deadline whose firing fails on a bug is tried again 5 s later instead of stopping
    the timer (Redis outages are the timer's to wait out).
    """

    async def fire_in(partition: int | None, member: str, now_ms: int) -> str:
        try:
            return await callbacks.fire(member, now_ms, partition)
        except (RedisError, RedisClusterException, OSError):
            raise
        except Exception as exc:
            log.exception("callback_deadline_failed", member=member, error=repr(exc))
            await store.postpone(member, partition, now_ms + RETRY_FAILED_MS)
            return "postponed"

    async def fire(member: str, now_ms: int) -> str:
        return await fire_in(None, member, now_ms)

    async def fire_sets(
        groups: Sequence[tuple[int | None, Sequence[str]]], now_ms: int
    ) -> list[list[str]]:
        return [[await fire_in(part, m, now_ms) for m in members] for part, members in groups]

    sets = DeadlineSets(keys.callback_deadlines(), keys.callback_deadlines_of)
    timer = deadlines.timer(redis, sets, fire_sets, fire=fire, poll_ms=poll_ms)
    callbacks.wake = timer.poke
    return timer
