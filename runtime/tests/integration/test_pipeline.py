"""The command pipeline with a real producer: apply, dead-letter, retry, count."""

from __future__ import annotations

import dataclasses
import json
import random
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from switchboard_devtools.testing import Brokers, KafkaTap
from switchboard_runtime.dispatch import On
from switchboard_runtime.dlq import SourceRecord
from switchboard_runtime.metrics import command_metrics
from switchboard_runtime.pipeline import CommandInvalid, CommandPipeline, DecodeRules
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.workitem import CreateWorkItem

from .conftest import NewTopic

pytestmark = pytest.mark.integration

CREATE = "workitem.create"
ORIGINAL_HEADERS = (("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),)


class Handler:
    """A handler that records its calls and raises the given errors, one per call, first."""

    def __init__(self, errors: Iterable[BaseException] = ()) -> None:
        self.calls: list[tuple[CloudEvent, BaseModel]] = []
        self._errors = list(errors)

    async def __call__(self, event: CloudEvent, command: BaseModel) -> str:
        self.calls.append((event, command))
        if self._errors:
            raise self._errors.pop(0)
        return "applied"


def command(data: dict[str, Any], **attrs: Any) -> bytes:
    """A CloudEvents command, JSON-encoded as upstream would publish it."""
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "tests/upstream",
        "type": CREATE,
        "time": datetime.now(UTC).isoformat(),
        "data": data,
        **attrs,
    }
    return json.dumps(event).encode()


def task(work_item_id: str | None = None) -> dict[str, Any]:
    return {
        "work_item_id": work_item_id or f"wi-{uuid.uuid4()}",
        "type": "task",
        "description": "x",
    }


def record(topic: str, value: bytes) -> SourceRecord:
    """A record as the consumer hands it over, from a partition and offset of our choosing."""
    return SourceRecord(
        topic=topic,
        partition=random.randrange(3),
        offset=random.randrange(1, 1_000_000),
        key=f"key-{uuid.uuid4()}".encode(),
        value=value,
        headers=ORIGINAL_HEADERS,
    )


def pipeline(
    producer: AIOKafkaProducer,
    handler: Handler,
    service: str,
    attempts: int = 3,
    *,
    events: bool = False,
) -> CommandPipeline:
    """A command pipeline, or (``events``) one on an event topic that follows one type and
    ignores the rest."""
    rules = DecodeRules(
        service=service,
        tenant="default",
        models={CREATE: CreateWorkItem},
        max_bytes=4096,
        default_region="US",
        attempts=attempts,
        ignore_unknown_types=events,
    )
    return CommandPipeline(rules, producer, {CREATE: On(CreateWorkItem, handler)})


def unique_service() -> str:
    return f"rt-pipe-{uuid.uuid4().hex[:10]}"


async def run_one(
    brokers: Brokers,
    producer: AIOKafkaProducer,
    handler: Handler,
    source: SourceRecord,
    attempts: int = 3,
) -> tuple[str, list[ConsumerRecord[bytes, bytes]]]:
    """Handle ``source``; returns the service name and what reached the DLQ meanwhile."""
    service = unique_service()
    async with KafkaTap(brokers.kafka_bootstrap_servers, f"{source.topic}.dlq") as dlq:
        await pipeline(producer, handler, service, attempts).handle(source)
        return service, await dlq.read_to_end()


def assert_dead_lettered(
    dead: list[ConsumerRecord[bytes, bytes]], source: SourceRecord, error: str
) -> dict[str, bytes]:
    """Exactly one DLQ record: the original bytes and headers, plus where and why."""
    assert len(dead) == 1
    [letter] = dead
    assert letter.value == source.value
    assert letter.key == source.key
    headers = list(letter.headers)
    assert headers[: len(ORIGINAL_HEADERS)] == list(ORIGINAL_HEADERS)
    named = dict(headers)
    assert named["sb-error"] == error.encode()
    assert named["sb-source-topic"] == source.topic.encode()
    assert named["sb-source-partition"] == str(source.partition).encode()
    assert named["sb-source-offset"] == str(source.offset).encode()
    assert named["sb-error-detail"]
    return named


async def test_a_valid_command_reaches_its_handler_and_nothing_is_dead_lettered(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("pipe-valid")
    work_item_id = f"wi-{uuid.uuid4()}"
    handler = Handler()
    source = record(topic, command(task(work_item_id), correlationid="corr-1"))

    service, dead = await run_one(brokers, producer, handler, source)

    assert dead == []
    assert commands_total(service, "applied") == 1.0
    [(event, cmd)] = handler.calls
    assert event.correlationid == "corr-1"
    assert isinstance(cmd, CreateWorkItem)
    assert cmd.work_item_id == work_item_id


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


async def test_a_command_the_handler_declares_invalid_is_dead_lettered_with_its_error(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("pipe-invalid")
    handler = Handler([CommandInvalid("unknown_work_item", "no work item wi-404")])
    source = record(topic, command(task()))

    _, dead = await run_one(brokers, producer, handler, source)

    headers = assert_dead_lettered(dead, source, "unknown_work_item")
    assert headers["sb-error-detail"] == b"no work item wi-404"
    assert len(handler.calls) == 1


async def test_a_handler_bug_is_tried_attempts_times_then_dead_lettered(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("pipe-bug")
    handler = Handler([ValueError("handler bug") for _ in range(10)])
    source = record(topic, command(task()))

    _, dead = await run_one(brokers, producer, handler, source)

    headers = assert_dead_lettered(dead, source, "processing_error")
    assert b"handler bug" in headers["sb-error-detail"]
    assert len(handler.calls) == 3


async def test_a_call_no_redis_cluster_can_serve_is_dead_lettered_not_waited_out(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    """The cluster client's bare RedisClusterException for keys of two slots is a bug:
    tried ``attempts`` times, then dead-lettered (it was once retried as an outage)."""
    topic = await new_topic("pipe-crossslot")
    crossed = "EVALSHA - all keys must map to the same key slot"
    handler = Handler([RedisClusterException(crossed) for _ in range(10)])
    source = record(topic, command(task()))

    _, dead = await run_one(brokers, producer, handler, source)

    headers = assert_dead_lettered(dead, source, "processing_error")
    assert headers["sb-error-detail"] == b"server:RedisClusterException"
    assert len(handler.calls) == 3


async def test_a_redis_outage_is_waited_out_and_the_command_applied(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    """attempts=1: a bug would be dead-lettered at once, an outage is retried until it ends."""
    topic = await new_topic("pipe-transient")
    outage = [RedisConnectionError("Connection refused") for _ in range(3)]
    handler = Handler(outage)
    source = record(topic, command(task()))

    service, dead = await run_one(brokers, producer, handler, source, attempts=1)

    assert dead == []
    assert len(handler.calls) == 4  # three failures while Redis was away, then applied
    assert commands_total(service, "applied") == 1.0


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


def sample(service: str, name: str, labels: dict[str, str]) -> float:
    """A sample of the command metrics ``service`` exports."""
    registry = CollectorRegistry()
    registry.register(command_metrics(service))
    return registry.get_sample_value(name, labels) or 0.0


def commands_total(service: str, outcome: str) -> float:
    return sample(service, "switchboard_commands_total", {"type": CREATE, "outcome": outcome})


@pytest.mark.parametrize(
    ("errors", "error"),
    [
        ([CommandInvalid("unknown_work_item", "gone")], "unknown_work_item"),
        ([ValueError("bug") for _ in range(3)], "processing_error"),
    ],
    ids=["invalid", "bug"],
)
async def test_one_dead_lettered_command_counts_once_in_the_metrics(
    brokers: Brokers,
    producer: AIOKafkaProducer,
    new_topic: NewTopic,
    errors: list[BaseException],
    error: str,
) -> None:
    topic = await new_topic("pipe-metrics")
    source = record(topic, command(task()))

    service, dead = await run_one(brokers, producer, Handler(errors), source)

    assert_dead_lettered(dead, source, error)
    letters = {"topic": topic, "error": error}
    assert sample(service, "switchboard_dead_letters_total", letters) == 1.0
    assert commands_total(service, "dead_lettered") == 1.0


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
