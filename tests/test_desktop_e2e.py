"""The desktop gateway with the other services: what reaches an agent's stream when work is
created through the API and routed, and how a stream cut while offers are made resumes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka.structs import ConsumerRecord
from desktop.config import DesktopSettings
from desktop.main import create_app as create_desktop
from switchboard_devtools.testing import KafkaTap, eventually, serving_ready
from switchboard_devtools.testing_auth import bearer
from switchboard_devtools.testing_sse import sse_fields
from switchboard_schemas.topics import AGENT_EVENTS

from .conftest import Stack

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module")
async def desktop(stack: Stack, e2e_env: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = DesktopSettings(**e2e_env, desktop_heartbeat_seconds=1, kafka_fetch_max_wait_ms=20)
    async with serving_ready(create_desktop(settings)) as http:
        yield http


async def messages(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The stream's messages, each with its id, event name and parsed data."""
    async for fields in sse_fields(response.aiter_lines()):
        yield {**fields, "data": json.loads(fields["data"])}


async def next_of(
    stream: AsyncIterator[dict[str, Any]], event: str, timeout: float = 30
) -> dict[str, Any]:
    """The next message named ``event``, passing over others."""

    async def find() -> dict[str, Any]:
        async for found in stream:
            if found["event"] == event:
                return found
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(find(), timeout)


async def test_an_item_created_through_the_api_is_offered_on_its_agents_stream_only(
    stack: Stack, desktop: httpx.AsyncClient, queue: str, agent_id: str
) -> None:
    other = f"{agent_id}-other"
    await stack.agent_available(agent_id, queue)
    async with (
        desktop.stream("GET", "/v1/desktop/events", headers=bearer(agent_id, ["agent"])) as mine,
        desktop.stream("GET", "/v1/desktop/events", headers=bearer(other, ["agent"])) as theirs,
    ):
        ours, not_ours = messages(mine), messages(theirs)
        assert (await next_of(ours, "snapshot"))["data"]["agent"]["agent_id"] == agent_id
        await next_of(not_ours, "snapshot")
        item = await stack.create(type="task", queue=queue, description="For the desktop")

        made = await next_of(ours, "offer.made")
        assert made["data"]["data"]["work_item_id"] == item["work_item_id"]
        assert made["data"]["data"]["agent_id"] == agent_id
        with pytest.raises(TimeoutError):
            await next_of(not_ours, "offer.made", timeout=3)


CUT_S = 30.0  # how long the stream stays cut while the router makes offers
OFFERS = 3


def of_agent(agent: str) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    return lambda record: record.key == agent.encode()


def ce_type(record: ConsumerRecord[bytes, bytes]) -> str:
    return str(json.loads(record.value)["type"])


def offer_ids(records: list[ConsumerRecord[bytes, bytes]], event: str) -> set[str]:
    return {str(json.loads(r.value)["data"]["offer_id"]) for r in records if ce_type(r) == event}


async def until_every_offer_revoked(
    tap: KafkaTap, agent: str
) -> list[ConsumerRecord[bytes, bytes]]:
    """The agent's records once it was set away and each offer made to it was revoked
    (however many were made before the first expiry: that depends on the machine)."""

    def set_away(record: ConsumerRecord[bytes, bytes]) -> bool:
        event = json.loads(record.value)
        return bool(event["type"] == "agent.status_changed" and event["data"]["status"] == "away")

    await tap.wait_for(lambda r: of_agent(agent)(r) and set_away(r), timeout=30)

    async def settled() -> list[ConsumerRecord[bytes, bytes]]:
        records = [r for r in await tap.read_to_end() if of_agent(agent)(r)]
        made = offer_ids(records, "offer.made")
        return records if made == offer_ids(records, "offer.revoked") else []

    found: list[ConsumerRecord[bytes, bytes]] = await eventually(settled, timeout=30)
    return found


async def test_a_stream_cut_for_30_s_while_offers_are_made_resumes_with_each_missed_event_once(
    stack: Stack, desktop: httpx.AsyncClient, queue: str, agent_id: str
) -> None:
    await stack.agent_available(agent_id, queue, capacity={"async": 5})
    headers = bearer(agent_id, ["agent"])
    async with KafkaTap(stack.brokers.kafka_bootstrap_servers, AGENT_EVENTS) as tap:
        async with desktop.stream("GET", "/v1/desktop/events", headers=headers) as before:
            stream = messages(before)
            await next_of(stream, "snapshot")
            await stack.create(type="task", queue=queue, description="Before the cut")
            last = await next_of(stream, "offer.made")
        cut_at = asyncio.get_running_loop().time()
        made = [await stack.create(type="task", queue=queue) for _ in range(OFFERS)]
        # every offer made expires while the stream is cut (2 s) and is revoked; the first
        # expiry sets the agent away, and items not offered by then stay queued
        records = await until_every_offer_revoked(tap, agent_id)
    ids_on_kafka = [json.loads(r.value)["id"] for r in records]
    missed = ids_on_kafka[ids_on_kafka.index(last["data"]["id"]) + 1 :]
    await asyncio.sleep(max(0.0, CUT_S - (asyncio.get_running_loop().time() - cut_at)))

    resumed = {**headers, "Last-Event-ID": last["id"]}
    async with desktop.stream("GET", "/v1/desktop/events", headers=resumed) as after:
        stream = messages(after)
        got = [await asyncio.wait_for(anext(stream), 20) for _ in missed]
        with pytest.raises(TimeoutError):  # and nothing more: none twice
            await asyncio.wait_for(anext(stream), 3)
    assert [m["data"]["id"] for m in got] == missed
    offered = {m["data"]["data"]["work_item_id"] for m in got if m["event"] == "offer.made"}
    assert offered  # offers made during the cut, each resumed once
    assert offered <= {item["work_item_id"] for item in made}


async def command(
    desktop: httpx.AsyncClient, agent: str, ce_type: str, data: dict[str, Any]
) -> httpx.Response:
    body = {"type": ce_type, "data": data}
    return await desktop.post("/v1/desktop/commands", json=body, headers=bearer(agent, ["agent"]))


async def test_another_agents_token_cannot_accept_hold_or_complete_an_agents_work(
    stack: Stack, desktop: httpx.AsyncClient, queue: str, agent_id: str
) -> None:
    intruder = f"{agent_id}-b"
    await stack.agent_available(agent_id, queue)
    async with (
        desktop.stream("GET", "/v1/desktop/events", headers=bearer(agent_id, ["agent"])) as a,
        desktop.stream("GET", "/v1/desktop/events", headers=bearer(intruder, ["agent"])) as b,
    ):
        theirs, mine = messages(a), messages(b)
        await next_of(theirs, "snapshot")
        await next_of(mine, "snapshot")
        item = await stack.create(type="task", queue=queue, description="Only for A")
        offer = (await next_of(theirs, "offer.made"))["data"]["data"]
        ids = {"offer_id": offer["offer_id"], "work_item_id": item["work_item_id"]}
        # naming A in the body: refused at the gateway, nothing published
        as_a = await command(desktop, intruder, "offer.accept", {**ids, "agent_id": agent_id})
        assert as_a.status_code == 403
        accepted = await command(desktop, agent_id, "offer.accept", ids)
        assert accepted.status_code == 202, accepted.text
        await next_of(theirs, "workitem.accepted")
        # as itself: handed on, and the router refuses each, on B's stream only
        wid = {"work_item_id": item["work_item_id"]}
        tries = [
            ("offer.accept", ids),
            ("item.hold", wid),
            ("item.end", wid),
            ("item.complete", {**wid, "disposition_code": "resolved"}),
        ]
        for ce_type, data in tries:
            answer = await command(desktop, intruder, ce_type, data)
            assert answer.status_code == 202, answer.text
            rejected = (await next_of(mine, "command.rejected"))["data"]["data"]
            assert (rejected["command_id"], rejected["command_type"]) == (
                answer.json()["command_id"],
                ce_type,
            )
        with pytest.raises(TimeoutError):
            await next_of(theirs, "command.rejected", timeout=2)  # A was told nothing
    record = (await stack.http.get(f"/v1/workitems/{item['work_item_id']}")).json()
    assert (record["status"], record["agent_id"]) == ("active", agent_id)
