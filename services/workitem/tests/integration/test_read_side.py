"""The read side through the real broker and Redis: lifecycle events → record, Inbox, archive.

Lifecycle events are published as the router would (source switchboard/router, keyed
and subject-ed by work item id) for items created through the HTTP API.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from switchboard_devtools.testing import KafkaTap, cloud_event, eventually, of_type
from switchboard_schemas.topics import WORKITEM_COMMANDS, WORKITEM_EVENTS, dlq_topic

from .conftest import RunningWorkItem, callback_service_item, command, encode

pytestmark = pytest.mark.integration

ROUTER = "switchboard/router"
OFFER = {"expires_at": "2030-01-01T00:00:00Z"}
ARCHIVED_HISTORY = ["created", "offered", "active", "wrap_up", "completed", "archived"]


def lifecycle(ce_type: str, wid: str, **data: Any) -> dict[str, Any]:
    """A lifecycle CloudEvent as the router emits it."""
    return {
        "specversion": "1.0",
        "id": f"{uuid.uuid4()}-1",
        "source": ROUTER,
        "type": f"workitem.{ce_type}",
        "time": datetime.now(UTC).isoformat(),
        "subject": wid,
        "tenantid": "default",
        "datacontenttype": "application/json",
        "data": {"work_item_id": wid, **data},
    }


class Desk:
    """Drives one work item service: create over HTTP, publish events, read back."""

    def __init__(self, workitem: RunningWorkItem, producer: AIOKafkaProducer) -> None:
        self.http = workitem.http
        self.producer = producer

    async def create(self, **fields: Any) -> str:
        response = await self.http.post("/v1/workitems", json={"type": "task", **fields})
        assert response.status_code == 201, response.text
        return str(response.json()["work_item_id"])

    async def publish(self, event: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        wid = key or str(event["subject"])
        await self.producer.send_and_wait(WORKITEM_EVENTS, encode(event), key=wid.encode())
        return event

    async def send(self, ce_type: str, wid: str, **data: Any) -> dict[str, Any]:
        return await self.publish(lifecycle(ce_type, wid, **data))

    async def record(self, wid: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/workitems/{wid}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def reaches(self, wid: str, status: str, steps: int) -> dict[str, Any]:
        """The record once it has ``status`` after ``steps`` history entries."""

        async def probe() -> dict[str, Any] | None:
            body = await self.record(wid)
            done = body["status"] == status and len(body["history"]) == steps
            return body if done else None

        found: dict[str, Any] = await eventually(probe)
        return found

    async def inbox(self, agent: str, **params: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/agents/{agent}/inbox", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def shown(self, agent: str, section: str = "items", **params: str) -> list[str]:
        return [row["work_item_id"] for row in (await self.inbox(agent, **params))[section]]


@pytest.fixture
def desk(workitem: RunningWorkItem, producer: AIOKafkaProducer) -> Desk:
    return Desk(workitem, producer)


def new_agent() -> str:
    return f"agent-{uuid.uuid4().hex[:10]}"


async def test_each_step_updates_status_agent_history_and_inbox(desk: Desk) -> None:
    agent = new_agent()
    wid = await desk.create(sub_type="refund", description="Pay back", due_at="2020-01-01T00:00Z")
    await desk.send("queued", wid, queue="task", priority=5)
    assert (await desk.reaches(wid, "queued", 2)).get("agent_id") is None

    offered = await desk.send("offered", wid, offer_id="of-1", agent_id=agent, **OFFER)
    await desk.publish(offered)  # a redelivery: applied once
    await desk.send("accepted", wid, offer_id="of-1", agent_id=agent)
    body = await desk.reaches(wid, "active", 4)
    assert body["agent_id"] == agent
    assert [h["event"] for h in body["history"]][2:] == ["workitem.offered", "workitem.accepted"]
    assert body["history"][2]["event_id"] == offered["id"]
    assert body["history"][2]["agent_id"] == agent

    [row] = (await desk.inbox(agent))["items"]
    assert (row["work_item_id"], row["status"], row["badge"]) == (wid, "active", "TASK")
    assert (row["subject"], row["due_label"]) == ("Refund — Pay back", "Overdue")

    await desk.send("held", wid, agent_id=agent)
    await desk.reaches(wid, "hold", 5)
    assert await desk.shown(agent, status="hold") == [wid]
    assert await desk.shown(agent, status="active") == []

    await desk.send("resumed", wid, agent_id=agent)
    await desk.reaches(wid, "active", 6)
    assert await desk.shown(agent, status="active") == [wid]

    await desk.send("wrapup_started", wid, agent_id=agent, **OFFER)
    await desk.reaches(wid, "wrap_up", 7)
    assert await desk.shown(agent, status="wrap_up") == [wid]
    assert await desk.shown(agent, status="active") == []


async def test_completion_archives_once_and_the_item_leaves_the_inbox(
    desk: Desk, workitem: RunningWorkItem
) -> None:
    agent = new_agent()
    wid = await desk.create(type="approval")
    await desk.send("offered", wid, offer_id="of-1", agent_id=agent, **OFFER)
    await desk.send("accepted", wid, offer_id="of-1", agent_id=agent)
    await desk.send("wrapup_started", wid, agent_id=agent, **OFFER)
    await desk.reaches(wid, "wrap_up", 4)
    assert await desk.shown(agent) == [wid]
    done = {"agent_id": agent, "disposition_code": "resolved"}

    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        completed = await desk.send("completed", wid, notes="Refunded", auto=False, **done)
        await desk.publish(completed)  # a redelivered completion archives nothing twice
        # A later completion behind the duplicate, on its partition: once its archive is
        # out, anything the duplicate could have queued is out too.
        marker = await desk.create()
        await desk.publish(lifecycle("completed", marker, **done), key=wid)
        await tap.wait_for(of_type("workitem.archived", marker))
        records = await tap.read_to_end()

    [archived] = [r for r in records if of_type("workitem.archived", wid)(r)]
    assert archived.key == wid.encode()
    assert cloud_event(archived)["source"] == "switchboard/workitem"
    body = await desk.reaches(wid, "archived", 6)
    assert (body["disposition_code"], body["notes"], body["agent_id"]) == (
        "resolved",
        "Refunded",
        agent,
    )
    assert body["archived_at"]
    assert [h["status"] for h in body["history"]] == ARCHIVED_HISTORY
    assert body["history"][4]["disposition_code"] == "resolved"
    assert body["history"][5]["event_id"] == cloud_event(archived)["id"]
    assert await desk.shown(agent) == []
    # the event carries the record the service keeps until it expires, all of it
    assert cloud_event(archived)["data"] == {"work_item_id": wid, "record": body}
    assert (await desk.record(wid)) == body


async def test_rejected_expired_and_skipped_offers_leave_the_inbox(desk: Desk) -> None:
    first, second = new_agent(), new_agent()
    wid = await desk.create(type="review")
    offer = {"expires_at": "2030-01-01T00:00:00Z"}
    await desk.send("queued", wid, queue="review")
    await desk.send("offered", wid, offer_id="of-1", agent_id=first, **offer)
    await desk.reaches(wid, "offered", 3)
    [row] = (await desk.inbox(first))["items"]
    assert (row["status"], row["badge"], row["subject"]) == ("offered", "REVIEW", "Review")
    assert await desk.shown(first, status="active") == []

    await desk.send("offer_rejected", wid, offer_id="of-1", agent_id=first, reason="busy")
    body = await desk.reaches(wid, "queued", 4)
    assert "agent_id" not in body
    assert body["history"][3]["reason"] == "busy"
    assert await desk.shown(first) == []

    await desk.send("offered", wid, offer_id="of-2", agent_id=second, **offer)
    await desk.reaches(wid, "offered", 5)
    assert await desk.shown(second) == [wid]
    await desk.send("offer_expired", wid, offer_id="of-2", agent_id=second, **offer)
    await desk.reaches(wid, "queued", 6)
    assert await desk.shown(second) == []


async def test_outbound_items_come_first_whatever_the_filter(desk: Desk) -> None:
    agent = new_agent()
    task = await desk.create(type="email", description="Reply to the complaint")
    callback = f"cb-{uuid.uuid4()}-1"  # an outbound item the callback service created
    await desk.publish(callback_service_item(callback, customer_name="Ada"))

    async def adopted() -> bool:
        return (await desk.http.get(f"/v1/workitems/{callback}")).status_code == 200

    await eventually(adopted)
    await desk.send(
        "offered", task, offer_id="of-t", agent_id=agent, expires_at="2030-01-01T00:00Z"
    )
    await desk.send("accepted", task, offer_id="of-t", agent_id=agent)
    await desk.reaches(task, "active", 3)
    outbound_offer = {"offer_id": "of-c", "agent_id": agent, "expires_at": "2030-01-01T00:00Z"}
    await desk.send("offered", callback, outbound=True, **outbound_offer)
    await desk.reaches(callback, "offered", 2)

    for status in ("all", "active", "hold", "wrap_up"):
        inbox = await desk.inbox(agent, status=status, tz="Asia/Tokyo")
        assert list(inbox)[:5] == ["agent_id", "status", "tz", "outbound", "items"]
        assert [row["work_item_id"] for row in inbox["outbound"]] == [callback]
        expected = [task] if status in ("all", "active") else []
        assert [row["work_item_id"] for row in inbox["items"]] == expected
    [row] = (await desk.inbox(agent))["outbound"]
    assert (row["badge"], row["subject"], row["outbound"]) == ("CALLBACK", "Ada — Invoice", True)

    await desk.send("skipped", callback, offer_id="of-c", agent_id=agent, skip_count=1)
    await desk.reaches(callback, "queued", 3)
    assert await desk.shown(agent, "outbound") == []
    await desk.send("offered", callback, outbound=True, **outbound_offer)
    await desk.send("dialed", callback, offer_id="of-c", agent_id=agent)
    await desk.reaches(callback, "active", 5)
    assert await desk.shown(agent, "outbound", status="hold") == [callback]


async def test_cancelled_item_leaves_the_inbox_and_is_archived_with_its_record(
    desk: Desk, workitem: RunningWorkItem
) -> None:
    agent = new_agent()
    wid = await desk.create(type="chat", due_at="2099-06-01T12:00:00Z")
    await desk.send("offered", wid, offer_id="of-1", agent_id=agent, expires_at="2030-01-01T00:00Z")
    await desk.send("accepted", wid, offer_id="of-1", agent_id=agent)
    await desk.reaches(wid, "active", 3)
    [row] = (await desk.inbox(agent, tz="Pacific/Kiritimati"))["items"]
    assert (row["badge"], row["subject"], row["due_label"]) == (None, "Chat", "2099-06-02")
    cancel = command("workitem.cancel", {"work_item_id": wid, "reason": "duplicate"})
    await desk.producer.send_and_wait(WORKITEM_COMMANDS, encode(cancel), key=wid.encode())
    await desk.reaches(wid, "active", 4)  # the request is recorded; the router would act

    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        cancelled = await desk.send("cancelled", wid, reason="duplicate", agent_id=agent)
        await desk.publish(cancelled)  # a redelivery archives nothing twice
        marker = await desk.create()  # behind the duplicate, on its partition
        await desk.publish(lifecycle("cancelled", marker), key=wid)
        await tap.wait_for(of_type("workitem.archived", marker))
        records = await tap.read_to_end()
    body = await desk.reaches(wid, "cancelled", 6)

    [archived] = [r for r in records if of_type("workitem.archived", wid)(r)]
    assert (body["agent_id"], body["due_at"]) == (agent, "2099-06-01T12:00:00Z")
    assert body["archived_at"]
    assert [(h["event"], h["status"]) for h in body["history"]][3:] == [
        ("workitem.cancel_requested", "cancel_requested"),
        ("workitem.cancelled", "cancelled"),
        ("workitem.archived", "cancelled"),
    ]
    assert body["history"][5]["event_id"] == cloud_event(archived)["id"]
    assert cloud_event(archived)["data"] == {"work_item_id": wid, "record": body}
    assert ("sb-type", b"workitem.archived") in list(archived.headers)  # skipped unread
    assert await desk.shown(agent) == []


async def test_events_for_unknown_items_and_own_events_are_ignored_not_dead_lettered(
    desk: Desk, workitem: RunningWorkItem
) -> None:
    unknown = f"never-created-{uuid.uuid4()}"
    bootstrap = workitem.settings.kafka_bootstrap_servers
    async with KafkaTap(bootstrap, dlq_topic(WORKITEM_EVENTS)) as dlq:
        await desk.send("accepted", unknown, offer_id="of-1", agent_id="agent-x")
        marker = await desk.create()  # its own workitem.created passes by too
        await desk.publish(lifecycle("queued", marker, queue="task"), key=unknown)
        await desk.reaches(marker, "queued", 2)
        dead = await dlq.read_to_end()

    assert not [r for r in dead if r.key in (unknown.encode(), marker.encode())]
    assert (await desk.http.get(f"/v1/workitems/{unknown}")).status_code == 404
    assert await desk.shown("agent-x") == []
