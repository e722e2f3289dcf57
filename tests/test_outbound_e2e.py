"""Outbound items in the router: dial and skip, through Kafka, as the desktop sees them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from switchboard_devtools.testing import cloud_event, eventually, of_type
from switchboard_schemas.topics import WORKITEM_EVENTS

from .conftest import Stack
from .test_router_e2e import data_of, taps, to_agent

pytestmark = pytest.mark.integration


async def _callback_item(stack: Stack, queue: str, phone: str = "+14155552671") -> str:
    """Request a callback due now through the callbacks API: the outbound work item its
    first attempt created."""
    body = {"customer_phone": phone, "customer_name": "Ada", "queue": queue}
    response = await stack.callbacks.post("/v1/callbacks", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["attempts"][0]["work_item_id"])


async def test_outbound_offer_is_dialed_or_skipped_to_the_next_agent(
    stack: Stack, queue: str
) -> None:
    first, second = f"{queue}-a1", f"{queue}-a2"
    desk, items = taps(stack)
    async with desk, items:
        await stack.agent_available(first, queue)
        await desk.wait_for(to_agent("agent.status_changed", first))
        wid = await _callback_item(stack, queue)
        [offer] = await desk.wait_for(to_agent("offer.made", first, wid))
        await stack.agent_available(second, queue)
        await desk.wait_for(to_agent("agent.status_changed", second))
        base = {"agent_id": first, "work_item_id": wid, "offer_id": data_of(offer)["offer_id"]}
        accept = await stack.command("offer.accept", base)
        [refused] = await desk.wait_for(to_agent("command.rejected", first, wid))
        await stack.command("outbound.skip", {**base, "reason": "wrong language"})
        [skipped] = await items.wait_for(of_type("workitem.skipped", wid))
        [passed] = await desk.wait_for(to_agent("offer.made", second, wid))
        await stack.command(
            "outbound.dial",
            {"agent_id": second, "work_item_id": wid, "offer_id": data_of(passed)["offer_id"]},
        )
        [dialed] = await items.wait_for(of_type("workitem.dialed", wid))

    assert data_of(offer)["outbound"] is True
    assert data_of(offer)["actions"] == ["dial", "skip"]
    assert data_of(offer)["item"]["customer_phone"] == "+14155552671"
    assert data_of(refused)["command_id"] == accept
    assert data_of(refused)["reason"] == "outbound_offer_needs_dial_or_skip"
    assert data_of(skipped)["skip_count"] == 1
    assert data_of(skipped)["reason"] == "wrong language"
    assert data_of(dialed)["agent_id"] == second


async def test_skip_with_nobody_else_goes_to_the_back_of_the_queue_and_parks_at_the_limit(
    stack: Stack, queue: str, agent_id: str
) -> None:
    desk, items = taps(stack)
    async with desk, items:
        older = await _callback_item(stack, queue, "+14155552671")
        newer = await _callback_item(stack, queue, "+14155552672")
        await items.wait_for(of_type("workitem.queued", newer))
        await stack.agent_available(agent_id, queue)
        offered: list[str] = []
        for n in range(1, 6):  # skip whatever is offered, five times
            offers = await desk.wait_for(to_agent("offer.made", agent_id), count=n)
            offer = data_of(offers[-1])
            offered.append(offer["work_item_id"])
            await stack.command(
                "outbound.skip",
                {
                    "agent_id": agent_id,
                    "work_item_id": offer["work_item_id"],
                    "offer_id": offer["offer_id"],
                },
            )
        parked = await items.wait_for(
            lambda r: (
                of_type("workitem.queued", older)(r)
                and cloud_event(r)["data"].get("reason") == "skip_limit"
            )
        )
        records = await items.read_to_end()

    # a skipped item goes behind the other one, so they alternate; older's third skip parks it
    assert offered == [older, newer, older, newer, older]
    assert parked
    offers_after_limit = [r for r in records if of_type("workitem.offered", older)(r)]
    assert len(offers_after_limit) == 3  # with the default limit of 3 skips it stops there


async def test_callback_created_elsewhere_shows_in_the_outbound_section_of_the_inbox(
    stack: Stack, queue: str, agent_id: str
) -> None:
    wid = f"cb-{uuid.uuid4().hex[:8]}-2"
    data = {
        "work_item_id": wid,
        "type": "callback",
        "channel": "phone",
        "priority": 2,
        "queue": queue,
        "customer_phone": "+442079460958",
        "customer_name": "Grace",
        "reason": "Invoice question",
        "outbound": True,
        "created_at": datetime.now(UTC).isoformat(),
        "attributes": {"callback_id": "cb-1", "attempt": "2", "source": "callback"},
    }
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "switchboard/callback",
        "type": "workitem.created",
        "time": datetime.now(UTC).isoformat(),
        "subject": wid,
        "data": data,
    }
    desk, items = taps(stack)
    async with desk, items:
        await stack.agent_available(agent_id, queue)
        await desk.wait_for(to_agent("agent.status_changed", agent_id))
        await stack.producer.send_and_wait(
            WORKITEM_EVENTS, json.dumps(event).encode(), key=wid.encode()
        )
        await desk.wait_for(to_agent("offer.made", agent_id, wid))

        async def in_outbound() -> list[dict[str, Any]]:
            inbox = (await stack.http.get(f"/v1/agents/{agent_id}/inbox?status=active")).json()
            return [row for row in inbox["outbound"] if row["work_item_id"] == wid]

        [row] = await eventually(in_outbound)

    assert row["status"] == "offered"
    assert row["source"] == "callback"
    assert row["attempt"] == 2
    assert row["customer_name"] == "Grace"
    assert row["customer_phone"] == "+442079460958"
    assert row["badge"] == "CALLBACK"
    record = (await stack.http.get(f"/v1/workitems/{wid}")).json()
    assert [h["event"] for h in record["history"]][:2] == ["workitem.created", "workitem.queued"]
