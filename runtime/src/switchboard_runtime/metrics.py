"""Prometheus metrics: each service's ``/metrics`` serves its own families and no others.

Families are grouped by the code that counts into them, and a service exports only the
groups it runs:

- ``CommandMetrics`` (the command pipelines) and ``OutboxMetrics`` (the outbox relay):
  that code knows its service by name, so each service in the process has one of each,
  from ``command_metrics(name)`` and ``outbox_metrics(name)``; the service runtime
  exports those it uses from the start, so their families are there before the first
  event.
- ``DeadlineMetrics``: a deadline timer carries its own (it is ``Measured``), and the
  service that runs it exports them.
- Gauges read from Redis when scraped (queues, deadlines, the outbox): see
  switchboard_runtime.live_metrics.

No family has a ``service`` label: the scrape target says which service answered. Nor
are there ``_created`` series (the time a counter started, which the text format shows
as a gauge family of its own): Prometheus does not use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from prometheus_client import (
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

disable_created_metrics()  # type: ignore[no-untyped-call]


class Families(Collector):
    """Metric objects registered nowhere; whoever exports them registers this collector."""

    def _metrics(self) -> Iterable[MetricWrapperBase]:
        return [m for m in vars(self).values() if isinstance(m, MetricWrapperBase)]

    def collect(self) -> Iterator[Metric]:
        for metric in self._metrics():
            yield from metric.collect()


class CommandMetrics(Families):
    """What the command and event pipelines consume."""

    def __init__(self) -> None:
        self.commands = Counter(
            "switchboard_commands_total",
            "Commands and events consumed, by CloudEvents type and outcome "
            "(applied, duplicate, dead_lettered, or the script's own outcome).",
            ["type", "outcome"],
            registry=None,
        )
        self.duration = Histogram(
            "switchboard_command_duration_seconds",
            "Time to apply one command or a batch of them, from receipt to state change.",
            registry=None,
        )
        self.dead_letters = Counter(
            "switchboard_dead_letters_total",
            "Records sent to a dead-letter topic, by source topic and error.",
            ["topic", "error"],
            registry=None,
        )


class OutboxMetrics(Families):
    """What the outbox relay publishes (what waits is read at scrape time)."""

    def __init__(self) -> None:
        self.published = Counter(
            "switchboard_outbox_published_total",
            "Events the outbox relay of this replica published and Kafka acknowledged.",
            registry=None,
        )


class DeadlineMetrics(Families):
    """What one deadline timer fired."""

    def __init__(self) -> None:
        self.fired = Counter(
            "switchboard_deadlines_fired_total",
            "Deadlines this replica fired, by outcome (offer_expired, wrapup_expired, "
            "waiting, missed, ...).",
            ["outcome"],
            registry=None,
        )
        self.lateness = Histogram(
            "switchboard_deadline_lateness_seconds",
            "How long after its due time a deadline fired.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=None,
        )


_COMMANDS: dict[str, CommandMetrics] = {}
_OUTBOX: dict[str, OutboxMetrics] = {}


def command_metrics(service: str) -> CommandMetrics:
    """The command metrics of the service named ``service`` in this process."""
    if service not in _COMMANDS:
        _COMMANDS[service] = CommandMetrics()
    return _COMMANDS[service]


def outbox_metrics(service: str) -> OutboxMetrics:
    """The outbox metrics of the service named ``service`` in this process."""
    if service not in _OUTBOX:
        _OUTBOX[service] = OutboxMetrics()
    return _OUTBOX[service]


@runtime_checkable
class Measured(Protocol):
    """A component (e.g. a worker) that counts into metrics of its own."""

    @property
    def metrics(self) -> Collector: ...


def service_registry(
    service: str, *, consumes: bool, relays: bool, parts: Iterable[object]
) -> CollectorRegistry:
    """What one service exports: the process's families, the command metrics if it
    ``consumes``, the outbox metrics if it ``relays``, and those of its ``Measured``
    ``parts`` (the HTTP app and the gauges read at scrape time add theirs)."""
    registry = CollectorRegistry()
    for default in (ProcessCollector, PlatformCollector, GCCollector):
        default(registry=registry)
    if consumes:
        registry.register(command_metrics(service))
    if relays:
        registry.register(outbox_metrics(service))
    for part in parts:
        if isinstance(part, Measured):
            registry.register(part.metrics)
    return registry
