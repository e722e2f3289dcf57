"""When the deadlines of a partition may fire: the watermark rule of stream processors.

A deadline (an offer's, a wrap-up's) is answered by a command on one partition of a
topic: the router's are answered on the agent's partition of ``agent.commands``. It may
fire only once every command that could have answered it in time is applied. A replica
knows that of partition p up to a time, p's *watermark*, from two facts:

* it applied a record of p whose Kafka timestamp is at or after that time (records of
  one partition are applied in order, so every earlier one is applied too);
* everything below p's end offset, as read by a ListOffsets request sent at that time,
  is applied (by this replica, or by an earlier owner that committed it).

Deadlines up to the watermark may fire, the others wait. While the replica keeps up the
first fact mostly answers for free; otherwise one end-offset request per timer round
(for all partitions that need one) does. After a crash or a pause what the replica knows
is older than the deadlines that lapsed meanwhile: it asks the broker, finds a backlog,
and the deadlines wait until that backlog is applied. A zombie (paused while the group
gave its partitions to another replica) finds that backlog too, so it fires nothing the
new owner has not seen answered.

Knowledge only grows (an applied record stays applied), so nothing is forgotten when
partitions move. When the group assigns a partition, its committed offset is read once
(in the background): everything below it was applied by an earlier owner.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from switchboard_runtime.clock import ClockMs

log = structlog.get_logger(__name__)

BROKER_ERRORS = (KafkaError, OSError, TimeoutError)


def default_partition(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as in the Java client and
    aiokafka) gives a record keyed ``key`` on a topic of ``partitions`` partitions."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


class Offsets(Protocol):
    """What the broker says about the topic's partitions."""

    async def end_offsets(self, partitions: Sequence[int]) -> dict[int, int]:
        """The end offset (next offset to be written) of each partition, now."""
        ...

    async def committed(self, partitions: Sequence[int]) -> dict[int, int]:
        """For each partition, an offset below which the consumer group has applied
        everything (its committed offset; the log start where it committed none)."""
        ...


class TopicPartitionLike(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...


class AppliedRecord(TopicPartitionLike, Protocol):
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int | None: ...


@dataclass
class PartitionKnowledge:
    """What a replica knows has been applied of one partition."""

    applied_to: int = 0  # every record below this offset is applied
    newest_ms: int = -1  # the newest Kafka timestamp among the records applied here
    confirmed_ms: int = -1  # an end offset read at this time has been reached
    pending: tuple[int, int] | None = None  # (end offset, read at ms), not reached yet
    waiting_ms: int | None = None  # the earliest due deadline held back

    @property
    def watermark(self) -> int:
        return max(self.newest_ms, self.confirmed_ms)

    def asked_at(self) -> int:
        """The newest time the broker was asked about (reached or not)."""
        return max(self.watermark, self.pending[1] if self.pending else -1)

    def settle(self) -> None:
        if self.pending is not None and self.applied_to >= self.pending[0]:
            self.confirmed_ms = max(self.confirmed_ms, self.pending[1])
            self.pending = None


class Watermarks:
    """Per partition of ``topic``: which ones this replica owns, and up to when its
    deadlines may fire. ``wake`` is called when a deadline held back may now fire."""

    def __init__(
        self, topic: str, offsets: Offsets, clock_ms: ClockMs, *, broker_timeout_s: float
    ) -> None:
        self.topic = topic
        self._offsets = offsets
        self._clock_ms = clock_ms
        self._timeout_s = broker_timeout_s
        self._known: dict[int, PartitionKnowledge] = {}
        self._owned: set[int] = set()
        self._unseeded: set[int] = set()  # assigned, committed offset not read yet
        self._seeding: set[asyncio.Task[None]] = set()
        self.wake: Callable[[], None] = lambda: None
        self.requests = 0  # end-offset requests answered

    def knowledge(self, partition: int) -> PartitionKnowledge:
        return self._known.setdefault(partition, PartitionKnowledge())

    # -- the consumer's side ------------------------------------------------------------

    def assigned(self, partitions: Iterable[TopicPartitionLike]) -> None:
        """The group gave this replica these partitions (of any topic)."""
        mine = sorted({tp.partition for tp in partitions if tp.topic == self.topic})
        self._owned.update(mine)
        self._unseeded.update(mine)
        log.info("deadline_partitions_assigned", topic=self.topic, partitions=mine)
        self._start_seeding()
        self.wake()

    def _start_seeding(self) -> None:
        """Read the committed offsets of the partitions assigned since (in the background;
        again at the next end-offset request should it fail)."""
        if self._seeding or not self._unseeded:
            return
        task = asyncio.create_task(self._seed(sorted(self._unseeded)), name="watermark-seed")
        self._seeding.add(task)
        task.add_done_callback(self._seeding.discard)

    def revoked(self, partitions: Iterable[TopicPartitionLike]) -> None:
        """The group takes these partitions away: their deadlines are no longer ours."""
        gone = {tp.partition for tp in partitions if tp.topic == self.topic}
        self._owned -= gone
        self._unseeded -= gone

    def applied(self, records: Iterable[AppliedRecord]) -> None:
        """These records are applied (or dead-lettered)."""
        touched: set[int] = set()
        for record in records:
            if record.topic != self.topic:
                continue
            known = self.knowledge(record.partition)
            known.applied_to = max(known.applied_to, record.offset + 1)
            if record.timestamp is not None:
                known.newest_ms = max(known.newest_ms, record.timestamp)
            touched.add(record.partition)
        self._settled(touched)

    def _settled(self, partitions: Iterable[int]) -> None:
        woken = False
        for partition in partitions:
            known = self.knowledge(partition)
            known.settle()
            if known.waiting_ms is not None and known.watermark >= known.waiting_ms:
                known.waiting_ms = None
                woken = True
        if woken:
            self.wake()

    async def _seed(self, partitions: list[int]) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                committed = await self._offsets.committed(partitions)
        except BROKER_ERRORS as exc:
            log.warning("watermark_seed_failed", partitions=partitions, error=repr(exc))
            return
        self._unseeded.difference_update(committed)
        for partition, offset in committed.items():
            known = self.knowledge(partition)
            known.applied_to = max(known.applied_to, offset)
        self._settled(committed)

    # -- the timer's side ---------------------------------------------------------------

    def owned(self) -> list[int]:
        return sorted(self._owned)

    def known(self, partition: int) -> int:
        """The partition's watermark as this replica knows it now (no broker asked)."""
        return self.knowledge(partition).watermark

    async def watermarks(self, due: Mapping[int, Sequence[float]]) -> dict[int, int]:
        """The watermark of each owned partition in ``due`` (its due deadlines, all at or
        before now). Partitions whose due deadlines are past what this replica knows,
        and not covered by an end offset already asked for, are asked about in one
        request. Deadlines past the answer wait; ``wake`` says when they may fire."""
        # assigned partitions whose committed offsets are not read yet (an attempt failed,
        # or they came while another assignment's were read) are read now: a question
        # asked before the partition moved away may cover their deadlines, and only
        # the committed offset then tells that its end was reached
        self._start_seeding()
        ask = [p for p, dues in due.items() if dues and max(dues) > self.knowledge(p).asked_at()]
        if ask:
            await self._ask(ask)
        marks: dict[int, int] = {}
        for partition, dues in due.items():
            if partition not in self._owned:
                continue  # revoked meanwhile: no longer ours to fire
            known = self.knowledge(partition)
            marks[partition] = known.watermark
            held = [d for d in dues if d > known.watermark]
            known.waiting_ms = int(min(held)) if held else None
        return marks

    async def _ask(self, partitions: list[int]) -> None:
        sent_ms = self._clock_ms()  # at or after every due deadline
        try:
            async with asyncio.timeout(self._timeout_s):
                ends = await self._offsets.end_offsets(partitions)
        except BROKER_ERRORS as exc:
            log.warning("deadline_end_offsets_failed", partitions=partitions, error=repr(exc))
            return
        self.requests += 1
        for partition, end in ends.items():
            known = self.knowledge(partition)
            known.pending = (end, sent_ms)
            known.settle()
        log.debug("deadline_end_offsets", ends=ends, sent_ms=sent_ms)

    async def seeded(self) -> None:
        """Wait until the committed offsets of the partitions assigned so far are read."""
        await asyncio.gather(*self._seeding, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._seeding):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
