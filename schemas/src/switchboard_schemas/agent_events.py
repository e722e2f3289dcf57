"""Router events on ``agent.events`` (read by the agent desktop and supervisors)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from switchboard_schemas.enums import AgentStatus, Channel, WorkItemType
from switchboard_schemas.fields import (
    AgentId,
    CallbackReason,
    CustomerName,
    Description,
    OfferId,
    PriorityValue,
    QueueName,
    Reason,
    SubType,
    UtcDatetime,
    WireModel,
    WorkItemId,
    examples,
    phone_or_error,
)

OfferActionName = Literal["accept", "reject", "dial", "skip"]
RevokeReason = Literal["expired", "cancelled", "agent_offline"]
ShortReason = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CommandId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=256),
    Field(description="The rejected command's CloudEvents id."),
]

_AGENT = "agent-7"
_ITEM = "wi-42"
_OFFER = "of-9"


class ItemSummary(WireModel):
    """What the desktop shows for an offered item: the general fields or the callback ones."""

    type: WorkItemType
    priority: PriorityValue
    sub_type: SubType | None = None
    channel: Channel | None = None
    description: Description | None = None
    due_at: UtcDatetime | None = None
    customer_phone: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="E.164 number to dial (callbacks)."
    )
    customer_name: CustomerName | None = None
    reason: CallbackReason | None = None
    queue: QueueName | None = None

    @field_validator("customer_phone")
    @classmethod
    def _e164(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else phone_or_error(value, info)


class OfferMade(WireModel):
    """``offer.made``: an item is offered to the agent until ``expires_at``."""

    TYPE: ClassVar[str] = "offer.made"
    model_config = examples(
        {
            "offer_id": _OFFER,
            "work_item_id": _ITEM,
            "agent_id": _AGENT,
            "expires_at": "2025-03-01T09:30:30Z",
            "outbound": False,
            "actions": ["accept", "reject"],
            "item": {"type": "task", "priority": 3, "channel": "form", "description": "Call"},
        }
    )

    offer_id: OfferId
    work_item_id: WorkItemId
    agent_id: AgentId
    expires_at: UtcDatetime = Field(description="Absolute offer deadline.")
    outbound: bool = Field(default=False, description="Outbound item: actions are dial/skip.")
    actions: list[OfferActionName] = Field(
        min_length=1, max_length=4, description='["accept", "reject"] or ["dial", "skip"].'
    )
    item: ItemSummary


class OfferRevoked(WireModel):
    """``offer.revoked``: withdraw the offer from the desktop."""

    TYPE: ClassVar[str] = "offer.revoked"
    model_config = examples(
        {"offer_id": _OFFER, "work_item_id": _ITEM, "agent_id": _AGENT, "reason": "expired"}
    )

    offer_id: OfferId
    work_item_id: WorkItemId
    agent_id: AgentId
    reason: RevokeReason | ShortReason = Field(
        description="expired, cancelled, agent_offline, or another short reason."
    )


class ItemCancelled(WireModel):
    """``item.cancelled``: an item the agent holds (active, hold, wrap-up) was cancelled."""

    TYPE: ClassVar[str] = "item.cancelled"
    model_config = examples({"work_item_id": _ITEM, "agent_id": _AGENT, "reason": "duplicate"})

    work_item_id: WorkItemId
    agent_id: AgentId
    reason: Reason | None = None


class AgentStatusChanged(WireModel):
    """``agent.status_changed``: the router changed or confirmed the agent's status."""

    TYPE: ClassVar[str] = "agent.status_changed"
    model_config = examples({"agent_id": _AGENT, "status": "away", "reason": "missed_offer"})

    agent_id: AgentId
    status: AgentStatus
    reason: ShortReason | None = Field(default=None, description="e.g. missed_offer.")


class CommandRejected(WireModel):
    """``command.rejected``: a command did not fit the current state and changed nothing."""

    TYPE: ClassVar[str] = "command.rejected"
    model_config = examples(
        {
            "command_id": "0b7f5c1e-2f0e-4a39-9d0c-1f1b2a3c4d5e",
            "command_type": "offer.accept",
            "agent_id": _AGENT,
            "work_item_id": _ITEM,
            "reason": "offer expired",
        }
    )

    command_id: CommandId
    command_type: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="The rejected command's CloudEvents type."
    )
    agent_id: AgentId | None = None
    work_item_id: WorkItemId | None = None
    reason: Reason
