"""The command pipeline with a real producer: what it decides before any handler, from the
record alone (poison and another tenant's command dead-lettered, an event topic's type
header followed or skipped)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from switchboard_devtools.testing import Brokers, KafkaTap
from switchboard_runtime.dlq import SourceRecord
from switchboard_schemas.workitem import CreateWorkItem

from .conftest import NewTopic
from .pipelinekit import (
    CREATE,
    Handler,
    assert_dead_lettered,
    command,
    pipeline,
    record,
    run_one,
    task,
    unique_service,
)

pytestmark = pytest.mark.integration


POISON = [
    (b"\xff\xfe not json at all", "not_json"),
    (b'{"hello": "world"}', "not_cloudevent"),
    (command(task(), type="workitem.explode"), "unknown_type"),
    (command({"type": "task", "priority": 4}), "schema_violation"),
    (command(task() | {"attributes": {"pad": "y" * 500}}, pad="z" * 5000), "oversized"),
]


@pytest.mark.parametrize(("value", "error"), POISON, ids=[e for _, e in POISON])
async def test_poison_is_dead_lettered_byte_for_byte(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic, value: bytes, error: str
) -> None:
    topic = await new_topic("pipe-poison")
    handler = Handler()
    source = record(topic, value)

    service, dead = await run_one(brokers, producer, handler, source)

    headers = assert_dead_lettered(dead, source, error)
    assert headers["sb-service"] == service.encode()
    assert handler.calls == []


async def test_a_command_for_another_tenant_is_dead_lettered(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("pipe-tenant")
    handler = Handler()
    source = record(topic, command(task(), tenantid="someone-else"))

    _, dead = await run_one(brokers, producer, handler, source)

    headers = assert_dead_lettered(dead, source, "unknown_tenant")
    assert b"someone-else" in headers["sb-error-detail"]
    assert handler.calls == []


def with_type_header(source: SourceRecord, ce_type: str) -> SourceRecord:
    return dataclasses.replace(source, headers=(*source.headers, ("sb-type", ce_type.encode())))


async def test_an_event_whose_type_header_is_not_followed_is_skipped_unread(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    # the body would be dead-lettered if it were read: the header alone decides
    topic = await new_topic("pipe-typed")
    handler = Handler()
    source = with_type_header(record(topic, b"\xff not json"), "workitem.queued")
    service = unique_service()

    async with KafkaTap(brokers.kafka_bootstrap_servers, f"{topic}.dlq") as dlq:
        await pipeline(producer, handler, service, events=True).handle(source)
        dead = await dlq.read_to_end()

    assert dead == []
    assert handler.calls == []


async def test_an_event_whose_type_header_is_followed_is_decoded_and_applied(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("pipe-typed")
    handler = Handler()
    work_item_id = f"wi-{uuid.uuid4()}"
    source = with_type_header(record(topic, command(task(work_item_id))), CREATE)

    await pipeline(producer, handler, unique_service(), events=True).handle(source)

    [(_, cmd)] = handler.calls
    assert isinstance(cmd, CreateWorkItem)
    assert cmd.work_item_id == work_item_id
