"""What the command pipeline's tests share: a recording handler, commands and records as
upstream and the consumer make them, a pipeline, one record run through it, its DLQ."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from switchboard_devtools.testing import Brokers, KafkaTap
from switchboard_runtime.dispatch import On
from switchboard_runtime.dlq import SourceRecord
from switchboard_runtime.metrics import command_metrics
from switchboard_runtime.pipeline import CommandPipeline, DecodeRules
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.workitem import CreateWorkItem

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


def sample(service: str, name: str, labels: dict[str, str]) -> float:
    """A sample of the command metrics ``service`` exports."""
    registry = CollectorRegistry()
    registry.register(command_metrics(service))
    return registry.get_sample_value(name, labels) or 0.0


def commands_total(service: str, outcome: str) -> float:
    return sample(service, "switchboard_commands_total", {"type": CREATE, "outcome": outcome})
