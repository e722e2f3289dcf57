"""What the snapshot tests share (test_desktop_snapshot*.py): a tenant of their own, a
fixed clock, the work item service's read side over the session's Valkey, an agent's day
written into it and the router's side beside it, and the work item API's Inbox.

The read model is written by the work item service's own code (intake, projection and
their Lua scripts) as lifecycle events arrive; the router's side (agent hash, the
agent's items, the offered items) is written as its scripts leave it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from redis.asyncio import Redis
from switchboard_devtools.testing_auth import SECRET, bearer
from switchboard_runtime.auth import AuthConfig, install_auth
from switchboard_runtime.generation import Generation
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.envelope import new_event
from switchboard_schemas.registry import WORKITEM_EVENT_MODELS
from switchboard_schemas.workitem import CreateWorkItem, WorkItem
from workitem.inbox_api import InboxReader, inbox_router
from workitem.intake import Intake, RequestContext
from workitem.projection import Projection
from workitem.projection_store import ReadModelStore
from workitem.store import WorkItemStore

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
