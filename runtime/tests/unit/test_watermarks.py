"""The watermark rule, with a fake clock and a fake broker: a partition's deadlines fire
only once every command that could have answered them in time is applied."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import DefaultPartitioner
from switchboard_runtime.commits import FinishBeforeRevoke
from switchboard_runtime.watermarks import Watermarks, default_partition

TOPIC = "agent.commands"


@dataclass(frozen=True)
class Rec:
    topic: str
    partition: int
    offset: int
    timestamp: int | None


@dataclass
class FakeBroker:
    """End offsets and committed offsets as a broker would tell them; records requests."""

    ends: dict[int, int] = field(default_factory=dict)
    commits: dict[int, int] = field(default_factory=dict)
    asked: list[list[int]] = field(default_factory=list)
    failing: bool = False
    commits_failing: bool = False

    async def end_offsets(self, partitions: Sequence[int]) -> dict[int, int]:
        self.asked.append(list(partitions))
        if self.failing:
            raise KafkaTimeoutError("the broker does not answer")
        return {p: self.ends.get(p, 0) for p in partitions}

    async def committed(self, partitions: Sequence[int]) -> dict[int, int]:
        if self.commits_failing:
            raise KafkaTimeoutError("the coordinator does not answer")
        return {p: self.commits.get(p, 0) for p in partitions}


class Clock:
    def __init__(self, now: int = 1_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@dataclass
class Setup:
    broker: FakeBroker
    clock: Clock
    marks: Watermarks
    wakes: list[int]


async def setup(*partitions: int, ends: dict[int, int] | None = None) -> Setup:
    broker, clock, wakes = FakeBroker(ends=dict(ends or {})), Clock(), []
    marks = Watermarks(TOPIC, broker, clock, broker_timeout_s=1.0)
    marks.wake = lambda: wakes.append(clock.now)
    marks.assigned([TopicPartition(TOPIC, p) for p in partitions])
    await marks.seeded()  # the committed offsets of the assignment are read
    wakes.clear()
    return Setup(broker, clock, marks, wakes)


def applied(s: Setup, partition: int, offset: int, timestamp: int | None) -> None:
    s.marks.applied([Rec(TOPIC, partition, offset, timestamp)])


async def test_a_record_applied_after_the_deadline_lets_it_fire_without_asking_the_broker() -> None:
    s = await setup(0)
    applied(s, 0, 41, timestamp=s.clock.now - 5)
    due = s.clock.now - 10
    assert await s.marks.watermarks({0: [due]}) == {0: s.clock.now - 5}
    assert s.broker.asked == []


async def test_a_caught_up_idle_partition_costs_one_end_offset_request_for_all_due_partitions() -> (
    None
):
    s = await setup(0, 1, 2, ends={0: 42, 1: 7, 2: 0})
    applied(s, 0, 41, timestamp=s.clock.now - 500)  # the last record, long ago
    applied(s, 1, 6, timestamp=s.clock.now - 900)
    due = s.clock.now - 3
    s.clock.now += 1  # the request is sent at or after every due deadline
    marks = await s.marks.watermarks({0: [due], 1: [due - 1, due], 2: [due]})
    assert marks == dict.fromkeys((0, 1, 2), s.clock.now)  # caught up as of the request
    assert s.broker.asked == [[0, 1, 2]]
    # the same deadlines again, or earlier ones: known already, nothing asked
    assert await s.marks.watermarks({0: [due], 1: [due - 50]}) == {0: s.clock.now, 1: s.clock.now}
    assert s.broker.asked == [[0, 1, 2]]


async def test_after_a_crash_the_deadlines_wait_for_the_backlog_then_fire() -> None:
    s = await setup(0, ends={0: 100})
    applied(s, 0, 59, timestamp=s.clock.now - 9_000)  # knowledge from before the gap
    due = s.clock.now - 5_000  # lapsed during the gap
    assert await s.marks.watermarks({0: [due]}) == {0: s.clock.now - 9_000}  # held back
    asked_at = s.clock.now
    s.clock.now += 30
    # the backlog is being applied: answers sent before the deadline, nothing wakes yet
    applied(s, 0, 80, timestamp=due - 100)
    assert s.wakes == []
    assert await s.marks.watermarks({0: [due]}) == {0: due - 100}
    assert len(s.broker.asked) == 1  # the end offset asked for already covers it
    applied(s, 0, 99, timestamp=due - 1)  # the backlog, to its end offset
    assert s.wakes == [s.clock.now]
    assert await s.marks.watermarks({0: [due]}) == {0: asked_at}


async def test_a_record_stamped_after_the_deadline_wakes_the_timer_before_the_end_is_reached() -> (
    None
):
    s = await setup(0, ends={0: 1_000})
    due = s.clock.now - 1
    assert await s.marks.watermarks({0: [due, due + 1]}) == {0: -1}
    applied(s, 0, 500, timestamp=due)
    assert s.wakes == [s.clock.now]  # the earliest held deadline may fire now
    assert await s.marks.watermarks({0: [due, due + 1]}) == {0: due}


async def test_a_newly_assigned_partition_knows_what_earlier_owners_committed() -> None:
    broker, clock = FakeBroker(ends={3: 17}, commits={3: 17}), Clock()
    marks = Watermarks(TOPIC, broker, clock, broker_timeout_s=1.0)
    marks.assigned([TopicPartition(TOPIC, 3), TopicPartition("workitem.events", 0)])
    await marks.seeded()
    assert marks.owned() == [3]
    assert marks.knowledge(3).applied_to == 17
    assert await marks.watermarks({3: [clock.now - 1]}) == {3: clock.now}  # nothing to apply


async def test_committed_offsets_that_could_not_be_read_are_read_at_the_next_request() -> None:
    broker, clock, wakes = FakeBroker(ends={0: 8}, commits={0: 8}), Clock(), []
    broker.commits_failing = True
    marks = Watermarks(TOPIC, broker, clock, broker_timeout_s=1.0)
    marks.wake = lambda: wakes.append(clock.now)
    marks.assigned([TopicPartition(TOPIC, 0)])
    await marks.seeded()
    assert marks.knowledge(0).applied_to == 0  # idle since: no batch will tell it more
    broker.commits_failing = False
    wakes.clear()
    due = clock.now - 1
    assert await marks.watermarks({0: [due]}) == {0: -1}  # asked again, in the background
    await marks.seeded()
    assert wakes == [clock.now]  # the held deadline may fire now
    assert await marks.watermarks({0: [due]}) == {0: clock.now}


async def test_a_partition_assigned_back_while_another_is_seeded_is_seeded_too() -> None:
    """Found by make chaos (a rebalance storm): a replica asked about partition 4, lost
    it before reaching that end, and got it back while the committed offsets of another
    assignment were being read. Its deadline was covered by the old question, so no new
    one was asked, and the partition was never seeded: on a quiet partition nothing else
    reaches the old end, and the deadline never fired."""
    s = await setup(4, ends={4: 10})
    due = s.clock.now - 1
    assert await s.marks.watermarks({4: [due]}) == {4: -1}  # backlog 0..10 to apply
    s.marks.revoked([TopicPartition(TOPIC, 4)])
    s.broker.commits[4] = 12  # the next owner applied it, and more, and committed
    reading = asyncio.Event()
    answer = s.broker.committed

    async def slow_committed(partitions: Sequence[int]) -> dict[int, int]:
        await reading.wait()
        return await answer(partitions)

    s.broker.committed = slow_committed  # type: ignore[method-assign]
    s.marks.assigned([TopicPartition(TOPIC, 0)])  # its committed offsets are being read
    s.marks.assigned([TopicPartition(TOPIC, 4)])  # 4 comes back meanwhile
    reading.set()
    await s.marks.seeded()
    await s.marks.watermarks({4: [due]})
    await s.marks.seeded()
    assert s.marks.knowledge(4).applied_to == 12
    assert await s.marks.watermarks({4: [due]}) == {4: s.clock.now}  # it may fire


async def test_a_zombie_asks_the_broker_and_finds_the_new_owners_backlog() -> None:
    s = await setup(0, ends={0: 10})
    applied(s, 0, 9, timestamp=s.clock.now - 10)  # caught up before the pause
    s.clock.now += 20_000  # paused; the group moved the partition, agents answered
    s.broker.ends[0] = 250
    due = s.clock.now - 15_000
    assert await s.marks.watermarks({0: [due]}) == {0: s.clock.now - 20_010}
    assert s.broker.asked == [[0]]


async def test_only_partitions_currently_assigned_get_a_watermark() -> None:
    s = await setup(0, 1)
    applied(s, 1, 4, timestamp=s.clock.now)
    s.marks.revoked([TopicPartition(TOPIC, 1)])
    assert s.marks.owned() == [0]
    assert await s.marks.watermarks({1: [s.clock.now - 1]}) == {}
    listener = FinishBeforeRevoke(
        lambda: asyncio.sleep(0), revoked=[s.marks.revoked], assigned=[s.marks.assigned]
    )
    await listener.on_partitions_revoked({TopicPartition(TOPIC, 0)})
    await listener.on_partitions_assigned({TopicPartition(TOPIC, 2)})
    assert s.marks.owned() == [2]


async def test_a_broker_that_does_not_answer_holds_the_deadlines_and_is_asked_again() -> None:
    s = await setup(0, ends={0: 5})
    applied(s, 0, 4, timestamp=s.clock.now - 1_000)
    s.broker.failing = True
    due = s.clock.now - 1
    assert await s.marks.watermarks({0: [due]}) == {0: s.clock.now - 1_000}
    s.broker.failing = False
    s.clock.now += 50
    assert await s.marks.watermarks({0: [due]}) == {0: s.clock.now}
    assert s.broker.asked == [[0], [0]]
    assert s.marks.requests == 1


async def test_records_of_other_topics_say_nothing_about_the_partition() -> None:
    s = await setup(0)
    s.marks.applied([Rec("workitem.events", 0, 99, s.clock.now)])
    assert s.marks.knowledge(0).applied_to == 0
    assert s.marks.knowledge(0).watermark == -1


@pytest.mark.parametrize("agent", ["ada", "agent-1", "dlk1234-agent-17", "", "ünïcødé"])
@pytest.mark.parametrize("partitions", [1, 3, 6, 12])
def test_the_partition_of_an_agent_is_where_kafkas_default_partitioner_sends_its_commands(
    agent: str, partitions: int
) -> None:
    everything = list(range(partitions))
    chosen = DefaultPartitioner()(agent.encode(), everything, everything)
    assert default_partition(agent, partitions) == chosen
