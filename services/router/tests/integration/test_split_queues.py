"""Routers started on data of routers before per-kind sets: the single sets are split."""

from __future__ import annotations

import pytest

from .routerkit import Harness, of_type

pytestmark = pytest.mark.integration


async def test_items_and_agents_in_single_queue_sets_move_to_their_kinds_sets(
    router: Harness,
) -> None:
    # as a router before per-kind sets left them: one set of items, one of agents per queue
    h = router
    assert await h.create("w-chat", "chat", 5) == "queued"
    assert await h.create("w-task", "task", 8) == "queued"
    waiting = await h.queued("chat") + await h.queued("task")
    for queue, kind, wid in (("chat", "chat", "w-chat"), ("task", "async", "w-task")):
        score = await h.redis.zscore(h.keys.queue(queue, kind), wid)
        assert score is not None
        await h.redis.zrem(h.keys.queue(queue, kind), wid)
        await h.redis.zadd(h.keys.queue_before_kinds(queue), {wid: score})
    assert await h.status("a1", queues=["email"], capacity={"voice": 0, "chat": 0, "async": 2})
    for kind in ("voice", "chat", "async"):
        await h.redis.delete(h.keys.queue_agents("email", kind))
    await h.redis.zadd(h.keys.queue_agents_before_kinds("email"), {"a1": 1.0})

    assert await h.scripts.split_queues_by_kind(h.config) == 3

    assert await h.queued("chat") + await h.queued("task") == waiting
    assert await h.redis.zrange(h.keys.queue_agents("email", "async"), 0, -1) == ["a1"]
    assert await h.redis.zcard(h.keys.queue_agents("email", "chat")) == 0
    assert not await h.redis.exists(h.keys.queue_before_kinds("chat"))
    assert not await h.redis.exists(h.keys.queue_agents_before_kinds("email"))
    assert await h.scripts.split_queues_by_kind(h.config) == 0
    await h.new_events()
    assert await h.status("a2", queues=["chat", "task"]) == "available"
    offers = of_type(await h.new_events(), "offer.made")
    assert {e.data["work_item_id"] for e in offers} == {"w-chat", "w-task"}
