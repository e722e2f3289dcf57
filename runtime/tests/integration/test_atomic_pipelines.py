"""Atomic scripts queued on a pipeline, against a real Redis: one round trip per
pipeline (no SCRIPT EXISTS before each), and a store that lost its scripts answers
ScriptsReloaded once, after which the same calls run."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis
from switchboard_devtools.testing import Brokers
from switchboard_runtime.atomic import AtomicScript, FixedGeneration, ScriptsReloaded, executed
from switchboard_runtime.lua import LuaFile
from switchboard_runtime.redis_keys import Keys

pytestmark = pytest.mark.integration

GENERATION = "init:pipeline-tests"
BODY = "return write('INCR', key.offer_sequence())"


async def script_exists_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_script|exists", {}).get("calls", 0))


async def counter_script(redis: Redis) -> tuple[AtomicScript, Keys]:
    keys = Keys(f"t{uuid.uuid4().hex[:8]}")
    await redis.set(keys.generation(), GENERATION)
    generation = FixedGeneration(keys.generation(), GENERATION)
    return AtomicScript(redis, keys, [LuaFile("count.lua", BODY)], generation), keys


async def run_three(redis: Redis, script: AtomicScript) -> list[int]:
    async with redis.pipeline(transaction=False) as pipe:
        for _ in range(3):
            await script.queue(pipe, {})
        return [int(n) for n in await executed(pipe)]


async def test_a_pipeline_of_scripts_asks_nothing_before_it_runs(brokers: Brokers) -> None:
    redis = brokers.redis()
    try:
        script, _ = await counter_script(redis)
        await run_three(redis, script)  # the first call loads the script
        before = await script_exists_calls(redis)
        results = [await run_three(redis, script) for _ in range(5)]
        assert results[-1] == [16, 17, 18]
        assert await script_exists_calls(redis) == before
    finally:
        await redis.aclose()


async def test_a_store_that_lost_its_scripts_is_answered_by_loading_them_again(
    brokers: Brokers,
) -> None:
    redis = brokers.redis()
    try:
        script, keys = await counter_script(redis)
        assert await run_three(redis, script) == [1, 2, 3]
        await redis.script_flush()  # what a restarted store, or a promoted replica, has
        with pytest.raises(ScriptsReloaded):
            await run_three(redis, script)
        assert await redis.get(keys.offer_sequence()) == b"3"  # nothing ran
        assert await run_three(redis, script) == [4, 5, 6]
    finally:
        await redis.aclose()
