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
