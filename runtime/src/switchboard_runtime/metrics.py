"""Prometheus metrics shared by the services (labelled by service)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

COMMANDS = Counter(
    "switchboard_commands_total",
    "Commands consumed, by outcome (applied, duplicate, dead_lettered).",
    ["service", "type", "outcome"],
)
DEAD_LETTERS = Counter(
    "switchboard_dead_letters_total",
    "Records sent to a DLQ topic, by error.",
    ["service", "topic", "error"],
)
OUTBOX_PUBLISHED = Counter(
    "switchboard_outbox_published_total",
    "Events the outbox relay published and Kafka acknowledged.",
    ["service"],
)
OUTBOX_PENDING = Gauge(
    "switchboard_outbox_pending",
    "Events in the outbox not yet acknowledged by Kafka (as last seen by the relay).",
    ["service"],
)
HTTP_WORKITEMS_CREATED = Counter(
    "switchboard_workitems_created_total",
    "Work items created, by intake path (http, kafka).",
    ["path"],
)
COMMAND_SECONDS = Histogram(
    "switchboard_command_seconds",
    "Time to apply one command, from receipt to state change.",
    ["service"],
)
DEADLINES_FIRED = Counter(
    "switchboard_deadlines_fired_total",
    "Deadlines this replica fired, by outcome (offer_expired, wrapup_expired).",
    ["outcome"],
)
DEADLINE_LATENESS = Histogram(
    "switchboard_deadline_lateness_seconds",
    "How long after its due time a deadline fired.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
