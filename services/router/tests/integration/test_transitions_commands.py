"""Cancel, refused and replayed commands, and the routing strategies (fake clock)."""

from __future__ import annotations

from typing import Any

import pytest
from switchboard_schemas.agent import AgentStatusCommand
from switchboard_schemas.envelope import CloudEvent

from .conftest import MakeRouter
from .routerkit import QUEUES, Harness, of_type, strategies_config, types

pytestmark = pytest.mark.integration


async def state(h: Harness, *wids: str) -> dict[str, Any]:
    """What a refused command must leave alone."""
    return {
        "items": [await h.item(w) for w in wids],
        "agents": [await h.agent(a) for a in ("a1", "a2")],
        "held": [await h.agent_items(a) for a in ("a1", "a2")],
        "queues": [await h.queued(q) for q in QUEUES],
        "deadlines": await h.deadlines(),
    }


async def refused(h: Harness, event: CloudEvent, reason: str, *wids: str) -> None:
    assert event.data is not None
    agent = event.data["agent_id"]
    await h.new_events()
    before = await state(h, *wids)
    assert await h.send(event) == f"rejected:{reason}"
    [answer] = await h.new_events()
    assert (answer.topic, answer.key, answer.type) == ("agent.events", agent, "command.rejected")
    assert answer.data == {
        "agent_id": agent,
        "command_id": event.id,
        "command_type": event.type,
        "work_item_id": event.subject,
        "reason": reason,
    }
    assert await state(h, *wids) == before
    assert await h.send(event) == "duplicate"
    assert await h.new_events() == []


async def offered_item(h: Harness, wid: str = "x") -> str:
    await h.status("a1", capacity={"async": 2})
    await h.status("a2", capacity={"async": 0})
    await h.create(wid)
    return await h.offer_id(wid)


async def test_cancel_a_queued_item(router: Harness) -> None:
    h = router
    await h.create("x")
    await h.new_events()
    assert await h.cancel("x", "duplicate") == "cancelled"
    [cancelled] = await h.new_events()
    assert (cancelled.type, cancelled.key) == ("workitem.cancelled", "x")
    assert cancelled.data == {"work_item_id": "x", "reason": "duplicate"}
    assert await h.queued("task") == []
    assert (await h.item("x"))["status"] == "cancelled"


async def test_cancel_an_offered_item_revokes_the_offer(router: Harness) -> None:
    h = router
    await h.status("a1", capacity={"async": 1})
    await h.create("x")
    offer = await h.offer_id("x")
    await h.create("y")
    await h.new_events()
    assert await h.cancel("x") == "cancelled"
    events = await h.new_events()
    assert types(events) == [
        "offer.revoked",
        "workitem.cancelled",
        "offer.made",
        "workitem.offered",
    ]
    assert events[0].data == {
        "offer_id": offer,
        "work_item_id": "x",
        "agent_id": "a1",
        "reason": "cancelled",
    }
    assert events[1].data == {"work_item_id": "x", "agent_id": "a1"}
    assert events[2].data["work_item_id"] == "y"
    assert [m for m, _ in await h.deadlines()] == [f"o|{await h.offer_id('y')}|y"]
    assert await h.agent_items("a1") == {"y"}


async def test_cancel_an_active_item_tells_the_agent(router: Harness) -> None:
    h = router
    await h.status("a1")
    await h.create("x")
    await h.answer("offer.accept", "a1", "x")
    await h.new_events()
    assert await h.cancel("x", "customer withdrew") == "cancelled"
    events = await h.new_events()
    assert types(events) == ["item.cancelled", "workitem.cancelled"]
    assert (events[0].topic, events[0].key) == ("agent.events", "a1")
    assert events[0].data == {"work_item_id": "x", "agent_id": "a1", "reason": "customer withdrew"}
    assert (await h.agent("a1"))["used_async"] == "0"
    assert await h.agent_items("a1") == set()
    event = h.command_event("item.end", "a1", "x")
    await refused(h, event, "item_cancelled", "x")


async def test_cancel_after_completion_is_a_no_op(router: Harness) -> None:
    h = router
    await h.status("a1")
    await h.create("x")
    await h.answer("offer.accept", "a1", "x")
    await h.command("item.end", "a1", "x")
    await h.command("item.complete", "a1", "x")
    await h.new_events()
    before = await state(h, "x")
    assert await h.cancel("x") == "closed"
    assert await h.new_events() == []
    assert await state(h, "x") == before


async def test_refused_unknown_item(router: Harness) -> None:
    await refused(
        router, router.command_event("offer.accept", "a1", "nope", "of-1"), "unknown_work_item"
    )


async def test_refused_foreign_agent(router: Harness) -> None:
    h = router
    offer = await offered_item(h)
    await refused(
        h, h.command_event("offer.accept", "a2", "x", offer), "offer_belongs_to_another_agent", "x"
    )
    await h.answer("offer.accept", "a1", "x")
    await h.command("item.end", "a1", "x")
    await refused(h, h.command_event("item.complete", "a2", "x"), "item_not_held_by_agent", "x")


async def test_refused_stale_offer(router: Harness) -> None:
    h = router
    stale = await offered_item(h)
    await h.answer("offer.reject", "a1", "x")
    assert await h.offer_id("x") not in (stale, "of-none")
    await refused(h, h.command_event("offer.accept", "a1", "x", stale), "offer_not_current", "x")


async def test_refused_second_accept(router: Harness) -> None:
    h = router
    offer = await offered_item(h)
    assert await h.answer("offer.accept", "a1", "x") == "active"
    await refused(h, h.command_event("offer.accept", "a1", "x", offer), "offer_not_current", "x")


async def test_refused_out_of_order_item_commands(router: Harness) -> None:
    h = router
    await offered_item(h)
    await refused(h, h.command_event("item.hold", "a1", "x"), "item_not_held_by_agent", "x")
    await h.answer("offer.accept", "a1", "x")
    await refused(h, h.command_event("item.complete", "a1", "x"), "item_not_in_wrap_up", "x")
    await refused(h, h.command_event("item.resume", "a1", "x"), "item_not_on_hold", "x")
    await h.command("item.hold", "a1", "x")
    await refused(h, h.command_event("item.hold", "a1", "x"), "item_not_active", "x")
    await h.command("item.end", "a1", "x")
    for cmd, reason in [
        ("item.hold", "item_not_active"),
        ("item.resume", "item_not_on_hold"),
        ("item.end", "item_not_active"),
    ]:
        await refused(h, h.command_event(cmd, "a1", "x"), reason, "x")


async def test_replayed_commands_are_no_ops(router: Harness) -> None:
    h = router
    cmd = AgentStatusCommand.model_validate(
        {"agent_id": "a1", "status": "available", "queues": ["task"]}
    )
    status = h.event("agent.status", cmd, None)
    assert await h.send(status) == "available"
    await h.create("x")
    accept = h.command_event("offer.accept", "a1", "x", await h.offer_id("x"))
    assert await h.send(accept) == "active"
    end = h.command_event("item.end", "a1", "x")
    assert await h.send(end) == "wrap_up"
    await h.new_events()
    before = await state(h, "x")
    for event in (status, accept, end):
        assert await h.send(event) == "duplicate"
    assert await h.create("x") == "duplicate"
    assert await h.new_events() == []
    assert await state(h, "x") == before


@pytest.mark.parametrize(("strategy", "chosen"), [("longest_idle", "a1"), ("least_busy", "a2")])
async def test_least_busy(make_router: MakeRouter, strategy: str, chosen: str) -> None:
    h = await make_router(strategies_config({"task": strategy}))
    capacity = {"voice": 0, "chat": 0, "async": 5}
    await h.status("a1", capacity=capacity)
    h.now += 10
    await h.create("x1")
    await h.answer("offer.accept", "a1", "x1")
    h.now += 10
    await h.status("a2", capacity=capacity)  # idle since now: a1 has waited longer
    await h.new_events()
    await h.create("x2")
    [made] = of_type(await h.new_events(), "offer.made")
    assert made.key == chosen


async def test_round_robin(make_router: MakeRouter) -> None:
    h = await make_router(strategies_config({"task": "round_robin"}))
    for agent in ("rr-b", "rr-a", "rr-c"):
        await h.status(agent)
        h.now += 10
    order = []
    for n in range(4):
        await h.new_events()
        await h.create(f"x{n}")
        [made] = of_type(await h.new_events(), "offer.made")
        order.append(made.key)
    assert order == ["rr-a", "rr-b", "rr-c", "rr-a"]
