"""The router through Kafka, with the work item service in front: what a desktop sees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from switchboard_devtools.testing import KafkaTap, Match, cloud_event, of_type
from switchboard_schemas.topics import AGENT_COMMANDS, AGENT_EVENTS, WORKITEM_EVENTS, dlq_topic

from .conftest import OFFER_TIMEOUT_S, WRAPUP_TIMEOUT_S, Stack

pytestmark = pytest.mark.integration


def to_agent(ce_type: str, agent_id: str, work_item_id: str | None = None) -> Match:
    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        event = cloud_event(record)
        data = event.get("data") or {}
        return (
            event.get("type") == ce_type
            and data.get("agent_id") == agent_id
            and (work_item_id is None or data.get("work_item_id") == work_item_id)
        )

    return match


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def data_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    data: dict[str, Any] = cloud_event(record)["data"]
    return data


def taps(stack: Stack) -> tuple[KafkaTap, KafkaTap]:
    bootstrap = stack.brokers.kafka_bootstrap_servers
    return KafkaTap(bootstrap, AGENT_EVENTS), KafkaTap(bootstrap, WORKITEM_EVENTS)


async def test_whole_lifecycle_offer_accept_hold_resume_end_complete(
    stack: Stack, queue: str, agent_id: str
) -> None:
    desk, items = taps(stack)
    async with desk, items:
        await stack.agent_available(agent_id, queue)
        await desk.wait_for(to_agent("agent.status_changed", agent_id))
        created = await stack.create(type="task", description="Refund", priority=3, queue=queue)
        wid = created["work_item_id"]
        [offer_record] = await desk.wait_for(to_agent("offer.made", agent_id, wid))
        offer = data_of(offer_record)
        received = datetime.now(UTC)

        steps: list[tuple[str, dict[str, Any], str]] = [
            ("offer.accept", {"offer_id": offer["offer_id"]}, "workitem.accepted"),
            ("item.hold", {}, "workitem.held"),
            ("item.resume", {}, "workitem.resumed"),
            ("item.end", {}, "workitem.wrapup_started"),
            (
                "item.complete",
                {"disposition_code": "resolved", "notes": "refunded"},
                "workitem.completed",
            ),
        ]
        for ce_type, extra, expected in steps:
            await stack.command(ce_type, {"agent_id": agent_id, "work_item_id": wid, **extra})
            await items.wait_for(of_type(expected, wid))
        await items.wait_for(of_type("workitem.archived", wid))
        records = await items.read_to_end()
    record = (await stack.http.get(f"/v1/workitems/{wid}")).json()

    assert offer_record.key == agent_id.encode()
    assert offer["actions"] == ["accept", "reject"]
    assert offer["outbound"] is False
    assert offer["item"] == {
        "type": "task",
        "priority": 3,
        "channel": "api",
        "description": "Refund",
        "queue": queue,
    }
    remaining = (parse_time(offer["expires_at"]) - received).total_seconds()
    assert 0 < remaining <= OFFER_TIMEOUT_S
    lifecycle = [cloud_event(r)["type"] for r in records if cloud_event(r).get("subject") == wid]
    assert lifecycle == [
        "workitem.created",
        "workitem.queued",
        "workitem.offered",
        "workitem.accepted",
        "workitem.held",
        "workitem.resumed",
        "workitem.wrapup_started",
        "workitem.completed",
        "workitem.archived",
    ]
    assert record["status"] == "archived"
    assert record["agent_id"] == agent_id
    assert record["disposition_code"] == "resolved"
    assert [h["status"] for h in record["history"]] == [
        "created",
        "queued",
        "offered",
        "active",
        "hold",
        "active",
        "wrap_up",
        "completed",
        "archived",
    ]
    completed = next(cloud_event(r) for r in records if of_type("workitem.completed", wid)(r))
    assert completed["data"]["disposition_code"] == "resolved"
    assert completed["data"]["auto"] is False


async def test_unanswered_offer_expires_and_goes_to_the_next_agent(
    stack: Stack, queue: str
) -> None:
    first, second = f"{queue}-a1", f"{queue}-a2"
    desk, items = taps(stack)
    async with desk, items:
        await stack.agent_available(first, queue)
        await desk.wait_for(to_agent("agent.status_changed", first))
        wid = (await stack.create(type="task", queue=queue))["work_item_id"]
        [offer] = await desk.wait_for(to_agent("offer.made", first, wid))
        await stack.agent_available(second, queue)
        [revoked] = await desk.wait_for(to_agent("offer.revoked", first, wid), timeout=10)
        [expired] = await items.wait_for(of_type("workitem.offer_expired", wid))
        [away] = await desk.wait_for(
            lambda r: to_agent("agent.status_changed", first)(r) and data_of(r)["status"] == "away"
        )
        [again] = await desk.wait_for(to_agent("offer.made", second, wid))

    assert data_of(revoked)["reason"] == "expired"
    assert data_of(away)["reason"] == "missed_offer"
    lateness = parse_time(cloud_event(expired)["time"]) - parse_time(data_of(offer)["expires_at"])
    assert 0 <= lateness.total_seconds() < 0.5
    assert data_of(again)["offer_id"] != data_of(offer)["offer_id"]


async def test_wrap_up_times_out_into_completion_with_the_default_code(
    stack: Stack, queue: str, agent_id: str
) -> None:
    desk, items = taps(stack)
    async with desk, items:
        await stack.agent_available(agent_id, queue)
        wid = (await stack.create(type="email", description="Invoice", queue=queue))["work_item_id"]
        [offer] = await desk.wait_for(to_agent("offer.made", agent_id, wid))
        base = {"agent_id": agent_id, "work_item_id": wid}
        await stack.command("offer.accept", {**base, "offer_id": data_of(offer)["offer_id"]})
        await items.wait_for(of_type("workitem.accepted", wid))
        await stack.command("item.end", base)
        [started] = await items.wait_for(of_type("workitem.wrapup_started", wid))
        await items.wait_for(of_type("workitem.wrapup_expired", wid), timeout=WRAPUP_TIMEOUT_S + 5)
        [completed] = await items.wait_for(of_type("workitem.completed", wid))

    assert data_of(completed) == {
        "work_item_id": wid,
        "agent_id": agent_id,
        "disposition_code": "wrapup_timeout",
        "auto": True,
    }
    late = parse_time(cloud_event(completed)["time"]) - parse_time(data_of(started)["expires_at"])
    assert 0 <= late.total_seconds() < 0.5


async def test_priority_order_regardless_of_arrival(
    stack: Stack, queue: str, agent_id: str
) -> None:
    desk, items = taps(stack)
    async with desk, items:
        ids = {}
        for priority in (8, 5, 3, 1):
            created = await stack.create(type="task", priority=priority, queue=queue)
            ids[created["work_item_id"]] = priority
            await items.wait_for(of_type("workitem.queued", created["work_item_id"]))
        await stack.agent_available(agent_id, queue, capacity={"async": 1})
        offered: list[int] = []
        for _ in range(4):
            hits = await desk.wait_for(to_agent("offer.made", agent_id), count=len(offered) + 1)
            offer = data_of(hits[-1])
            offered.append(ids[offer["work_item_id"]])
            base = {"agent_id": agent_id, "work_item_id": offer["work_item_id"]}
            await stack.command("offer.accept", {**base, "offer_id": offer["offer_id"]})
            await stack.command("item.end", base)
            await stack.command("item.complete", {**base, "disposition_code": "done"})

    assert offered == [1, 3, 5, 8]


async def test_rejected_item_keeps_its_place_in_line(stack: Stack, queue: str) -> None:
    picky, other = f"{queue}-picky", f"{queue}-other"
    desk, items = taps(stack)
    async with desk, items:
        older = (await stack.create(type="task", queue=queue))["work_item_id"]
        newer = (await stack.create(type="task", queue=queue))["work_item_id"]
        await items.wait_for(of_type("workitem.queued", newer))
        await stack.agent_available(picky, queue, capacity={"async": 1})
        [offer] = await desk.wait_for(to_agent("offer.made", picky))
        assert data_of(offer)["work_item_id"] == older
        await stack.command(
            "offer.reject",
            {
                "agent_id": picky,
                "work_item_id": older,
                "offer_id": data_of(offer)["offer_id"],
                "reason": "not my area",
            },
        )
        [rejected] = await items.wait_for(of_type("workitem.offer_rejected", older))
        to_picky = (await desk.wait_for(to_agent("offer.made", picky), count=2))[-1]
        await stack.agent_available(other, queue, capacity={"async": 1})
        [to_other] = await desk.wait_for(to_agent("offer.made", other))

    assert data_of(rejected)["reason"] == "not my area"
    # the picky agent is not offered the item it rejected while someone else could take it
    assert data_of(to_picky)["work_item_id"] == newer
    assert data_of(to_other)["work_item_id"] == older


async def test_stale_commands_are_rejected_and_malformed_ones_dead_lettered(
    stack: Stack, queue: str, agent_id: str
) -> None:
    desk, items = taps(stack)
    dlq = KafkaTap(stack.brokers.kafka_bootstrap_servers, dlq_topic(AGENT_COMMANDS))
    async with desk, items, dlq:
        await stack.agent_available(agent_id, queue)
        wid = (await stack.create(type="task", queue=queue))["work_item_id"]
        [offer] = await desk.wait_for(to_agent("offer.made", agent_id, wid))
        accept = {"agent_id": agent_id, "work_item_id": wid, "offer_id": data_of(offer)["offer_id"]}
        stale = await stack.command("offer.accept", {**accept, "offer_id": "of-0"})
        foreign = await stack.command(
            "item.complete",
            {"agent_id": "someone-else", "work_item_id": wid, "disposition_code": "x"},
        )
        await stack.command("offer.accept", accept)
        twice = await stack.command("offer.accept", accept)
        bad = await stack.command("offer.accept", {"agent_id": agent_id})
        rejected = await desk.wait_for(to_agent("command.rejected", agent_id, wid), count=2)
        [other] = await desk.wait_for(to_agent("command.rejected", "someone-else", wid))
        [dead] = await dlq.wait_for(lambda r: cloud_event(r).get("id") == bad)

    by_command = {data_of(r)["command_id"]: data_of(r) for r in [*rejected, other]}
    assert by_command[stale]["reason"] == "offer_not_current"
    assert by_command[twice]["reason"] == "offer_not_current"
    assert by_command[foreign]["reason"] == "item_not_held_by_agent"
    assert by_command[stale]["command_type"] == "offer.accept"
    assert dict(dead.headers)["sb-error"] == b"schema_violation"
