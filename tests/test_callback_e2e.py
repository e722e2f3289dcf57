"""Callbacks end to end: the callback API, the router's Dial/Skip, outcomes and a retry."""

from __future__ import annotations

import random

import pytest
from switchboard_devtools.testing import cloud_event, of_type

from .conftest import CALLBACK_RETRY_S, Stack
from .test_router_e2e import data_of, parse_time, taps, to_agent

pytestmark = pytest.mark.integration


def phone() -> str:
    return f"+1415555{random.randint(1000, 9999)}"


async def test_callback_without_a_phone_is_refused(stack: Stack) -> None:
    response = await stack.callbacks.post("/v1/callbacks", json={"customer_name": "Ada"})

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "customer_phone"]]


async def test_callback_is_skipped_dialed_and_retried_after_no_answer(
    stack: Stack, queue: str
) -> None:
    first, second = f"{queue}-a1", f"{queue}-a2"
    desk, items = taps(stack)
    async with desk, items:
        for agent in (first, second):
            await stack.agent_available(agent, queue)
            await desk.wait_for(to_agent("agent.status_changed", agent))
        created = await stack.callbacks.post(
            "/v1/callbacks",
            json={
                "customer_phone": phone(),
                "customer_name": "Ada",
                "reason": "Invoice",
                "queue": queue,
            },
        )
        callback_id = created.json()["callback_id"]
        attempt_1 = created.json()["attempts"][0]["work_item_id"]
        [offer] = await desk.wait_for(to_agent("offer.made", first, attempt_1))
        await stack.command(
            "outbound.skip",
            {"agent_id": first, "work_item_id": attempt_1, "offer_id": data_of(offer)["offer_id"]},
        )
        [passed] = await desk.wait_for(to_agent("offer.made", second, attempt_1))
        base = {"agent_id": second, "work_item_id": attempt_1}
        await stack.command("outbound.dial", {**base, "offer_id": data_of(passed)["offer_id"]})
        await stack.command("item.end", base)
        await stack.command("item.complete", {**base, "disposition_code": "no_answer"})
        [retry] = await items.wait_for(
            lambda r: (
                cloud_event(r).get("type") == "callback.retry_scheduled"
                and cloud_event(r)["subject"] == callback_id
            )
        )
        [completed] = await items.wait_for(of_type("workitem.completed", attempt_1))
        [again] = await desk.wait_for(
            lambda r: (
                cloud_event(r).get("type") == "offer.made"
                and data_of(r)["work_item_id"].startswith(callback_id)
                and data_of(r)["work_item_id"] != attempt_1
            ),
            timeout=CALLBACK_RETRY_S + 15,
        )

    assert created.status_code == 201
    assert data_of(offer)["actions"] == ["dial", "skip"]
    assert data_of(offer)["item"]["customer_name"] == "Ada"
    delay = parse_time(cloud_event(again)["time"]) - parse_time(cloud_event(completed)["time"])
    assert delay.total_seconds() >= CALLBACK_RETRY_S
    assert data_of(retry)["attempt"] == 2
    record = (await stack.callbacks.get(f"/v1/callbacks/{callback_id}")).json()
    first_attempt = record["attempts"][0]
    assert first_attempt["disposition_code"] == "no_answer"
    assert first_attempt["agent_id"] == second
    assert len(record["attempts"]) == 2
