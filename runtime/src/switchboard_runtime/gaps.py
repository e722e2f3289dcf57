"""Records a broker let a consumer skip, fetched again before anything after them applies.

Tansu 0.6 (the embedded broker) can show a consumer that reads at the end of a partition
a batch that was written together with an earlier one before it shows the earlier one:
the consumer's position moves past records it never received, and they are lost to it
(three producers at 1,000 records/s each: 1 to 6 of 30,000 records skipped per run, see
``runtime/tests/integration/test_offset_gaps.py``). Apache Kafka never shows a record
above its high watermark, so there the guard stays idle.

Every consumer passes what it fetched through ``OffsetGaps.admit``: per partition it
expects the offset after the last record it admitted. A record past that is held back
with everything after it in its partition, and the consumer seeks back to the expected
offset, so the next fetch brings the skipped records. A gap still there after
``patience_ms`` and three fetches is real (a transaction marker, compaction) and is
accepted, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import structlog

from switchboard_runtime.clock import wall_clock_ms
from switchboard_runtime.commits import Record
from switchboard_runtime.watermarks import TopicPartitionLike

log = structlog.get_logger(__name__)

TopicPartitionKey = tuple[str, int]


R = TypeVar("R", bound=Record)


@dataclass
class _Gap:
    expected: int
    first_ms: int
    fetches: int = 1


class OffsetGaps:
    """Per partition, the next offset a consumer should receive; see the module."""

    def __init__(
        self, clock_ms: Callable[[], int] = wall_clock_ms, *, patience_ms: int = 200
    ) -> None:
        self._clock_ms = clock_ms
        self._patience_ms = patience_ms
        self._next: dict[TopicPartitionKey, int] = {}
        self._gaps: dict[TopicPartitionKey, _Gap] = {}
        self.refetched = 0  # gaps that a fetch again filled

    def admit(self, records: Sequence[R]) -> tuple[list[R], dict[TopicPartitionKey, int]]:
        """The records to apply now, in order, and where to seek partitions back to."""
        admitted: list[R] = []
        seeks: dict[TopicPartitionKey, int] = {}
        for record in records:
            key = (record.topic, record.partition)
            if key in seeks:
                continue  # behind a gap: it comes again after the seek
            expected = self._next.get(key)
            if expected is not None and record.offset > expected:
                if not self._accepted(key, expected, record.offset):
                    seeks[key] = expected
                    continue
            elif key in self._gaps and record.offset == expected:
                del self._gaps[key]
                self.refetched += 1
                log.info("kafka_offset_gap_refetched", topic=key[0], partition=key[1])
            self._next[key] = record.offset + 1
            admitted.append(record)
        return admitted, seeks

    def _accepted(self, key: TopicPartitionKey, expected: int, found: int) -> bool:
        now = self._clock_ms()
        gap = self._gaps.get(key)
        if gap is None or gap.expected != expected:
            self._gaps[key] = _Gap(expected, now)
            log.info(
                "kafka_offset_gap_fetching_again",
                topic=key[0],
                partition=key[1],
                expected=expected,
                found=found,
            )
            return False
        gap.fetches += 1
        if gap.fetches < 3 or now - gap.first_ms < self._patience_ms:
            return False
        del self._gaps[key]
        log.warning(
            "kafka_offset_gap_accepted",
            topic=key[0],
            partition=key[1],
            expected=expected,
            found=found,
        )
        return True

    def forget(self, partitions: Iterable[TopicPartitionLike]) -> None:
        """These partitions were assigned or revoked: their positions start afresh."""
        for tp in partitions:
            self._next.pop((tp.topic, tp.partition), None)
            self._gaps.pop((tp.topic, tp.partition), None)
