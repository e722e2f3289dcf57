"""Type registry covers every type of the wire contract (docs/architecture.md)."""

from __future__ import annotations

import pytest
from switchboard_schemas import (
    AGENT_COMMANDS,
    AGENT_EVENTS,
    CALLBACK_COMMANDS,
    COMMAND_MODELS,
    EVENT_MODELS,
    MODELS_BY_TOPIC,
    WORKITEM_COMMANDS,
    WORKITEM_EVENTS,
    AcceptOffer,
    AgentStatusCommand,
    CallbackScheduled,
    CreateWorkItem,
    OfferMade,
    WorkItem,
    WorkItemCreated,
    model_for,
)
from switchboard_schemas.workitem_request import WorkItemRequest

CONTRACT_TYPES = {
    WORKITEM_COMMANDS: ["workitem.create", "workitem.cancel"],
    CALLBACK_COMMANDS: ["callback.request", "callback.cancel", "callback.dial_outcome"],
    AGENT_COMMANDS: [
        "agent.status",
        "offer.accept",
        "offer.reject",
        "item.hold",
        "item.resume",
        "item.end",
        "item.complete",
        "outbound.dial",
        "outbound.skip",
    ],
    WORKITEM_EVENTS: [
        "workitem.created",
        "workitem.queued",
        "workitem.offered",
        "workitem.offer_rejected",
        "workitem.offer_expired",
        "workitem.accepted",
        "workitem.held",
        "workitem.resumed",
        "workitem.wrapup_started",
        "workitem.wrapup_expired",
        "workitem.completed",
        "workitem.cancelled",
        "workitem.cancel_requested",
        "workitem.archived",
        "workitem.skipped",
        "workitem.dialed",
        "callback.scheduled",
        "callback.retry_scheduled",
        "callback.completed",
        "callback.failed",
        "callback.missed",
        "callback.cancelled",
    ],
    AGENT_EVENTS: [
        "offer.made",
        "offer.revoked",
        "item.cancelled",
        "agent.status_changed",
        "command.rejected",
    ],
}
PAIRS = [(topic, t) for topic, types in CONTRACT_TYPES.items() for t in types]


@pytest.mark.parametrize(("topic", "type_name"), PAIRS)
def test_design_type_is_registered_on_its_topic(topic: str, type_name: str) -> None:
    assert type_name in MODELS_BY_TOPIC[topic]
    registry = COMMAND_MODELS if topic.endswith(".commands") else EVENT_MODELS
    assert registry[type_name] is model_for(type_name)


def test_registries_hold_exactly_the_design_types() -> None:
    commands = {
        t
        for topic in (WORKITEM_COMMANDS, CALLBACK_COMMANDS, AGENT_COMMANDS)
        for t in CONTRACT_TYPES[topic]
    }
    assert set(COMMAND_MODELS) == commands
    assert set(EVENT_MODELS) == {
        t for topic in (WORKITEM_EVENTS, AGENT_EVENTS) for t in CONTRACT_TYPES[topic]
    }


@pytest.mark.parametrize(
    ("type_name", "model"),
    [
        ("workitem.create", WorkItemRequest),
        ("workitem.created", WorkItemCreated),
        ("offer.made", OfferMade),
        ("offer.accept", AcceptOffer),
        ("agent.status", AgentStatusCommand),
        ("callback.scheduled", CallbackScheduled),
    ],
)
def test_model_for(type_name: str, model: type) -> None:
    assert model_for(type_name) is model


def test_workitem_created_is_the_record() -> None:
    assert issubclass(WorkItemCreated, WorkItem)


@pytest.mark.parametrize("type_name", ["", "workitem.unknown", "WORKITEM.CREATE"])
def test_model_for_unknown_type_raises_key_error(type_name: str) -> None:
    with pytest.raises(KeyError):
        model_for(type_name)


def test_registries_are_read_only() -> None:
    with pytest.raises(TypeError):
        COMMAND_MODELS["x"] = CreateWorkItem  # type: ignore[index]
