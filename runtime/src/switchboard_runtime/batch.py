"""Applying a whole batch of records at once: decode each, plan each, execute all together.

A service whose every command is one Redis script can plan a batch (one script call per
record) and execute the plans pipelined: each script stays atomic and each partition's
run in its records' order, so per-partition order holds, while the batch costs a few
waits instead of one per record. The partitions of a batch run side by side, each on a
connection of its own: records of different partitions have no order to keep, and Redis
works on one partition's scripts while the replies of another travel.

``submit`` works in two stages: the consumer plans batch k+1 while Redis still
executes batch k. One executor applies the planned batches strictly in the order they
were submitted (at most ``depth`` wait), and only then reports them applied, so offsets
are still committed only for records whose scripts ran.

Failures: an outage of Redis or Kafka is waited out and the partition's plans retried
(every planned script is idempotent: replays are recognised); a bug isolates itself by
running that partition's plans one by one and dead-lettering the record whose plan fails.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from switchboard_schemas.envelope import CloudEvent

from switchboard_runtime.dispatch import On, models_of
from switchboard_runtime.dlq import SourceRecord
from switchboard_runtime.metrics import command_metrics
from switchboard_runtime.pipeline import (
    MAX_BACKOFF_S,
    CommandInvalid,
    RecordDecoder,
    decode_rules,
    transient,
)
from switchboard_runtime.settings import CommonSettings

log = structlog.get_logger(__name__)

PlanT = TypeVar("PlanT")
Executor = Callable[[Sequence[PlanT]], Awaitable[list[str]]]
Applied = Callable[[], None]


@dataclass(frozen=True)
class Planned(Generic[PlanT]):
    record: SourceRecord
    event: CloudEvent
    plan: PlanT


class BatchPipeline(Generic[PlanT]):
    """Applies batches of records (of one or more topics) through plans executed together.

    ``plans`` is, per topic, the one table of what each CloudEvents type becomes;
    ``decoders`` (per topic, accepting exactly the table's models) decode, skip and
    dead-letter the records exactly as the single-record pipeline does.
    """

    def __init__(
        self,
        decoders: Mapping[str, RecordDecoder],
        plans: Mapping[str, Mapping[str, On[PlanT]]],
        execute: Executor[PlanT],
        *,
        service: str,
        depth: int = 2,
    ) -> None:
        self._decoders = decoders
        self._plans = plans
        self._execute = execute
        self._service = service
        self._queue: asyncio.Queue[tuple[list[Planned[PlanT]], float, Applied]] = asyncio.Queue(
            maxsize=depth
        )
        self._executor: asyncio.Task[None] | None = None

    async def submit(self, records: Sequence[SourceRecord], applied: Applied) -> None:
        """Plan ``records`` now and queue them for execution; ``applied()`` runs once they
        are. Returns as soon as the batch is queued (waits while ``depth`` are queued)."""
        started = time.perf_counter()
        planned = await self._plan(records)
        if self._executor is None or self._executor.done():
            self._executor = asyncio.create_task(self._execute_queued(), name="batch-executor")
        await self._queue.put((planned, started, applied))

    async def drain(self) -> None:
        """Wait until every batch submitted so far is applied."""
        if self._executor is not None and not self._executor.done():
            await self._queue.join()

    async def close(self) -> None:
        """Apply every submitted batch, then stop the executor."""
        await self.drain()
        if self._executor is not None:
            self._executor.cancel()

    async def _execute_queued(self) -> None:
        while True:
            planned, started, applied = await self._queue.get()
            try:
                await self._run_until_done(planned, started)
                applied()
            finally:
                self._queue.task_done()

    async def _run_until_done(self, planned: list[Planned[PlanT]], started: float) -> None:
        """Run one batch; should that ever fail outside the isolation below (a bug), retry
        it rather than move on: a later batch's commit would pass its records."""
        backoff = 0.05
        while True:
            try:
                await self._run(planned, started)
                return
            except Exception as exc:
                log.exception("batch_executor_failed", error=repr(exc), backoff_s=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _plan(self, records: Sequence[SourceRecord]) -> list[Planned[PlanT]]:
        planned: list[Planned[PlanT]] = []
        for record in records:
            decoder = self._decoders[record.topic]
            try:
                decoded = await decoder.decode(record)
            except Exception as exc:  # a bug on the way: as in handle(), only this record
                log.exception("command_decode_failed", error=repr(exc))
                await decoder.dead_letter(record, "processing_error", repr(exc), "unknown")
                continue
            if decoded is None:
                continue
            event, payload = decoded
            try:
                plan = self._plans[record.topic][event.type].run(event, payload)
                planned.append(Planned(record, event, plan))
            except CommandInvalid as invalid:
                await decoder.dead_letter(record, invalid.error, invalid.detail, event.type)
            except Exception as exc:  # a planner bug costs only this record
                log.exception("command_plan_failed", error=repr(exc), ce_id=event.id)
                await decoder.dead_letter(record, "processing_error", repr(exc), event.type)
        return planned

    async def _run(self, planned: list[Planned[PlanT]], started: float) -> None:
        if not planned:
            return
        outcomes = await self._execute_all(planned)
        for item, outcome in zip(planned, outcomes, strict=True):
            if outcome != "dead_lettered":  # dead_letter counted those already
                command_metrics(self._service).commands.labels(item.event.type, outcome).inc()
        command_metrics(self._service).duration.observe(time.perf_counter() - started)
        log.debug("batch_applied", applied=len(planned))

    async def _execute_all(self, planned: list[Planned[PlanT]]) -> list[str]:
        """Each partition's plans in their order; the partitions side by side, each on a
        connection of its own, so Redis works on one while the others' replies travel
        (records of different partitions have no order to keep)."""
        groups: dict[tuple[str, int], list[int]] = {}
        for index, item in enumerate(planned):
            groups.setdefault((item.record.topic, item.record.partition), []).append(index)
        if len(groups) == 1:
            return await self._execute_in_order(planned)
        indexes = list(groups.values())
        results = await asyncio.gather(
            *(self._execute_in_order([planned[i] for i in group]) for group in indexes)
        )
        outcomes = [""] * len(planned)
        for group, group_outcomes in zip(indexes, results, strict=True):
            for index, outcome in zip(group, group_outcomes, strict=True):
                outcomes[index] = outcome
        return outcomes

    async def _execute_in_order(self, planned: list[Planned[PlanT]]) -> list[str]:
        """Plans of one partition, in order: an outage is waited out and they are run
        again; a bug isolates the plan that has it."""
        backoff = 0.05
        while True:
            try:
                outcomes = await self._execute([p.plan for p in planned])
                if len(outcomes) != len(planned):
                    raise RuntimeError(f"{len(outcomes)} outcomes for {len(planned)} plans")
                return outcomes
            except Exception as exc:
                if not transient(exc):
                    log.exception("batch_failed_isolating", error=repr(exc))
                    return [await self._execute_one(p) for p in planned]
                log.warning(
                    "batch_waiting_for_infrastructure",
                    error=repr(exc),
                    backoff_s=backoff,
                    records=len(planned),
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _execute_one(self, item: Planned[PlanT]) -> str:
        """One plan alone: waits out outages; a bug is tried PROCESSING_ATTEMPTS times in
        all, then the record is dead-lettered."""
        decoder = self._decoders[item.record.topic]
        backoff, failures = 0.05, 0
        while True:
            try:
                [outcome] = await self._execute([item.plan])
                return str(outcome)
            except Exception as exc:
                if not transient(exc):
                    failures += 1
                    log.exception("command_failed", attempt=failures, error=repr(exc))
                    if failures >= decoder.attempts:
                        await decoder.dead_letter(
                            item.record, "processing_error", repr(exc), item.event.type
                        )
                        return "dead_lettered"
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def batch_pipeline(
    settings: CommonSettings,
    service: str,
    producer: AIOKafkaProducer,
    plans: Mapping[str, Mapping[str, On[PlanT]]],
    execute: Executor[PlanT],
    *,
    followed_by_others: Collection[str] = (),
) -> BatchPipeline[PlanT]:
    """A service's batch pipeline over the topics of its ``plans``, executed by
    ``execute``; on the topics ``followed_by_others`` (whose other types are for other
    services) a type without a plan is skipped, elsewhere dead-lettered."""
    decoders = {
        topic: RecordDecoder(
            decode_rules(
                settings,
                service,
                models_of(entries),
                ignore_unknown_types=topic in followed_by_others,
            ),
            producer,
        )
        for topic, entries in plans.items()
    }
    return BatchPipeline(decoders, plans, execute, service=service)
