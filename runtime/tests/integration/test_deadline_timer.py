"""The deadline timer against real Redis: the single set fires as it always did; per
partition sets fire only where this replica owns the partition, up to its watermark."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from switchboard_devtools.testing import eventually
from switchboard_runtime.deadlines import DeadlineTimer, Partitioned
from switchboard_runtime.redis_keys import Keys

pytestmark = pytest.mark.integration

NOW = 1_900_000_000_000


@dataclass
class Gate:
    """A replica's partitions and their watermarks, as the test sets them: ``knows``
    before asking the broker, ``marks`` once it asked."""

    parts: list[int]
    marks: dict[int, int]
    knows: dict[int, int] = field(default_factory=dict)
    asked: list[dict[int, list[float]]] = field(default_factory=list)
    parts_once_asked: list[int] | None = None  # a rebalance while the broker is asked

    def owned(self) -> list[int]:
        return list(self.parts)

    def known(self, partition: int) -> int:
        return self.knows.get(partition, -1)

    async def watermarks(self, due: Mapping[int, Sequence[float]]) -> dict[int, int]:
        self.asked.append({p: list(scores) for p, scores in due.items()})
        if self.parts_once_asked is not None:
            self.parts = self.parts_once_asked
        return {p: self.marks.get(p, -1) for p in due if p in self.parts}


@dataclass
class Scene:
    """One tenant's deadline sets, a timer over them, and what its fire calls did."""

    redis: Redis
    keys: Keys
    gate: Gate = field(default_factory=lambda: Gate(parts=[0, 1], marks={}))
    fired: list[tuple[int | None, str]] = field(default_factory=list)
    fire_calls: list[list[int | None]] = field(default_factory=list)  # sets fired together

    def key(self, part: int | None) -> str:
        return self.keys.deadlines() if part is None else self.keys.deadlines_of(part)

    async def add(self, part: int | None, member: str, due: int) -> None:
        await self.redis.zadd(self.key(part), {member: due})

    async def remove(self, part: int | None, members: Sequence[str]) -> list[str]:
        """As a fire script would: whoever removes a member fires it."""
        outcomes = []
        for member in members:
            removed = await self.redis.zrem(self.key(part), member)
            outcomes.append("fired" if removed else "gone")
            if removed:
                self.fired.append((part, member))
        return outcomes

    async def fire_one(self, member: str, _now: int) -> str:
        [outcome] = await self.remove(None, [member])
        return outcome

    async def fire_sets(
        self, sets: Sequence[tuple[int | None, Sequence[str]]], _now: int
    ) -> list[list[str]]:
        self.fire_calls.append([part for part, _ in sets])
        return [await self.remove(part, members) for part, members in sets]

    def timer(self) -> DeadlineTimer:
        partitioned = Partitioned(self.keys.deadlines_of, self.gate, self.fire_sets)
        return DeadlineTimer(
            self.redis,
            self.keys.deadlines(),
            self.fire_one,
            lambda: NOW,
            poll_ms=5000,
            batch=3,
            partitioned=partitioned,
        )


@pytest_asyncio.fixture
async def scene(redis_client: Redis) -> AsyncIterator[Scene]:
    scene = Scene(redis_client, Keys(f"timer{uuid.uuid4().hex[:10]}"))
    yield scene
    found = [k async for k in redis_client.scan_iter(match=f"{scene.keys.tag}:*")]
    if found:
        await redis_client.delete(*found)


async def test_owned_partitions_fire_up_to_their_watermark_and_the_single_set_as_before(
    scene: Scene,
) -> None:
    timer = scene.timer()
    await scene.add(None, "w|old", NOW - 100)  # from a router before per-partition sets
    await scene.add(0, "o|1|a", NOW - 30)
    await scene.add(0, "o|2|b", NOW - 10)
    await scene.add(2, "o|3|c", NOW - 30)  # another replica's partition
    await scene.add(1, "o|4|d", NOW + 1_000)  # not due
    scene.gate.knows = {0: NOW - 20}
    scene.gate.marks = {0: NOW - 20, 1: NOW - 5}

    await timer.fire_due()

    assert scene.fired == [(None, "w|old"), (0, "o|1|a")]
    assert scene.fire_calls == [[None, 0]]  # one call (one round trip) for every set
    assert scene.gate.asked == [{0: [NOW - 10]}]  # of owned sets, what it does not know
    scene.gate.marks[0] = NOW
    await timer.fire_due()
    assert scene.fired[2:] == [(0, "o|2|b")]  # once the broker said so


async def test_held_deadlines_do_not_spin_the_timer_and_fire_once_it_is_woken(
    scene: Scene,
) -> None:
    timer = scene.timer()
    await scene.add(0, "o|1|a", NOW - 30)
    await scene.add(0, "o|2|b", NOW + 4_000)
    scene.gate.knows = scene.gate.marks = {0: NOW - 100}
    runner = asyncio.create_task(timer.run())
    try:
        await eventually(lambda: len(scene.gate.asked) == 1)
        # the held member is not "due now" for the sleep: the next one, in 4 s, is
        assert await timer._sleep_ms() == 4_000
        assert scene.fired == []
        scene.gate.knows = {0: NOW}  # the consumer applied what lets it fire
        timer.poke()
        await eventually(lambda: scene.fired == [(0, "o|1|a")])
        assert len(scene.gate.asked) == 1  # what it knew sufficed: the broker was not asked
    finally:
        timer.stop()
        await runner


async def test_a_full_batch_fired_means_look_again_at_once_but_held_members_do_not(
    scene: Scene,
) -> None:
    timer = scene.timer()
    for n in range(4):
        await scene.add(0, f"o|{n}|x{n}", NOW - 10 + n)
    scene.gate.knows = {0: NOW}
    assert await timer.fire_due() == 3  # a full batch: more may be due
    assert await timer.fire_due() == 1
    for n in range(3):
        await scene.add(1, f"o|{n}|y{n}", NOW - 10)
    assert await timer.fire_due() == 0  # a full batch, all held back
    assert [m for p, m in scene.fired if p == 1] == []


async def test_a_partition_revoked_while_the_broker_is_asked_fires_nothing(
    scene: Scene,
) -> None:
    timer = scene.timer()
    await scene.add(1, "o|1|a", NOW - 30)
    scene.gate.marks = {1: NOW}
    scene.gate.parts_once_asked = [0]
    await timer.fire_due()
    assert scene.fired == []
    assert await scene.redis.zrange(scene.keys.deadlines_of(1), 0, -1) == [b"o|1|a"]
