"""Agents: capacity per kind of work, required skills, going offline (fake clock)."""

from __future__ import annotations

import pytest
from switchboard_schemas.agent import AgentStatusCommand

from .routerkit import OFFER_MS, START_MS, Harness, of_type, offered_to, types

pytestmark = pytest.mark.integration


async def test_capacity_is_per_kind(router: Harness) -> None:
    h = router
    for n in range(4):
        await h.create(f"c{n}", "chat", created_ms=START_MS + n)
    for n in range(2):
        await h.create(f"v{n}", "call", created_ms=START_MS + n)
    await h.status("a1", queues=["chat", "call"])
    assert sorted(await offered_to(h, "a1")) == ["c0", "c1", "c2", "v0"]
    agent = await h.agent("a1")
    assert (agent["used_chat"], agent["used_voice"]) == ("3", "1")
    assert [w for w, _ in await h.queued("chat")] == ["c3"]
    assert [w for w, _ in await h.queued("call")] == ["v1"]


async def test_required_skills_are_a_subset_of_the_agents(router: Harness) -> None:
    h = router
    await h.status("a1", skills=["english"])
    h.now += 100
    await h.status("a2", skills=["billing", "english", "french"])
    await h.create("x", skills=["english", "billing"])
    await h.create("rare", skills=["klingon"])
    await h.create("any")
    events = of_type(await h.new_events(), "offer.made")
    assert [(e.key, e.data["work_item_id"]) for e in events] == [("a2", "x"), ("a1", "any")]
    assert [w for w, _ in await h.queued("task")] == ["rare"]


async def test_offline_revokes_pending_offers_and_keeps_accepted_items(router: Harness) -> None:
    h = router
    await h.status("a1", capacity={"async": 2})
    await h.create("x")
    await h.answer("offer.accept", "a1", "x")
    await h.create("y")
    offer = await h.offer_id("y")
    await h.new_events()
    assert await h.status("a1", "offline", queues=[]) == "offline"
    events = await h.new_events()
    assert types(events) == ["agent.status_changed", "offer.revoked", "workitem.offer_expired"]
    assert events[1].data == {
        "offer_id": offer,
        "work_item_id": "y",
        "agent_id": "a1",
        "reason": "agent_offline",
    }
    assert events[2].data["reason"] == "agent_offline"
    assert [w for w, _ in await h.queued("task")] == ["y"]
    assert (await h.item("x"))["status"] == "active"
    assert await h.agent_items("a1") == {"x"}
    assert (await h.agent("a1"))["used_async"] == "1"
    await h.status("a2")
    assert await offered_to(h, "a2") == ["y"]
    assert await h.command("item.end", "a1", "x") == "wrap_up"


async def test_a_freed_slot_is_filled_once(router: Harness) -> None:
    h = router
    await h.status("a1", capacity={"async": 1})
    await h.create("x")
    await h.answer("offer.accept", "a1", "x")
    await h.command("item.end", "a1", "x")
    for n, wid in enumerate(["y", "z", "v"]):
        await h.create(wid, created_ms=START_MS + n)
    await h.new_events()
    assert await h.command("item.complete", "a1", "x") == "completed"
    assert await offered_to(h, "a1") == ["y"]
    await h.answer("offer.reject", "a1", "y")
    assert await offered_to(h, "a1") == ["z"]
    await h.cancel("z")
    assert await offered_to(h, "a1") == ["v"]
    assert (await h.agent("a1"))["used_async"] == "1"
    assert await h.agent_items("a1") == {"v"}


async def test_an_expired_offer_goes_to_another_available_agent(router: Harness) -> None:
    h = router
    await h.status("a1")
    h.now += 10
    await h.status("a2")
    await h.create("x")
    first = await h.offer_id("x")
    assert (await h.item("x"))["agent"] == "a1"
    await h.new_events()
    h.now += OFFER_MS
    assert await h.fire_due() == [(f"o|{first}|x", "offer_expired")]
    events = await h.new_events()
    assert [(e.type, e.key) for e in events] == [
        ("offer.revoked", "a1"),
        ("workitem.offer_expired", "x"),
        ("agent.status_changed", "a1"),
        ("offer.made", "a2"),
        ("workitem.offered", "x"),
    ]
    item = await h.item("x")
    assert (item["status"], item["agent"]) == ("offered", "a2")
    assert await h.deadlines() == [(f"o|{item['offer_id']}|x", h.now + OFFER_MS)]
    assert (await h.agent("a1"))["reason"] == "missed_offer"  # what a snapshot shows


async def test_an_away_reason_is_kept_and_told_until_the_status_changes(router: Harness) -> None:
    h = router
    await h.send(h.event("agent.status", away("a1", "lunch"), None))
    [changed] = await h.new_events()
    assert changed.data == {"agent_id": "a1", "status": "away", "reason": "lunch"}
    assert (await h.agent("a1"))["reason"] == "lunch"

    await h.status("a1")
    [changed] = await h.new_events()
    assert changed.data == {"agent_id": "a1", "status": "available"}
    assert "reason" not in await h.agent("a1")


def away(agent: str, reason: str) -> AgentStatusCommand:
    return AgentStatusCommand.model_validate(
        {"agent_id": agent, "status": "away", "reason": reason, "queues": ["task"]}
    )
