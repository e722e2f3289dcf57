"""OffsetCommitter against a recording consumer: what gets committed, and when."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError
from switchboard_runtime.commits import FinishBeforeRevoke, OffsetCommitter


@dataclass(frozen=True)
class Rec:
    topic: str
    partition: int
    offset: int


class RecordingConsumer:
    """Commits are recorded; each waits for ``release`` when ``gate`` is set."""

    def __init__(self, fail_first: int = 0) -> None:
        self.commits: list[dict[TopicPartition, int]] = []
        self.gate: asyncio.Event | None = None
        self._fail = fail_first

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self._fail:
            self._fail -= 1
            raise CommitFailedError("group rebalanced")
        self.commits.append(dict(offsets))


async def test_the_next_offset_of_each_partition_is_committed() -> None:
    consumer, committer = RecordingConsumer(), OffsetCommitter()
    committer.applied(consumer, [Rec("a", 0, 5), Rec("a", 0, 7), Rec("a", 1, 2), Rec("b", 0, 0)])
    await committer.flush()
    assert consumer.commits == [
        {TopicPartition("a", 0): 8, TopicPartition("a", 1): 3, TopicPartition("b", 0): 1}
    ]


async def test_batches_applied_during_a_commit_go_together_in_the_next_one() -> None:
    consumer, committer = RecordingConsumer(), OffsetCommitter()
    consumer.gate = asyncio.Event()
    committer.applied(consumer, [Rec("a", 0, 1)])
    await asyncio.sleep(0)  # the first commit is now waiting on the broker
    committer.applied(consumer, [Rec("a", 0, 2)])
    committer.applied(consumer, [Rec("a", 0, 3), Rec("a", 1, 9)])
    consumer.gate.set()
    await committer.flush()
    assert consumer.commits == [
        {TopicPartition("a", 0): 2},
        {TopicPartition("a", 0): 4, TopicPartition("a", 1): 10},
    ]


async def test_a_refused_commit_is_dropped_and_later_ones_still_happen() -> None:
    consumer, committer = RecordingConsumer(fail_first=1), OffsetCommitter()
    committer.applied(consumer, [Rec("a", 0, 1)])
    await committer.flush()
    committer.applied(consumer, [Rec("a", 0, 2)])
    await committer.flush()
    assert consumer.commits == [{TopicPartition("a", 0): 3}]
    assert committer.commits == 1


async def test_nothing_applied_means_nothing_committed() -> None:
    consumer, committer = RecordingConsumer(), OffsetCommitter()
    committer.applied(consumer, [])
    await committer.flush()
    assert consumer.commits == []


async def test_revoked_partitions_wait_for_the_work_in_hand() -> None:
    finished: list[str] = []

    async def finish() -> None:
        await asyncio.sleep(0)
        finished.append("applied and committed")

    listener = FinishBeforeRevoke(finish)
    await listener.on_partitions_assigned({TopicPartition("a", 0)})
    assert finished == []
    await listener.on_partitions_revoked({TopicPartition("a", 0)})
    assert finished == ["applied and committed"]
