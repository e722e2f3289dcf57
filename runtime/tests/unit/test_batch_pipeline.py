"""BatchPipeline: batches applied strictly in order, bugs retried PROCESSING_ATTEMPTS
times on the batch path too, and a dead-lettered record counted once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from redis.exceptions import ConnectionError as RedisConnectionError
from switchboard_runtime.batch import BatchPipeline
from switchboard_runtime.dispatch import On
from switchboard_runtime.dlq import SourceRecord
from switchboard_runtime.pipeline import DecodeRules, RecordDecoder
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.workitem import CancelWorkItem

TOPIC = "unit.commands"
CANCEL = CancelWorkItem.TYPE


class FakeProducer:
    """Stands in for the DLQ producer: what was dead-lettered, by source offset."""

    def __init__(self) -> None:
        self.dead: list[int] = []

    async def send_and_wait(self, _topic: str, **kwargs: Any) -> None:
        headers = dict(kwargs.get("headers") or ())
        self.dead.append(int(headers["sb-source-offset"]))


def record(offset: int) -> SourceRecord:
    event = {
        "specversion": "1.0",
        "id": f"ev-{offset}",
        "source": "tests/unit",
        "type": CANCEL,
        "tenantid": "t",
        "time": "2026-03-01T09:30:00Z",
        "data": {"work_item_id": f"wi-{offset}"},
    }
    return SourceRecord(TOPIC, 0, offset, None, json.dumps(event).encode(), ())


class Executor:
    """Executes plans (the record offsets); ``failures[offset]`` exceptions come first."""

    def __init__(self, failures: dict[int, list[Exception]] | None = None) -> None:
        self.failures = failures or {}
        self.tries: dict[int, int] = {}
        self.applied: list[int] = []

    async def __call__(self, plans: Sequence[int]) -> list[str]:
        for plan in plans:
            self.tries[plan] = self.tries.get(plan, 0) + 1
            if self.failures.get(plan):
                raise self.failures[plan].pop(0)
        self.applied.extend(plans)
        return ["applied"] * len(plans)


def pipeline(execute: Executor, attempts: int = 3) -> tuple[BatchPipeline[int], FakeProducer]:
    producer = FakeProducer()
    rules = DecodeRules("unit", "t", {CANCEL: CancelWorkItem}, 4096, None, attempts)
    decoder = RecordDecoder(rules, cast(AIOKafkaProducer, producer))

    def plan(event: CloudEvent, _cmd: CancelWorkItem) -> int:
        return int(event.id.removeprefix("ev-"))

    plans = {TOPIC: {CANCEL: On(CancelWorkItem, plan)}}
    batch = BatchPipeline({TOPIC: decoder}, plans, execute, service="unit")
    return batch, producer


async def test_a_later_batch_is_never_reported_applied_before_an_earlier_one() -> None:
    outage = [RedisConnectionError("down")] * 3
    execute = Executor({1: list(outage)})
    batch, _ = pipeline(execute)
    reported: list[str] = []

    await batch.submit([record(1)], lambda: reported.append("first"))
    await batch.submit([record(2)], lambda: reported.append("second"))
    await asyncio.wait_for(batch.drain(), timeout=10)

    assert reported == ["first", "second"]
    assert execute.applied == [1, 2]


async def test_a_bug_is_tried_processing_attempts_times_before_the_record_is_dead_lettered() -> (
    None
):
    execute = Executor({2: [ValueError("bug")] * 5, 3: [ValueError("once")]})
    batch, producer = pipeline(execute, attempts=3)

    await batch.submit([record(1), record(2), record(3)], lambda: None)
    await asyncio.wait_for(batch.drain(), timeout=10)

    assert producer.dead == [2]
    assert execute.tries[2] == 1 + 3  # the batch, then alone PROCESSING_ATTEMPTS times
    assert execute.applied == [1, 3]
