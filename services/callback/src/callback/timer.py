"""The callback deadlines (due times, window ends) fired by the shared deadline timer."""

from __future__ import annotations

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from switchboard_runtime.deadlines import DeadlineTimer
from switchboard_runtime.redis_keys import Keys

from callback.callbacks import Callbacks
from callback.context import Clock
from callback.store import CallbackStore, epoch_ms

log = structlog.get_logger(__name__)

RETRY_FAILED_MS = 5000


def deadline_timer(
    redis: Redis,
    keys: Keys,
    callbacks: Callbacks,
    store: CallbackStore,
    clock: Clock,
    *,
    poll_ms: int,
) -> DeadlineTimer:
    """A timer over ``Keys.callback_deadlines()``; callbacks poke it when they add one.

    A deadline whose firing fails on a bug is tried again 5 s later instead of stopping
    the timer (Redis outages are the timer's to wait out).
    """

    async def fire(member: str, now_ms: int) -> str:
        try:
            return await callbacks.fire(member, now_ms)
        except (RedisError, OSError):
            raise
        except Exception as exc:
            log.exception("callback_deadline_failed", member=member, error=repr(exc))
            await store.postpone(member, now_ms + RETRY_FAILED_MS)
            return "postponed"

    timer = DeadlineTimer(
        redis, keys.callback_deadlines(), fire, lambda: epoch_ms(clock()), poll_ms=poll_ms
    )
    callbacks.wake = timer.poke
    return timer
