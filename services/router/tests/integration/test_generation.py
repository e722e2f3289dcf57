"""The router applies nothing over a store that lost its state, and its offer ids never
repeat across a reset (issue 9, part 4)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from switchboard_runtime.atomic import StateLost
from switchboard_runtime.generation import RESET, new_marker

from .routerkit import Harness

pytestmark = pytest.mark.integration


async def wipe(redis: Redis, harness: Harness) -> None:
    """What a restart without persistence does to the tenant's keys."""
    keys = [k async for k in redis.scan_iter(match=f"{harness.keys.tag}:*", count=1000)]
    await redis.delete(*keys)


async def test_nothing_is_applied_over_a_wiped_store(redis: Redis, router: Harness) -> None:
    await router.status("a1")
    await wipe(redis, router)
    with pytest.raises(StateLost):
        await router.create("w1")
    assert not [k async for k in redis.scan_iter(match=f"{router.keys.tag}:*")]
    assert not await router.generation.refresh()
    assert router.generation.lost


async def test_offer_ids_carry_the_generation_and_differ_after_a_reset(
    redis: Redis, router: Harness
) -> None:
    await router.status("a1")
    await router.create("w1")
    before = await router.offer_id("w1")
    assert before == f"of-{router.generation.short}-1"

    await wipe(redis, router)
    await redis.set(router.keys.generation(), new_marker(RESET))  # sb-state reset
    assert await router.generation.refresh()
    await router.status("a1")
    await router.create("w1")
    after = await router.offer_id("w1")
    assert after.endswith("-1")
    assert after != before
