"""The snapshot on real Valkey: the router's agent state, offers and wrap-up deadlines,
and the agent's Inbox from the read model (tests/snapshotkit.py writes both sides)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from desktop.snapshot import Snapshots
from redis.asyncio import Redis
from switchboard_runtime.redis_keys import Keys

from .snapshotkit import (
    NOW,
    NOW_MS,
    TENANT,
    ReadSide,
    an_agents_day,
    new_agent,
    router_offers,
    work_item_api_inbox,
)

pytestmark = pytest.mark.integration


def assert_offers(shown: list[dict[str, Any]], wids: dict[str, str]) -> None:
    """The task offered (accept / reject) and the callback offered (dial / skip)."""
    offers = {offer["work_item_id"]: offer for offer in shown}
    assert set(offers) == {wids["offered"], wids["callback"]}
    assert offers[wids["offered"]]["actions"] == ["accept", "reject"]
    assert (offers[wids["callback"]]["offer_id"], offers[wids["callback"]]["actions"]) == (
        f"of-{wids['callback']}",
        ["dial", "skip"],
    )
    assert offers[wids["callback"]]["expires_at"] == "2026-11-27T09:30:30.000Z"


async def test_the_snapshot_carries_status_offers_and_the_inbox_of_the_read_model(
    redis: Redis, read_side: ReadSide
) -> None:
    agent = new_agent()
    wids = await an_agents_day(read_side, agent)
    await router_offers(
        redis, agent, {wids["offered"]: False, wids["callback"]: True}, wids["held"]
    )

    snapshot = await Snapshots(redis, Keys(TENANT), lambda: NOW_MS).of(agent)

    assert snapshot["now"] == "2026-11-27T09:30:00.000Z"
    assert snapshot["agent"] == {"agent_id": agent, "status": "away", "reason": "lunch"}
    assert_offers(snapshot["offers"], wids)

    inbox = snapshot["inbox"]
    assert (inbox["agent_id"], inbox["status"], inbox["tz"]) == (agent, "all", "UTC")
    [callback] = inbox["outbound"]
    assert (callback["work_item_id"], callback["badge"], callback["status"]) == (
        wids["callback"],
        "CALLBACK",
        "offered",
    )
    assert (callback["subject"], callback["customer_phone"]) == (
        "Ada Lovelace — Invoice",
        "+14155552671",
    )
    rows = [
        (r["work_item_id"], r["badge"], r["subject"], r["due_label"], r["status"])
        for r in inbox["items"]
    ]
    assert rows == [  # same priority: the sooner due date first; the completed one left
        (wids["held"], "TASK", "Refund — Pay back", "Overdue", "active"),
        (wids["offered"], "TASK", "Address change", "Tomorrow", "offered"),
    ]


async def test_an_agent_with_nothing_has_an_empty_inbox(redis: Redis, read_side: ReadSide) -> None:
    agent = new_agent()
    snapshot = await Snapshots(redis, Keys(TENANT), lambda: NOW_MS).of(agent)
    assert snapshot["agent"] == {"agent_id": agent, "status": "offline", "reason": None}
    assert snapshot["offers"] == []
    assert snapshot["inbox"] == {
        "agent_id": agent,
        "status": "all",
        "tz": "UTC",
        "outbound": [],
        "items": [],
    }
    assert snapshot["inbox"] == await work_item_api_inbox(read_side.read_model, agent)


async def test_the_snapshot_carries_the_wrapup_deadlines_of_the_agents_items(
    redis: Redis,
) -> None:
    agent, other = new_agent(), new_agent()
    keys = Keys(TENANT)
    ends = int((NOW + timedelta(seconds=95)).timestamp() * 1000)
    mine, active, theirs = (f"w-{uuid.uuid4().hex[:8]}" for _ in range(3))
    await redis.sadd(keys.agent_items(agent), mine, active, theirs)
    for wid, holder in ((mine, agent), (theirs, other)):
        await redis.hset(
            keys.router_item(wid),
            mapping={"status": "wrap_up", "agent": holder, "wrapup_expires": ends},
        )
    await redis.hset(keys.router_item(active), mapping={"status": "active", "agent": agent})

    snapshot = await Snapshots(redis, keys, lambda: NOW_MS).of(agent)

    assert snapshot["wrapups"] == [{"work_item_id": mine, "expires_at": "2026-11-27T09:31:35.000Z"}]
    assert snapshot["offers"] == []
