"""Topic names and enumerations."""

from __future__ import annotations

import pytest
from switchboard_schemas import (
    AGENT_COMMANDS,
    AGENT_EVENTS,
    ALL_TOPICS,
    CALLBACK_COMMANDS,
    COMMAND_TOPICS,
    EVENT_TOPICS,
    WORKITEM_COMMANDS,
    WORKITEM_EVENTS,
    AgentStatus,
    Channel,
    Priority,
    WorkItemStatus,
    WorkItemType,
    dlq_topic,
)


def test_topic_names_match_the_design() -> None:
    assert WORKITEM_COMMANDS == "workitem.commands"
    assert CALLBACK_COMMANDS == "callback.commands"
    assert WORKITEM_EVENTS == "workitem.events"
    assert AGENT_COMMANDS == "agent.commands"
    assert AGENT_EVENTS == "agent.events"
    assert set(COMMAND_TOPICS) == {WORKITEM_COMMANDS, CALLBACK_COMMANDS, AGENT_COMMANDS}
    assert set(EVENT_TOPICS) == {WORKITEM_EVENTS, AGENT_EVENTS}


def test_dlq_topic_appends_suffix() -> None:
    assert dlq_topic("workitem.commands") == "workitem.commands.dlq"


@pytest.mark.parametrize(
    "topic", [WORKITEM_COMMANDS, CALLBACK_COMMANDS, AGENT_COMMANDS, WORKITEM_EVENTS]
)
def test_every_consumed_topic_has_a_dlq_in_all_topics(topic: str) -> None:
    assert topic in ALL_TOPICS
    assert dlq_topic(topic) in ALL_TOPICS


def test_all_topics_has_no_duplicates_and_includes_agent_events() -> None:
    assert len(ALL_TOPICS) == len(set(ALL_TOPICS))
    assert AGENT_EVENTS in ALL_TOPICS


def test_enum_values_match_the_design() -> None:
    assert [t.value for t in WorkItemType] == [
        "chat",
        "call",
        "task",
        "callback",
        "review",
        "approval",
        "email",
    ]
    assert [c.value for c in Channel] == [
        "internal",
        "email",
        "form",
        "phone",
        "walk_in",
        "mail",
        "api",
    ]
    assert [s.value for s in AgentStatus] == ["available", "away", "offline"]
    assert "wrap_up" in {s.value for s in WorkItemStatus}
    assert len(WorkItemStatus) == 9


@pytest.mark.parametrize(
    ("priority", "value", "label"),
    [
        (Priority.CRITICAL, 1, "Critical"),
        (Priority.HIGH, 2, "High"),
        (Priority.MEDIUM, 3, "Medium"),
        (Priority.NORMAL, 5, "Normal"),
        (Priority.LOW, 8, "Low"),
    ],
)
def test_priority_values_and_labels(priority: Priority, value: int, label: str) -> None:
    assert priority.value == value
    assert priority.label == label


def test_priorities_sort_most_urgent_first() -> None:
    assert sorted([Priority.LOW, Priority.CRITICAL, Priority.NORMAL]) == [
        Priority.CRITICAL,
        Priority.NORMAL,
        Priority.LOW,
    ]
