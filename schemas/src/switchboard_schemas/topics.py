"""Kafka topic names of the Switchboard wire contract (see docs/architecture.md)."""

from __future__ import annotations

WORKITEM_COMMANDS = "workitem.commands"
"""Commands for the workitem service: ``workitem.create``, ``workitem.cancel``."""

CALLBACK_COMMANDS = "callback.commands"
"""Commands for the callback service: ``callback.request``, ``callback.cancel``, …"""

WORKITEM_EVENTS = "workitem.events"
"""Work item lifecycle and callback events, keyed by work item id."""

AGENT_COMMANDS = "agent.commands"
"""Agent desktop commands for the router, keyed by agent id."""

AGENT_EVENTS = "agent.events"
"""Router events for the agent desktop (offers, status, rejections), keyed by agent id."""

DLQ_SUFFIX = ".dlq"


def dlq_topic(topic: str) -> str:
    """Return the dead-letter topic of ``topic``."""
    return f"{topic}{DLQ_SUFFIX}"


COMMAND_TOPICS: tuple[str, ...] = (WORKITEM_COMMANDS, CALLBACK_COMMANDS, AGENT_COMMANDS)
EVENT_TOPICS: tuple[str, ...] = (WORKITEM_EVENTS, AGENT_EVENTS)

CONSUMED_TOPICS: tuple[str, ...] = (*COMMAND_TOPICS, *EVENT_TOPICS)
"""Topics some service consumes; each of them has a dead-letter topic."""

DLQ_TOPICS: tuple[str, ...] = tuple(dlq_topic(t) for t in CONSUMED_TOPICS)

ALL_TOPICS: tuple[str, ...] = (*COMMAND_TOPICS, *EVENT_TOPICS, *DLQ_TOPICS)
"""Every topic the system uses, e.g. to create them explicitly before start-up."""
