"""BatchPipeline: batches applied strictly in order, each partition's plans in order and
the partitions side by side, bugs retried PROCESSING_ATTEMPTS times on the batch path too,
and a dead-lettered record counted once."""

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


def record(offset: int, partition: int = 0) -> SourceRecord:
    event = {
        "specversion": "1.0",
        "id": f"ev-{offset}",
        "source": "tests/unit",
        "type": CANCEL,
        "tenantid": "t",
        "time": "2026-03-01T09:30:00Z",
        "data": {"work_item_id": f"wi-{offset}"},
    }
    return SourceRecord(TOPIC, partition, offset, None, json.dumps(event).encode(), ())


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


class Rendezvous(Executor):
    """Plan 1 (partition 0) finishes only once plan 11 (partition 1) ran: a batch whose
    partitions ran one after the other would never finish."""

    def __init__(self, failures: dict[int, list[Exception]] | None = None) -> None:
        super().__init__(failures)
        self.other_ran = asyncio.Event()

    async def __call__(self, plans: Sequence[int]) -> list[str]:
        if 1 in plans:
            await self.other_ran.wait()
        outcomes = await super().__call__(plans)
        if 11 in plans:
            self.other_ran.set()
        return outcomes


async def test_the_partitions_of_a_batch_run_side_by_side_each_in_its_own_order() -> None:
    execute = Rendezvous()
    batch, _ = pipeline(execute)
    records = [record(1, 0), record(11, 1), record(2, 0), record(12, 1), record(3, 0)]

    await batch.submit(records, lambda: None)
    await asyncio.wait_for(batch.drain(), timeout=10)

    applied = execute.applied
    assert sorted(applied) == [1, 2, 3, 11, 12]
    assert [p for p in applied if p < 10] == [1, 2, 3]
    assert [p for p in applied if p > 10] == [11, 12]


async def test_a_bug_in_one_partition_is_isolated_without_replaying_the_others() -> None:
    execute = Rendezvous({2: [ValueError("bug")] * 5})
    batch, producer = pipeline(execute, attempts=3)

    await batch.submit([record(1, 0), record(2, 0), record(11, 1)], lambda: None)
    await asyncio.wait_for(batch.drain(), timeout=10)

    assert producer.dead == [2]
    assert execute.tries[11] == 1
    assert sorted(execute.applied) == [1, 11]
