"""Each agent's deadlines live in the sorted set of its partition of agent.commands (the
partition its answers arrive on); agents known from before keep the single set."""

from __future__ import annotations

from typing import cast

import pytest
from switchboard_runtime.watermarks import default_partition

from .conftest import MakeRouter
from .routerkit import OFFER_MS, START_MS, WRAPUP_MS, Harness

pytestmark = pytest.mark.integration

PARTITIONS = 3


async def members(h: Harness, part: int | None) -> list[tuple[str, float]]:
    key = h.keys.deadlines() if part is None else h.keys.deadlines_of(part)
    rows = await h.redis.zrange(key, 0, -1, withscores=True)
    return cast(list[tuple[str, float]], rows)


@pytest.fixture
async def h(make_router: MakeRouter) -> Harness:
    harness = await make_router(None)
    harness.partitions = PARTITIONS
    return harness


async def test_offer_and_wrap_up_deadlines_live_in_the_agents_partition_set(h: Harness) -> None:
    part = default_partition("ada", PARTITIONS)
    await h.status("ada")
    assert (await h.agent("ada"))["part"] == str(part)
    await h.create("w1")
    offer_id = await h.offer_id("w1")
    assert await members(h, part) == [(f"o|{offer_id}|w1", START_MS + OFFER_MS)]
    assert await members(h, None) == []
    assert (await h.item("w1"))["dpart"] == str(part)

    assert await h.answer("offer.accept", "ada", "w1") == "active"
    assert await h.deadlines() == []
    assert await h.command("item.end", "ada", "w1") == "wrap_up"
    assert await members(h, part) == [("w|w1", START_MS + WRAPUP_MS)]
    assert await h.command("item.complete", "ada", "w1") == "completed"
    assert await h.deadlines() == []


async def test_fire_takes_a_member_only_from_the_set_it_is_told(h: Harness) -> None:
    part = default_partition("ada", PARTITIONS)
    await h.status("ada")
    await h.create("w1")
    [(member, _)] = await members(h, part)
    h.now += OFFER_MS
    other = (part + 1) % PARTITIONS
    assert await h.engine.fire(member, h.now, other) == "gone"
    assert await h.engine.fire(member, h.now) == "gone"  # nor from the single set
    assert (await h.item("w1"))["status"] == "offered"
    assert await h.engine.fire_many([member, member], h.now, part) == ["offer_expired", "gone"]
    assert (await h.agent("ada"))["status"] == "away"


async def test_rejects_cancels_and_going_offline_take_the_deadline_from_its_set(
    h: Harness,
) -> None:
    await h.status("ada", capacity={"voice": 0, "chat": 0, "async": 3})
    for wid in ("w1", "w2", "w3"):
        await h.create(wid)
    assert len(await h.deadlines()) == 3
    rejected = f"o|{await h.offer_id('w1')}|w1"
    assert await h.answer("offer.reject", "ada", "w1") == "queued"
    assert await h.cancel("w2") == "cancelled"
    offered = [w for w in ("w1", "w2", "w3") if (await h.item(w))["status"] == "offered"]
    expected = sorted([f"o|{await h.offer_id(w)}|{w}" for w in offered])
    assert sorted(m for m, _ in await h.deadlines()) == expected
    assert "w3" in offered
    assert rejected not in expected
    assert await h.status("ada", "offline") == "offline"
    assert await h.deadlines() == []


async def test_deadlines_set_before_partitions_were_known_stay_in_the_single_set(
    make_router: MakeRouter,
) -> None:
    h = await make_router(None)  # an older router: no partitions
    await h.status("ada", capacity={"voice": 0, "chat": 0, "async": 2})
    await h.create("w1")
    old = f"o|{await h.offer_id('w1')}|w1"
    assert await members(h, None) == [(old, START_MS + OFFER_MS)]

    h.partitions = PARTITIONS  # the upgrade; ada says who she is again
    part = default_partition("ada", PARTITIONS)
    await h.status("ada", capacity={"voice": 0, "chat": 0, "async": 2})
    await h.create("w2")
    new = f"o|{await h.offer_id('w2')}|w2"
    assert await members(h, part) == [(new, START_MS + OFFER_MS)]
    assert await members(h, None) == [(old, START_MS + OFFER_MS)]
    assert await h.answer("offer.accept", "ada", "w1") == "active"  # taken from the old set
    assert await members(h, None) == []
    h.now += OFFER_MS
    assert await h.fire_due() == [(new, "offer_expired")]
