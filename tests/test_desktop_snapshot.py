"""The snapshot on real Valkey: the router's agent state and offers, and the agent's Inbox
as the work item service's ``GET /v1/agents/{agent_id}/inbox`` answers it.

The read model is written by the work item service's own code (intake, projection and
their Lua scripts) as lifecycle events arrive; the router's side (agent hash, the
agent's items, the offered items) is written as its scripts leave it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from desktop.snapshot import Snapshots, inbox_json, iso
from fastapi import FastAPI
from pydantic import BaseModel
from redis.asyncio import Redis
from switchboard_devtools.testing import Brokers
from switchboard_devtools.testing_auth import SECRET, bearer
from switchboard_runtime.auth import AuthConfig, install_auth
from switchboard_runtime.generation import Generation
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.envelope import new_event
from switchboard_schemas.inbox import build_inbox
from switchboard_schemas.read_model import StoredItem
from switchboard_schemas.registry import WORKITEM_EVENT_MODELS
from switchboard_schemas.workitem import CreateWorkItem, WorkItem
from workitem.inbox_api import InboxReader, inbox_router
from workitem.intake import Intake, RequestContext
from workitem.projection import Projection
from workitem.projection_store import ReadModelStore
from workitem.store import WorkItemStore

pytestmark = pytest.mark.integration

TENANT = f"snap{uuid.uuid4().hex[:8]}"
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
OFFER_EXPIRES = NOW + timedelta(seconds=30)
ROUTER = "switchboard/router"


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


class ReadSide:
    """The work item service's read side over the session's Valkey, for one tenant."""

    def __init__(self, redis: Redis, keys: Keys, generation: Generation) -> None:
        self.read_model = ReadModelStore(redis, keys, generation, retention_s=3600)
        store = WorkItemStore(redis, keys, generation)
        self._intake = Intake(store, request_ttl=60, clock=lambda: at(-60))
        self._projection = Projection(self.read_model, seen_ttl=60, clock=lambda: at(-1))

    async def create(self, **fields: Any) -> str:
        """A task created as ``POST /v1/workitems`` creates it."""
        cmd = CreateWorkItem.model_validate({"type": "task", **fields})
        created = await self._intake.create(cmd, RequestContext(TENANT, None, None))
        assert created.outcome == "created"
        return created.work_item_id

    async def adopt_callback(self, **fields: Any) -> str:
        """A callback ready to dial, as the service records the callback service's item."""
        wid = f"cb-{uuid.uuid4().hex[:8]}"
        data = {"type": "callback", "channel": "phone", "outbound": True, **fields}
        item = WorkItem.model_validate({**data, "work_item_id": wid, "created_at": at(-30)})
        event = new_event(
            "workitem.created", item, source="switchboard/callback", subject=wid, tenantid=TENANT
        )
        assert await self._intake.adopt(event, item) == "adopted"
        return wid

    async def step(self, ce_type: str, wid: str, minutes: int, **data: Any) -> None:
        """Apply one lifecycle event as the router emits it, at ``at(minutes)``."""
        model: type[BaseModel] = WORKITEM_EVENT_MODELS[f"workitem.{ce_type}"]
        payload = model.model_validate({"work_item_id": wid, **data})
        event = new_event(
            f"workitem.{ce_type}",
            payload,
            source=ROUTER,
            subject=wid,
            tenantid=TENANT,
            time=at(minutes),
        )
        assert await self._projection.apply(event, payload) == "applied"


@pytest_asyncio.fixture
async def redis(brokers: Brokers) -> AsyncIterator[Redis]:
    client = Redis.from_url(brokers.redis_url)
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def read_side(redis: Redis) -> ReadSide:
    keys = Keys(TENANT)
    generation = Generation(redis, keys)

    async def new_deployment() -> bool:
        return True

    assert await generation.establish(new_deployment)
    return ReadSide(redis, keys, generation)


def new_agent() -> str:
    return f"agent-{uuid.uuid4().hex[:10]}"


async def router_offers(redis: Redis, agent: str, offered: dict[str, bool], held: str) -> None:
    """The router's side: the agent away at lunch, ``offered`` (id: outbound) offered to
    it, ``held`` active with it."""
    keys = Keys(TENANT)
    await redis.hset(keys.agent(agent), mapping={"status": "away", "reason": "lunch"})
    await redis.sadd(keys.agent_items(agent), held, *offered)
    await redis.hset(keys.router_item(held), mapping={"status": "active", "agent": agent})
    for wid, outbound in offered.items():
        summary = {"type": "callback" if outbound else "task", "priority": 5}
        await redis.hset(
            keys.router_item(wid),
            mapping={
                "status": "offered",
                "agent": agent,
                "offer_id": f"of-{wid}",
                "offer_expires": int(OFFER_EXPIRES.timestamp() * 1000),
                "summary": json.dumps(summary),
                "outbound": "1" if outbound else "0",
            },
        )


async def an_agents_day(read_side: ReadSide, agent: str) -> dict[str, str]:
    """A task offered, one held (overdue), one completed, a callback offered: their ids."""
    offer = {"agent_id": agent, "expires_at": OFFER_EXPIRES}
    wids = {
        "offered": await read_side.create(sub_type="address_change", due_at=at(24 * 60)),
        "held": await read_side.create(sub_type="refund", description="Pay back", due_at=at(-5)),
        "done": await read_side.create(description="Closed already"),
        "callback": await read_side.adopt_callback(
            customer_phone="+14155552671", customer_name="Ada Lovelace", reason="Invoice"
        ),
    }
    for n, wid in enumerate(wids.values()):
        await read_side.step("offered", wid, -20 + n, offer_id=f"of-{wid}", **offer)
    for wid in (wids["held"], wids["done"]):
        await read_side.step("accepted", wid, -10, offer_id=f"of-{wid}", agent_id=agent)
    await read_side.step("completed", wids["done"], -3, agent_id=agent, disposition_code="ok")
    return wids


class FixedReader:
    def __init__(self, records: list[StoredItem]) -> None:
        self.records = records

    async def inbox(self, agent_id: str) -> list[StoredItem]:
        return self.records


async def work_item_api_inbox(reader: InboxReader, agent: str) -> dict[str, Any]:
    """What the work item service's ``GET /v1/agents/{agent}/inbox`` answers from
    ``reader``, at ``NOW``, to the agent itself."""
    app = FastAPI()
    install_auth(app, AuthConfig(secret=SECRET))
    app.include_router(inbox_router(reader, lambda: NOW))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get(f"/v1/agents/{agent}/inbox", headers=bearer(agent, ["agent"]))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


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


async def test_the_snapshot_inbox_is_what_the_work_item_api_answers(
    redis: Redis, read_side: ReadSide
) -> None:
    agent = new_agent()
    wids = await an_agents_day(read_side, agent)
    await router_offers(redis, agent, {wids["offered"]: False}, wids["held"])

    snapshot = await Snapshots(redis, Keys(TENANT), lambda: NOW_MS).of(agent)

    records = await read_side.read_model.inbox(agent)
    built = build_inbox(agent, records, status="all", tz=ZoneInfo("UTC"), now=NOW)
    assert snapshot["inbox"] == built.model_dump(mode="json")
    assert snapshot["inbox"] == await work_item_api_inbox(read_side.read_model, agent)
    assert json.loads(json.dumps(snapshot)) == snapshot  # what the stream sends, as is


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


def stored(wid: str, agent: str, **fields: Any) -> StoredItem:
    cmd = CreateWorkItem.model_validate({"type": "task", **fields})
    item = WorkItem.from_create(cmd, work_item_id=wid, created_at=at(-60))
    return StoredItem(
        item=item.model_dump(mode="json", exclude_none=True),
        status="active",
        created_at=iso(NOW_MS - 3_600_000),
        updated_at=iso(NOW_MS - 60_000),
        cancel_requested_at=None,
        history=[],
        agent_id=agent,
    )


async def test_the_snapshot_and_the_api_shape_the_same_records_alike() -> None:
    """Without brokers: the same records, through the snapshot's ``inbox_json`` and
    through the work item service's route."""
    agent = "agent-7"
    records = [
        stored("t-due", agent, sub_type="billing_dispute", due_at="2026-11-27T23:00:00Z"),
        stored("t-first", agent, priority=1, due_at="2026-12-05T00:00:00Z"),
        stored("t-other", "someone-else"),
    ]
    answer = await work_item_api_inbox(FixedReader(records), agent)
    assert answer == inbox_json(agent, records, NOW_MS)
    assert [(row["work_item_id"], row["due_label"]) for row in answer["items"]] == [
        ("t-first", "2026-12-05"),
        ("t-due", "Today"),
    ]


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
