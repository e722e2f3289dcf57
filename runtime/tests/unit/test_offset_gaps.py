"""OffsetGaps: records a broker let a consumer skip are fetched again, real gaps accepted."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard_runtime.gaps import OffsetGaps


@dataclass(frozen=True)
class Rec:
    topic: str
    partition: int
    offset: int


def recs(partition: int, *offsets: int, topic: str = "t") -> list[Rec]:
    return [Rec(topic, partition, o) for o in offsets]


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000

    def __call__(self) -> int:
        return self.ms


def test_contiguous_records_are_all_admitted() -> None:
    gaps = OffsetGaps(Clock())
    first, seeks_1 = gaps.admit(recs(0, 5, 6, 7))
    then, seeks_2 = gaps.admit(recs(0, 8) + recs(1, 40))

    assert [r.offset for r in first + then] == [5, 6, 7, 8, 40]
    assert seeks_1 == seeks_2 == {}


def test_a_gap_holds_back_its_partition_only_and_asks_to_fetch_again() -> None:
    gaps = OffsetGaps(Clock())
    gaps.admit(recs(0, 5) + recs(1, 9))

    admitted, seeks = gaps.admit(recs(0, 6, 9, 10) + recs(1, 10))

    assert admitted == recs(0, 6) + recs(1, 10)
    assert seeks == {("t", 0): 7}


def test_records_fetched_again_fill_the_gap_in_order() -> None:
    gaps = OffsetGaps(Clock())
    gaps.admit(recs(0, 5))
    gaps.admit(recs(0, 8, 9))

    admitted, seeks = gaps.admit(recs(0, 6, 7, 8, 9))

    assert [r.offset for r in admitted] == [6, 7, 8, 9]
    assert seeks == {}
    assert gaps.refetched == 1


def test_a_gap_still_there_after_three_fetches_and_the_patience_is_accepted() -> None:
    clock = Clock()
    gaps = OffsetGaps(clock, patience_ms=200)
    gaps.admit(recs(0, 5))
    held = [gaps.admit(recs(0, 9, 10))[0] for _ in range(3)]  # three fetches, no time passed
    clock.ms += 200

    admitted, seeks = gaps.admit(recs(0, 9, 10))

    assert held == [[], [], []]
    assert [r.offset for r in admitted] == [9, 10]
    assert seeks == {}


def test_assigned_partitions_start_afresh() -> None:
    gaps = OffsetGaps(Clock())
    gaps.admit(recs(0, 5))
    gaps.forget([Rec("t", 0, 0)])

    admitted, seeks = gaps.admit(recs(0, 70))

    assert admitted == recs(0, 70)
    assert seeks == {}
