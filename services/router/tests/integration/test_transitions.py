"""Router transitions, one story each: events in the outbox and state in Redis (fake clock)."""

from __future__ import annotations

import pytest
from switchboard_schemas.agent_events import OfferMade

from .routerkit import (
    DEFAULT_DISPOSITION,
    OFFER_MS,
    START_MS,
    WRAPUP_MS,
    Harness,
    finish,
    iso,
    of_type,
    offered_to,
    only,
    types,
)

pytestmark = pytest.mark.integration


async def test_full_lifecycle(router: Harness) -> None:
    h = router
    assert await h.create("w1", "task", 3, description="Send the transcript") == "queued"
    assert await h.status("a1", queues=["task"]) == "available"
    events = await h.new_events()
    assert types(events) == [
        "workitem.queued",
        "agent.status_changed",
        "offer.made",
        "workitem.offered",
    ]
    assert events[0].data == {"work_item_id": "w1", "queue": "task", "priority": 3}
    offer_id = (await h.item("w1"))["offer_id"]
    made = only(events, "offer.made")
    assert (made.topic, made.key, made.subject) == ("agent.events", "a1", "w1")
    assert made.data == {
        "offer_id": offer_id,
        "work_item_id": "w1",
        "agent_id": "a1",
        "expires_at": iso(START_MS + OFFER_MS),
        "outbound": False,
        "actions": ["accept", "reject"],
        "item": {
            "type": "task",
            "priority": 3,
            "channel": "api",
            "description": "Send the transcript",
            "queue": "task",
        },
    }
    OfferMade.model_validate(made.data)
    assert await h.deadlines() == [(f"o|{offer_id}|w1", START_MS + OFFER_MS)]

    h.now += 500
    assert await h.answer("offer.accept", "a1", "w1") == "active"
    assert await h.deadlines() == []
    assert await h.command("item.hold", "a1", "w1") == "hold"
    assert await h.command("item.resume", "a1", "w1") == "active"
    assert await h.command("item.end", "a1", "w1") == "wrap_up"
    assert await h.deadlines() == [("w|w1", h.now + WRAPUP_MS)]
    assert (await h.agent("a1"))["used_async"] == "1"
    h.now += 1000
    done = await h.command("item.complete", "a1", "w1", disposition_code="resolved", notes="ok")
    assert done == "completed"

    events = await h.new_events()
    assert types(events) == [
        "workitem.accepted",
        "workitem.held",
        "workitem.resumed",
        "workitem.wrapup_started",
        "workitem.completed",
    ]
    assert all(e.topic == "workitem.events" and e.key == "w1" for e in events)
    assert events[0].data == {"work_item_id": "w1", "offer_id": offer_id, "agent_id": "a1"}
    assert events[3].data["expires_at"] == iso(START_MS + 500 + WRAPUP_MS)
    assert events[4].data == {
        "work_item_id": "w1",
        "agent_id": "a1",
        "disposition_code": "resolved",
        "notes": "ok",
        "auto": False,
    }
    assert (await h.item("w1"))["status"] == "completed"
    assert (await h.agent("a1"))["used_async"] == "0"
    assert await h.agent_items("a1") == set()
    assert await h.deadlines() == []
    # closed: kept for the retention (30 days by default), then gone
    assert 30 * 86400 - 60 < await h.redis.ttl(h.keys.router_item("w1")) <= 30 * 86400
    assert await h.create("w2") == "queued"  # open: kept until it closes
    assert await h.redis.ttl(h.keys.router_item("w2")) == -1


async def test_priority_first(router: Harness) -> None:
    h = router
    for n, priority in enumerate([8, 5, 3, 1]):
        await h.create(f"p{priority}", "task", priority, created_ms=START_MS + n)
    await h.status("a1", capacity={"async": 1})
    order = []
    for _ in range(4):
        [wid] = await offered_to(h, "a1")
        order.append(wid)
        await finish(h, "a1", wid)
    assert order == ["p1", "p3", "p5", "p8"]
    assert await offered_to(h, "a1") == []


async def test_oldest_first_within_a_priority(router: Harness) -> None:
    h = router
    for wid, age in [("w-a", 30), ("w-b", 10), ("w-c", 20)]:
        await h.create(wid, "email", 5, created_ms=START_MS - 1000 + age)
    await h.status("a1", queues=["email"], capacity={"async": 1})
    order = []
    for _ in range(3):
        [wid] = await offered_to(h, "a1")
        order.append(wid)
        await finish(h, "a1", wid)
    assert order == ["w-b", "w-c", "w-a"]


async def test_rejected_item_keeps_its_place_in_line(router: Harness) -> None:
    h = router
    await h.create("x", created_ms=START_MS)
    await h.status("a1", capacity={"async": 1})
    first = await h.offer_id("x")
    score = float((await h.item("x"))["score"])
    await h.create("y", created_ms=START_MS + 1)
    await h.status("a1", "away", capacity={"async": 1})
    await h.new_events()
    assert await h.answer("offer.reject", "a1", "x", reason="busy") == "queued"
    [rejected] = await h.new_events()
    assert (rejected.type, rejected.key) == ("workitem.offer_rejected", "x")
    assert rejected.data == {
        "work_item_id": "x",
        "offer_id": first,
        "agent_id": "a1",
        "reason": "busy",
    }
    assert await h.queued("task") == [("x", score), ("y", score + 1)]
    assert await h.redis.smembers(h.keys.item_rejected_by("x")) == {"a1"}
    await h.status("a2", capacity={"async": 1})
    assert await offered_to(h, "a2") == ["x"]


async def test_rejected_item_returns_to_the_only_agent(router: Harness) -> None:
    h = router
    await h.status("a1")
    await h.create("x")
    first = await h.offer_id("x")
    await h.new_events()
    await h.answer("offer.reject", "a1", "x")
    events = await h.new_events()
    assert types(events) == ["workitem.offer_rejected", "offer.made", "workitem.offered"]
    again = await h.item("x")
    assert (again["status"], again["agent"]) == ("offered", "a1")
    assert again["offer_id"] != first


async def test_rejected_item_goes_to_another_agent_with_capacity(router: Harness) -> None:
    h = router
    await h.status("a1", capacity={"async": 1})
    await h.create("x")
    h.now += 100
    await h.status("a2", capacity={"async": 1})
    await h.new_events()
    await h.answer("offer.reject", "a1", "x")
    assert await offered_to(h, "a2") == ["x"]
    await h.create("y")
    assert await offered_to(h, "a1") == ["y"]


async def test_fire_then_accept_is_refused_and_the_agent_is_away(router: Harness) -> None:
    h = router
    await h.status("a1")
    await h.create("x")
    offer = await h.offer_id("x")
    h.now += OFFER_MS
    assert await h.fire_due() == [(f"o|{offer}|x", "offer_expired")]
    await h.new_events()
    event = h.command_event("offer.accept", "a1", "x", offer)
    assert await h.send(event) == "rejected:offer_not_current"
    [refused] = await h.new_events()
    assert (refused.type, refused.key) == ("command.rejected", "a1")
    assert refused.data == {
        "command_id": event.id,
        "command_type": "offer.accept",
        "work_item_id": "x",
        "agent_id": "a1",
        "reason": "offer_not_current",
    }
    assert (await h.agent("a1"))["status"] == "away"
    assert (await h.item("x"))["status"] == "queued"


async def test_accept_then_fire_is_a_no_op(router: Harness) -> None:
    h = router
    await h.status("a1")
    await h.create("x")
    offer = await h.offer_id("x")
    h.now += OFFER_MS  # due, but no timer has fired it yet: the accept wins
    assert await h.answer("offer.accept", "a1", "x") == "active"
    await h.new_events()
    assert await h.due() == []
    assert await h.engine.fire(f"o|{offer}|x", h.now) == "gone"
    assert await h.new_events() == []
    assert (await h.item("x"))["status"] == "active"
    assert (await h.agent("a1"))["status"] == "available"


async def test_offer_expiry_requeues_in_place_and_sets_the_agent_away(router: Harness) -> None:
    h = router
    await h.create("x", created_ms=START_MS)
    await h.status("a1", capacity={"async": 1})
    offer = await h.offer_id("x")
    score = float((await h.item("x"))["score"])
    await h.create("y", created_ms=START_MS + 1)
    await h.new_events()
    h.now += OFFER_MS
    assert await h.fire_due() == [(f"o|{offer}|x", "offer_expired")]
    events = await h.new_events()
    assert types(events) == ["offer.revoked", "workitem.offer_expired", "agent.status_changed"]
    assert events[0].data == {
        "offer_id": offer,
        "work_item_id": "x",
        "agent_id": "a1",
        "reason": "expired",
    }
    assert events[1].data == {
        "offer_id": offer,
        "work_item_id": "x",
        "agent_id": "a1",
        "expires_at": iso(START_MS + OFFER_MS),
    }
    assert events[2].data == {"agent_id": "a1", "status": "away", "reason": "missed_offer"}
    assert (await h.queued("task"))[0] == ("x", score)
    assert (await h.agent("a1"))["used_async"] == "0"

    await h.status("a2", capacity={"async": 1})
    assert await offered_to(h, "a2") == ["x"]
    await h.create("z")
    assert await offered_to(h, "a1") == []
    await h.status("a1", capacity={"async": 1})
    assert await offered_to(h, "a1") == ["y"]


async def test_wrapup_expiry_completes_with_the_default_disposition(router: Harness) -> None:
    h = router
    await h.status("a1", capacity={"async": 1})
    await h.create("x")
    await h.create("y")
    await h.answer("offer.accept", "a1", "x")
    await h.command("item.end", "a1", "x")
    await h.new_events()
    h.now += WRAPUP_MS - 1
    assert await h.fire_due() == []
    h.now += 1
    assert await h.fire_due() == [("w|x", "wrapup_expired")]
    events = await h.new_events()
    assert types(events)[:2] == ["workitem.wrapup_expired", "workitem.completed"]
    assert events[0].data == {"work_item_id": "x", "agent_id": "a1"}
    assert events[1].data == {
        "work_item_id": "x",
        "agent_id": "a1",
        "disposition_code": DEFAULT_DISPOSITION,
        "auto": True,
    }
    assert (await h.item("x"))["status"] == "completed"
    assert [e.data["work_item_id"] for e in of_type(events, "offer.made")] == ["y"]
