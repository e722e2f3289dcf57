"""Kafka intake through the real broker and Redis: commands, duplicates, poison, cancel."""

from __future__ import annotations

import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from switchboard_devtools.testing import KafkaTap, cloud_event, of_type
from switchboard_schemas.topics import WORKITEM_COMMANDS, WORKITEM_EVENTS, dlq_topic

from .conftest import RunningWorkItem, command, encode

pytestmark = pytest.mark.integration

DLQ = dlq_topic(WORKITEM_COMMANDS)


def task(work_item_id: str | None = None, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {"type": "task", "description": "from upstream", **fields}
    if work_item_id:
        data["work_item_id"] = work_item_id
    return data


async def test_kafka_create_is_created_and_recorded(
    workitem: RunningWorkItem, producer: AIOKafkaProducer
) -> None:
    work_item_id = f"up-{uuid.uuid4()}"
    cmd = command("workitem.create", task(work_item_id, priority=1), correlationid="corr-k1")
    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        await producer.send_and_wait(WORKITEM_COMMANDS, encode(cmd), key=work_item_id.encode())
        [record] = await tap.wait_for(of_type("workitem.created", work_item_id))

    event = cloud_event(record)
    assert event["data"]["priority"] == 1
    assert event["correlationid"] == "corr-k1"
    fetched = await workitem.http.get(f"/v1/workitems/{work_item_id}")
    assert fetched.status_code == 200
    assert fetched.json()["status"] == "created"


async def test_duplicate_commands_create_one_item(
    workitem: RunningWorkItem, producer: AIOKafkaProducer
) -> None:
    same_id = command("workitem.create", task())  # no work_item_id: the CE id de-duplicates
    item_id = f"up-{uuid.uuid4()}"
    same_item = [command("workitem.create", task(item_id)) for _ in range(2)]
    marker_id = f"up-{uuid.uuid4()}"
    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        for cmd in [same_id, same_id, *same_item]:
            await producer.send_and_wait(WORKITEM_COMMANDS, encode(cmd), key=b"k")
        await producer.send_and_wait(
            WORKITEM_COMMANDS, encode(command("workitem.create", task(marker_id))), key=b"k"
        )
        await tap.wait_for(of_type("workitem.created", marker_id))
        records = await tap.read_to_end()

    created = [cloud_event(r) for r in records if cloud_event(r).get("type") == "workitem.created"]
    from_same_id = [e for e in created if e["correlationid"] == same_id["id"]]
    assert len(from_same_id) == 1
    assert len([e for e in created if e["subject"] == item_id]) == 1


POISON = [
    (b"\xff\xfe not json at all", "not_json"),
    (b'{"hello": "world"}', "not_cloudevent"),
    (encode(command("workitem.explode", {"x": 1})), "unknown_type"),
    (encode(command("workitem.create", {"type": "task", "priority": 4})), "schema_violation"),
    (
        encode(
            command(
                "workitem.create",
                task(description="x" * 3000, attributes={"a": "b" * 500}) | {"pad": "y" * 20000},
            )
        ),
        "oversized",
    ),
    (encode(command("workitem.create", task(), tenantid="someone-else")), "unknown_tenant"),
    (
        encode(command("workitem.cancel", {"work_item_id": f"nope-{uuid.uuid4()}"})),
        "unknown_work_item",
    ),
]


async def test_poison_goes_to_dlq_byte_for_byte_and_the_next_message_is_processed(
    workitem: RunningWorkItem, producer: AIOKafkaProducer
) -> None:
    key = f"poison-{uuid.uuid4()}".encode()
    valid_id = f"up-{uuid.uuid4()}"
    bootstrap = workitem.settings.kafka_bootstrap_servers
    async with KafkaTap(bootstrap, DLQ) as dlq, KafkaTap(bootstrap, WORKITEM_EVENTS) as events:
        sent = []
        for value, _ in POISON:
            sent.append(await producer.send_and_wait(WORKITEM_COMMANDS, value, key=key))
        await producer.send_and_wait(
            WORKITEM_COMMANDS, encode(command("workitem.create", task(valid_id))), key=key
        )
        await events.wait_for(of_type("workitem.created", valid_id))
        dead = await dlq.wait_for(lambda r: r.key == key, count=len(POISON))

    for record, (value, error), meta in zip(dead, POISON, sent, strict=True):
        headers = dict(record.headers)
        assert record.value == value
        assert headers["sb-error"] == error.encode()
        assert headers["sb-source-topic"] == WORKITEM_COMMANDS.encode()
        assert headers["sb-source-partition"] == str(meta.partition).encode()
        assert headers["sb-source-offset"] == str(meta.offset).encode()
        assert headers["sb-error-detail"]
    schema_detail = dict(dead[3].headers)["sb-error-detail"].decode()
    assert "priority" in schema_detail


async def test_cancel_of_a_known_item_emits_cancel_requested(
    workitem: RunningWorkItem, producer: AIOKafkaProducer
) -> None:
    work_item_id = f"up-{uuid.uuid4()}"
    cancel = command("workitem.cancel", {"work_item_id": work_item_id, "reason": "duplicate"})
    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        await producer.send_and_wait(
            WORKITEM_COMMANDS,
            encode(command("workitem.create", task(work_item_id))),
            key=work_item_id.encode(),
        )
        for _ in range(2):  # a redelivered cancel is harmless
            await producer.send_and_wait(
                WORKITEM_COMMANDS, encode(cancel), key=work_item_id.encode()
            )
        [record] = await tap.wait_for(of_type("workitem.cancel_requested", work_item_id))
        records = await tap.read_to_end()

    assert cloud_event(record)["data"]["reason"] == "duplicate"
    assert len([r for r in records if of_type("workitem.cancel_requested", work_item_id)(r)]) == 1
    body = (await workitem.http.get(f"/v1/workitems/{work_item_id}")).json()
    assert body["cancel_requested_at"]
    assert [h["event"] for h in body["history"]] == [
        "workitem.created",
        "workitem.cancel_requested",
    ]


def test_poison_samples_are_what_they_claim() -> None:
    oversized = POISON[4][0]
    assert len(oversized) > 16384
    assert json.loads(POISON[3][0])["data"]["priority"] == 4
