"""callback.commands through the real broker: requests, duplicates, poison, cancel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from switchboard_devtools.testing import KafkaTap, cloud_event, eventually, of_type
from switchboard_schemas.topics import CALLBACK_COMMANDS, WORKITEM_EVENTS, dlq_topic

from .conftest import RunningCallback, command, encode

pytestmark = pytest.mark.integration

DLQ = dlq_topic(CALLBACK_COMMANDS)


def headers(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


def dead(error: str, marker: bytes) -> Any:
    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        return headers(record).get("sb-error") == error and marker in (record.value or b"")

    return match


async def send(service: RunningCallback, event: dict[str, Any] | bytes, key: str) -> None:
    value = event if isinstance(event, bytes) else encode(event)
    await service.producer.send_and_wait(CALLBACK_COMMANDS, value, key=key.encode())


async def test_a_request_delivered_twice_creates_one_callback(
    service: RunningCallback, phone: str, queue: str
) -> None:
    request = command(
        "callback.request",
        {"customer_phone": phone, "queue": queue, "reason": "IVR option 3"},
        correlationid="ivr-call-1",
    )
    marker_id = f"ivr-{uuid.uuid4().hex[:10]}"
    marker = command(
        "callback.request",
        {"callback_id": marker_id, "customer_phone": phone, "queue": f"{queue}-m"},
    )
    async with KafkaTap(service.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as events:
        for event in (request, request, marker):
            await send(service, event, phone)
        await events.wait_for(of_type("workitem.created", f"{marker_id}-1"))
        records = await events.read_to_end()

    created = [
        cloud_event(r)
        for r in records
        if cloud_event(r).get("type") == "workitem.created"
        and cloud_event(r)["data"].get("queue") == queue
    ]
    assert len(created) == 1
    assert created[0]["correlationid"] == "ivr-call-1"
    assert created[0]["data"]["reason"] == "IVR option 3"
    found = await service.http.get(f"/v1/callbacks/{marker_id}")
    assert found.json()["status"] == "waiting"


async def test_bad_commands_go_to_the_dlq_and_the_next_one_is_applied(
    service: RunningCallback, phone: str, queue: str
) -> None:
    tag = uuid.uuid4().hex
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    poison = f"not json {tag}".encode()
    no_phone = command("callback.request", {"reason": tag})
    in_past = command(
        "callback.request", {"customer_phone": phone, "scheduled_at": past, "reason": tag}
    )
    unknown = command("callback.cancel", {"callback_id": f"nope-{tag}"})
    good_id = f"good-{tag[:8]}"
    good = command(
        "callback.request", {"callback_id": good_id, "customer_phone": phone, "queue": queue}
    )
    async with KafkaTap(service.settings.kafka_bootstrap_servers, DLQ) as dlq:
        for event in (poison, no_phone, in_past, unknown, good):
            await send(service, event, phone)
        [not_json] = await dlq.wait_for(dead("not_json", tag.encode()))
        schema = await dlq.wait_for(dead("schema_violation", tag.encode()), count=2)
        [unknown_callback] = await dlq.wait_for(dead("unknown_callback", tag.encode()))

    assert not_json.value == poison
    assert headers(not_json)["sb-source-topic"] == CALLBACK_COMMANDS
    details = sorted(headers(r)["sb-error-detail"] for r in schema)
    assert "data.customer_phone" in details[0]
    assert "data.scheduled_at" in details[1]
    assert headers(unknown_callback)["sb-service"] == "callback"

    async def good_applied() -> bool:
        return (await service.http.get(f"/v1/callbacks/{good_id}")).status_code == 200

    await eventually(good_applied)


async def test_a_cancel_command_cancels_and_a_repeat_changes_nothing(
    service: RunningCallback, phone: str, queue: str
) -> None:
    cid = f"ivr-{uuid.uuid4().hex[:10]}"
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    request = command(
        "callback.request",
        {"callback_id": cid, "customer_phone": phone, "queue": queue, "scheduled_at": later},
    )
    cancel = command("callback.cancel", {"callback_id": cid, "reason": "called in"})
    async with KafkaTap(service.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as events:
        for event in (request, cancel, cancel):
            await send(service, event, cid)
        [cancelled] = await events.wait_for(of_type("callback.cancelled", cid))

    assert cloud_event(cancelled)["data"]["reason"] == "called in"
    assert await service.status_of(cid) == "cancelled"
