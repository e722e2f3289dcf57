"""One work item, traceable through every service: the correlation id it was created with
is on every event about it, whoever caused the event (issue 10, part 3)."""

from __future__ import annotations

import uuid

import pytest
from switchboard_devtools.testing import cloud_event, of_type

from .conftest import Stack
from .test_router_e2e import data_of, taps, to_agent

pytestmark = pytest.mark.integration

STEPS = ["created", "queued", "offered", "accepted", "wrapup_started", "completed", "archived"]


async def test_every_event_about_an_item_carries_the_correlation_id_it_was_created_with(
    stack: Stack, queue: str, agent_id: str
) -> None:
    trace = f"trace-{uuid.uuid4().hex[:12]}"
    desk, items = taps(stack)
    async with desk, items:
        await stack.agent_available(agent_id, queue)
        await desk.wait_for(to_agent("agent.status_changed", agent_id))
        response = await stack.http.post(
            "/v1/workitems",
            json={"type": "task", "queue": queue},
            headers={"X-Correlation-Id": trace},
        )
        wid = response.json()["work_item_id"]
        [offer] = await desk.wait_for(to_agent("offer.made", agent_id, wid))
        base = {"agent_id": agent_id, "work_item_id": wid}
        # the desktop's commands carry correlation ids of their own
        await stack.command(
            "offer.accept", {**base, "offer_id": data_of(offer)["offer_id"]}, correlationid="desk-1"
        )
        await stack.command("item.end", base, correlationid="desk-2")
        await stack.command("item.complete", {**base, "disposition_code": "resolved"})
        await items.wait_for(of_type("workitem.archived", wid))  # the last step
        about = [r for r in await items.read_to_end() if cloud_event(r).get("subject") == wid]
        offers = [r for r in await desk.read_to_end() if data_of(r).get("work_item_id") == wid]

    assert response.headers["x-correlation-id"] == trace
    assert [cloud_event(r)["type"] for r in about] == [f"workitem.{s}" for s in STEPS]
    assert {cloud_event(r).get("correlationid") for r in about + offers} == {trace}
