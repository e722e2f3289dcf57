"""Which payload model belongs to which CloudEvents ``type``, per topic."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from switchboard_schemas import topics
from switchboard_schemas.agent import (
    AcceptOffer,
    AgentStatusCommand,
    CompleteItem,
    DialOutbound,
    EndItem,
    HoldItem,
    RejectOffer,
    ResumeItem,
    SkipOutbound,
)
from switchboard_schemas.agent_events import (
    AgentStatusChanged,
    CommandRejected,
    ItemCancelled,
    OfferMade,
    OfferRevoked,
)
from switchboard_schemas.callback import (
    CallbackCancelled,
    CallbackCompleted,
    CallbackFailed,
    CallbackMissed,
    CallbackRetryScheduled,
    CallbackScheduled,
    CancelCallback,
    RecordDialOutcome,
    RequestCallback,
)
from switchboard_schemas.fields import WireModel
from switchboard_schemas.lifecycle import (
    WorkItemAccepted,
    WorkItemArchived,
    WorkItemCancelled,
    WorkItemCancelRequested,
    WorkItemCompleted,
    WorkItemCreated,
    WorkItemDialed,
    WorkItemHeld,
    WorkItemOffered,
    WorkItemOfferExpired,
    WorkItemOfferRejected,
    WorkItemQueued,
    WorkItemResumed,
    WorkItemSkipped,
    WorkItemWrapupExpired,
    WorkItemWrapupStarted,
)
from switchboard_schemas.workitem import CancelWorkItem
from switchboard_schemas.workitem_request import WorkItemRequest

ModelMap = Mapping[str, type[WireModel]]


def _by_type(*models: type[WireModel]) -> ModelMap:
    table: dict[str, type[WireModel]] = {}
    for model in models:
        if model.TYPE in table:
            raise ValueError(f"duplicate type {model.TYPE!r}")
        table[model.TYPE] = model
    return MappingProxyType(table)


WORKITEM_COMMAND_MODELS = _by_type(WorkItemRequest, CancelWorkItem)
CALLBACK_COMMAND_MODELS = _by_type(RequestCallback, CancelCallback, RecordDialOutcome)
AGENT_COMMAND_MODELS = _by_type(
    AgentStatusCommand,
    AcceptOffer,
    RejectOffer,
    HoldItem,
    ResumeItem,
    EndItem,
    CompleteItem,
    DialOutbound,
    SkipOutbound,
)
WORKITEM_EVENT_MODELS = _by_type(
    WorkItemCreated,
    WorkItemQueued,
    WorkItemOffered,
    WorkItemOfferRejected,
    WorkItemOfferExpired,
    WorkItemAccepted,
    WorkItemHeld,
    WorkItemResumed,
    WorkItemWrapupStarted,
    WorkItemWrapupExpired,
    WorkItemCompleted,
    WorkItemCancelled,
    WorkItemCancelRequested,
    WorkItemArchived,
    WorkItemSkipped,
    WorkItemDialed,
    CallbackScheduled,
    CallbackRetryScheduled,
    CallbackCompleted,
    CallbackFailed,
    CallbackMissed,
    CallbackCancelled,
)
AGENT_EVENT_MODELS = _by_type(
    OfferMade, OfferRevoked, ItemCancelled, AgentStatusChanged, CommandRejected
)

# the steps of an item an agent's desktop follows on workitem.events (its Inbox rows come
# and go and change status): the desktop gateway logs these for the agent they name
AGENT_ITEM_STEPS = (
    "workitem.accepted",
    "workitem.dialed",
    "workitem.offer_rejected",
    "workitem.skipped",
    "workitem.held",
    "workitem.resumed",
    "workitem.wrapup_started",
    "workitem.wrapup_expired",
    "workitem.completed",
    "workitem.cancelled",
)

MODELS_BY_TOPIC: Mapping[str, ModelMap] = MappingProxyType(
    {
        topics.WORKITEM_COMMANDS: WORKITEM_COMMAND_MODELS,
        topics.CALLBACK_COMMANDS: CALLBACK_COMMAND_MODELS,
        topics.AGENT_COMMANDS: AGENT_COMMAND_MODELS,
        topics.WORKITEM_EVENTS: WORKITEM_EVENT_MODELS,
        topics.AGENT_EVENTS: AGENT_EVENT_MODELS,
    }
)
"""Types allowed on each topic: pass ``MODELS_BY_TOPIC[topic]`` as ``allowed``."""

COMMAND_MODELS: ModelMap = MappingProxyType(
    {**WORKITEM_COMMAND_MODELS, **CALLBACK_COMMAND_MODELS, **AGENT_COMMAND_MODELS}
)
EVENT_MODELS: ModelMap = MappingProxyType({**WORKITEM_EVENT_MODELS, **AGENT_EVENT_MODELS})


def model_for(type: str) -> type[WireModel]:
    """The payload model of a command or event ``type``; ``KeyError`` if unknown."""
    if type in COMMAND_MODELS:
        return COMMAND_MODELS[type]
    return EVENT_MODELS[type]
