"""The generation marker against a real Redis: initialised once, lost when wiped, a
deliberate reset adopted (and the service's start-up writes redone)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from switchboard_devtools.testing import Brokers, eventually
from switchboard_runtime.generation import RESET, Generation, GenerationWatch, new_marker
from switchboard_runtime.redis_keys import Keys

pytestmark = pytest.mark.integration


async def yes() -> bool:
    return True


async def no() -> bool:
    return False


async def test_a_new_deployment_initialises_a_wiped_one_does_not(brokers: Brokers) -> None:
    redis = brokers.redis()
    keys = Keys(f"t{uuid.uuid4().hex[:12]}")
    try:
        consumed_before = Generation(redis, keys, ["svc"])
        assert not await consumed_before.establish(no)  # offsets committed, no marker
        assert consumed_before.lost
        assert not await redis.exists(keys.generation())

        await redis.xadd(keys.outbox("svc"), {"t": "x"})  # state from before markers
        upgraded = Generation(redis, keys, ["svc"])
        assert await upgraded.establish(no)
        assert upgraded.current
        assert upgraded.current.startswith("init:")

        other_replica = Generation(redis, keys, ["svc"])
        assert await other_replica.establish(yes)
        assert other_replica.current == upgraded.current  # one marker, adopted by all

        await redis.delete(keys.generation(), keys.outbox("svc"))  # the store is wiped
        assert not await upgraded.establish(yes)  # this process knew the old generation
        assert upgraded.lost
    finally:
        await redis.aclose()


async def test_a_reset_is_adopted_and_start_up_writes_are_redone(brokers: Brokers) -> None:
    redis = brokers.redis()
    keys = Keys(f"t{uuid.uuid4().hex[:12]}")
    generation = Generation(redis, keys)
    assert await generation.establish(yes)
    first = generation.current
    redone: list[str | None] = []

    async def on_new() -> None:
        redone.append(generation.current)

    watch = GenerationWatch(generation, on_new, interval_s=0.05)
    task = asyncio.create_task(watch.run())
    try:
        await redis.delete(keys.generation())
        await eventually(lambda: generation.lost, timeout=5)
        reset = new_marker(RESET)
        await redis.set(keys.generation(), reset)
        await eventually(lambda: redone == [reset], timeout=5)
        assert not generation.lost
        assert generation.current == reset != first
        await redis.set(keys.generation(), new_marker())  # auto-initialised elsewhere
        await eventually(lambda: generation.lost, timeout=5)
        assert redone == [reset]  # not adopted: only a deliberate reset is
    finally:
        watch.stop()
        await task
        await redis.aclose()
