"""Gauges read from Redis when ``/metrics`` is scraped, and the page that serves them.

A gauge kept up to date by the code that changes the state goes stale when that code
stops (the outbox gauge used to stick at its last value); these are read at scrape
time from the structures the services keep anyway, with bounded work: a fixed number of
pipelined O(log n) reads (ZCARD, ZCOUNT, XLEN) per queue or set, or a read-only script
over a capped number of members (switchboard_runtime.deadline_gauges); never a key scan.
Each reader has ``SCRAPE_TIMEOUT_S`` to answer.

A Redis outage never fails the scrape: the families that could not be read are left
out, and ``switchboard_redis_up`` says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, cast

import structlog
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from switchboard_runtime.clock import ClockMs

log = structlog.get_logger(__name__)

SCRAPE_TIMEOUT_S = 2.0


class LiveMetrics(Protocol):
    """Families read now (may raise, e.g. RedisError: the scrape goes on without them)."""

    async def read(self) -> list[Metric]: ...


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def gauges(
    name: str,
    documentation: str,
    labels: Sequence[str],
    samples: Mapping[tuple[str, ...], float],
) -> GaugeMetricFamily:
    """A labelled gauge family with one sample per label values."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in samples.items():
        family.add_metric(list(label_values), value)
    return family


class _Snapshot(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to check: a snapshot lives for one scrape


async def exposition(
    registry: CollectorRegistry,
    live: Sequence[LiveMetrics],
    timeout_s: float = SCRAPE_TIMEOUT_S,
) -> bytes:
    """The text of ``/metrics``: the registry, then what the live readers read now."""
    results = await asyncio.gather(*(_bounded(r, timeout_s) for r in live))
    families = [family for result in results if result is not None for family in result]
    up = gauge(
        "switchboard_redis_up",
        "1 if every gauge read from Redis at this scrape was read, "
        "0 if some are missing from it (Redis unreachable or slow).",
        float(all(result is not None for result in results)),
    )
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(_Snapshot([*families, up]))
    return generate_latest(registry) + generate_latest(scraped)


async def _bounded(reader: LiveMetrics, timeout_s: float) -> list[Metric] | None:
    try:
        async with asyncio.timeout(timeout_s):
            return await reader.read()
    except Exception as exc:
        log.warning("metrics_read_failed", reader=type(reader).__name__, error=repr(exc))
        return None


class OutboxGauges:
    """What waits in a service's outbox stream for the relay (any replica's relay)."""

    def __init__(self, redis: Redis, stream: str, clock_ms: ClockMs) -> None:
        self._redis = redis
        self._stream = stream
        self._clock_ms = clock_ms

    async def read(self) -> list[Metric]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xlen(self._stream)
            pipe.xrange(self._stream, count=1)
            length, first = cast(tuple[int, list[tuple[bytes, object]]], await pipe.execute())
        age_s = 0.0
        if first:  # an entry id starts with the Redis server's epoch ms when it was added
            added_ms = int(first[0][0].split(b"-")[0])
            age_s = max(0, self._clock_ms() - added_ms) / 1000
        return [
            gauge(
                "switchboard_outbox_pending",
                "Events in the outbox stream not yet published and acknowledged by Kafka.",
                length,
            ),
            gauge(
                "switchboard_outbox_oldest_age_seconds",
                "Age of the oldest event waiting in the outbox stream (0 when it is empty).",
                age_s,
            ),
        ]
