"""Agent desktop commands on ``agent.commands`` (read by the router)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StrictInt, model_validator

from switchboard_schemas.enums import AgentStatus
from switchboard_schemas.fields import (
    MAX_QUEUES,
    AgentId,
    AwayReason,
    DispositionCode,
    Notes,
    OfferId,
    QueueName,
    Reason,
    Skills,
    WireModel,
    WorkItemId,
    examples,
)

CapacityKind = Literal["voice", "chat", "async"]
Slots = Annotated[StrictInt, Field(ge=0, le=100)]

_AGENT = "agent-7"
_ITEM = "wi-42"
_OFFER = "of-9"


class AgentStatusCommand(WireModel):
    """``agent.status``: the agent's availability, queues, skills and capacity."""

    TYPE: ClassVar[str] = "agent.status"
    model_config = examples(
        {
            "agent_id": _AGENT,
            "status": "available",
            "queues": ["task", "callback"],
            "skills": ["english", "billing"],
            "capacity": {"voice": 1, "chat": 3, "async": 5},
        },
        {"agent_id": _AGENT, "status": "away", "reason": "lunch", "queues": ["task"]},
    )

    agent_id: AgentId
    status: AgentStatus
    queues: list[QueueName] = Field(
        default_factory=list, max_length=MAX_QUEUES, description="Queues the agent works."
    )
    skills: Skills = Field(default_factory=list)
    capacity: dict[CapacityKind, Slots] | None = Field(
        default=None,
        description=(
            "Slots per kind of work (0-100): voice (call, outbound callback dial), "
            "chat, async (task, review, approval, email, callback). Absent: router defaults."
        ),
    )
    reason: AwayReason | None = Field(default=None, description="Only with status away.")

    @model_validator(mode="after")
    def _reason_only_when_away(self) -> AgentStatusCommand:
        if self.reason is not None and self.status is not AgentStatus.AWAY:
            raise ValueError("reason is given only with status away")
        return self


class OfferAction(WireModel):
    """Base of the commands that answer an offer."""

    agent_id: AgentId
    offer_id: OfferId
    work_item_id: WorkItemId
    reason: Reason | None = None


_OFFER_EXAMPLE = examples({"agent_id": _AGENT, "offer_id": _OFFER, "work_item_id": _ITEM})


class AcceptOffer(OfferAction):
    """``offer.accept``: take the offered item."""

    TYPE: ClassVar[str] = "offer.accept"
    model_config = _OFFER_EXAMPLE


class RejectOffer(OfferAction):
    """``offer.reject``: decline the offered item; it keeps its place in line."""

    TYPE: ClassVar[str] = "offer.reject"
    model_config = _OFFER_EXAMPLE


class DialOutbound(OfferAction):
    """``outbound.dial``: dial the offered outbound item."""

    TYPE: ClassVar[str] = "outbound.dial"
    model_config = _OFFER_EXAMPLE


class SkipOutbound(OfferAction):
    """``outbound.skip``: pass the outbound item to the next agent or the back of the queue."""

    TYPE: ClassVar[str] = "outbound.skip"
    model_config = _OFFER_EXAMPLE


class ItemAction(WireModel):
    """Base of the commands on an item the agent holds."""

    agent_id: AgentId
    work_item_id: WorkItemId


_ITEM_EXAMPLE = examples({"agent_id": _AGENT, "work_item_id": _ITEM})


class HoldItem(ItemAction):
    """``item.hold``: put the active item on hold."""

    TYPE: ClassVar[str] = "item.hold"
    model_config = _ITEM_EXAMPLE


class ResumeItem(ItemAction):
    """``item.resume``: take the item off hold."""

    TYPE: ClassVar[str] = "item.resume"
    model_config = _ITEM_EXAMPLE


class EndItem(ItemAction):
    """``item.end``: end the interaction and start wrap-up."""

    TYPE: ClassVar[str] = "item.end"
    model_config = _ITEM_EXAMPLE


class CompleteItem(ItemAction):
    """``item.complete``: submit the disposition and close the item."""

    TYPE: ClassVar[str] = "item.complete"
    model_config = examples(
        {
            "agent_id": _AGENT,
            "work_item_id": _ITEM,
            "disposition_code": "resolved",
            "notes": "Sent the transcript.",
        }
    )

    disposition_code: DispositionCode
    notes: Notes | None = None
