"""Committing consumed offsets off the hot path.

A consumer that awaits its commit after every batch pays one broker round trip per
batch before it may fetch the next: at low load that wait is most of an event's
latency, at high load it idles the process. ``OffsetCommitter`` takes the offsets of
records that are fully applied and commits them in the background, one commit at a
time, each carrying the newest applied offset of every partition.

Only applied records are ever committed, so a crash replays at most the tail that was
applied but not yet committed: at-least-once, as before, and every consumer recognises
a replay. A commit refused because the group rebalanced is dropped; the partition's new
owner resumes from the last commit that succeeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

import structlog
from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

log = structlog.get_logger(__name__)


class Committable(Protocol):
    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...


class Record(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


class OffsetCommitter:
    """Background commits of applied offsets; ``flush`` waits for the last one."""

    def __init__(self) -> None:
        self._pending: dict[TopicPartition, int] = {}
        self._consumer: Committable | None = None
        self._task: asyncio.Task[None] | None = None
        self.commits = 0

    def applied(self, consumer: Committable, records: Iterable[Record]) -> None:
        """``records`` are applied (or dead-lettered): their offsets may be committed."""
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            self._pending[tp] = max(self._pending.get(tp, 0), record.offset + 1)
        self._consumer = consumer
        if self._pending and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._commit_all(), name="offset-commits")

    async def _commit_all(self) -> None:
        while self._pending and self._consumer is not None:
            offsets, self._pending = self._pending, {}
            try:
                await self._consumer.commit(offsets)
                self.commits += 1
            except (KafkaError, AssertionError) as exc:
                # rebalanced, or the partitions are no longer ours: the next owner resumes
                # from the last successful commit and replays the rest
                log.warning("offset_commit_dropped", error=repr(exc), partitions=len(offsets))

    async def flush(self) -> None:
        """Wait until every offset handed over so far is committed (or dropped)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


Partitions = Callable[[set[TopicPartition]], None]


class FinishBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """When the group takes partitions away, first apply what is planned and commit what
    is applied, so the next owner starts where this one stopped instead of applying the
    same records alongside it.

    Each of ``revoked`` and ``assigned`` is told which partitions come and go
    (``revoked`` before the finishing), e.g. so that a replica fires only its own
    partitions' deadlines."""

    def __init__(
        self,
        finish: Callable[[], Awaitable[None]],
        *,
        revoked: Sequence[Partitions] = (),
        assigned: Sequence[Partitions] = (),
    ) -> None:
        self._finish = finish
        self._revoked = revoked
        self._assigned = assigned

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        for told in self._revoked:
            told(set(revoked))
        await self._finish()

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        for told in self._assigned:
            told(set(assigned))
