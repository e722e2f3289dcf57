"""Work item lifecycle events on ``workitem.events`` (the lifecycle: docs/architecture.md).

Every event carries ``work_item_id``; the CloudEvents ``subject`` is the same id.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Self

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from switchboard_schemas.enums import Priority
from switchboard_schemas.fields import (
    AgentId,
    DispositionCode,
    Notes,
    OfferId,
    PriorityValue,
    QueueName,
    Reason,
    UtcDatetime,
    WireModel,
    WorkItemId,
    examples,
)
from switchboard_schemas.record import RECORD_EXAMPLE, WorkItemRecord
from switchboard_schemas.workitem import WorkItem

QueueReason = Annotated[str, StringConstraints(min_length=1, max_length=64)]

_ITEM = "wi-42"
_AGENT = "agent-7"
_OFFER = "of-9"
_AT = "2025-03-01T09:30:30Z"


class WorkItemCreated(WorkItem):
    """``workitem.created``: the full work item record, as intake accepted it."""

    TYPE: ClassVar[str] = "workitem.created"


class WorkItemEvent(WireModel):
    """Base of the lifecycle events: the work item they are about."""

    work_item_id: WorkItemId


class WorkItemQueued(WorkItemEvent):
    """``workitem.queued``: the item waits in ``queue`` for an agent."""

    TYPE: ClassVar[str] = "workitem.queued"
    model_config = examples({"work_item_id": _ITEM, "queue": "task", "priority": 5})

    queue: QueueName
    priority: PriorityValue = Priority.NORMAL
    reason: QueueReason | None = Field(
        default=None,
        description="Why it was (re)queued, e.g. created, rejected, expired, skipped.",
    )


class WorkItemOffered(WorkItemEvent):
    """``workitem.offered``: offered to one agent until ``expires_at``."""

    TYPE: ClassVar[str] = "workitem.offered"
    model_config = examples(
        {"work_item_id": _ITEM, "offer_id": _OFFER, "agent_id": _AGENT, "expires_at": _AT}
    )

    offer_id: OfferId
    agent_id: AgentId
    expires_at: UtcDatetime = Field(description="Absolute offer deadline.")
    outbound: bool = Field(default=False, description="Outbound offer (dial / skip).")


class WorkItemOfferRejected(WorkItemEvent):
    """``workitem.offer_rejected``: the agent declined; the item keeps its place in line."""

    TYPE: ClassVar[str] = "workitem.offer_rejected"
    model_config = examples(
        {"work_item_id": _ITEM, "offer_id": _OFFER, "agent_id": _AGENT, "reason": "busy"}
    )

    offer_id: OfferId
    agent_id: AgentId
    reason: Reason | None = None


class WorkItemOfferExpired(WorkItemEvent):
    """``workitem.offer_expired``: nobody answered the offer in time."""

    TYPE: ClassVar[str] = "workitem.offer_expired"
    model_config = examples(
        {"work_item_id": _ITEM, "offer_id": _OFFER, "agent_id": _AGENT, "expires_at": _AT}
    )

    offer_id: OfferId
    agent_id: AgentId
    expires_at: UtcDatetime
    reason: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="Absent for a timeout; agent_offline when the agent left."
    )


class WorkItemAccepted(WorkItemEvent):
    """``workitem.accepted``: the agent accepted; the item is active."""

    TYPE: ClassVar[str] = "workitem.accepted"
    model_config = examples({"work_item_id": _ITEM, "offer_id": _OFFER, "agent_id": _AGENT})

    offer_id: OfferId
    agent_id: AgentId


class WorkItemHeld(WorkItemEvent):
    """``workitem.held``: the agent put the item on hold."""

    TYPE: ClassVar[str] = "workitem.held"
    model_config = examples({"work_item_id": _ITEM, "agent_id": _AGENT})

    agent_id: AgentId


class WorkItemResumed(WorkItemEvent):
    """``workitem.resumed``: the item left hold and is active again."""

    TYPE: ClassVar[str] = "workitem.resumed"
    model_config = examples({"work_item_id": _ITEM, "agent_id": _AGENT})

    agent_id: AgentId


class WorkItemWrapupStarted(WorkItemEvent):
    """``workitem.wrapup_started``: the interaction ended; disposition due by ``expires_at``."""

    TYPE: ClassVar[str] = "workitem.wrapup_started"
    model_config = examples({"work_item_id": _ITEM, "agent_id": _AGENT, "expires_at": _AT})

    agent_id: AgentId
    expires_at: UtcDatetime = Field(description="Absolute wrap-up deadline.")


class WorkItemWrapupExpired(WorkItemEvent):
    """``workitem.wrapup_expired``: no disposition in time; the item completes by default."""

    TYPE: ClassVar[str] = "workitem.wrapup_expired"
    model_config = examples({"work_item_id": _ITEM, "agent_id": _AGENT})

    agent_id: AgentId


class WorkItemCompleted(WorkItemEvent):
    """``workitem.completed``: closed with a disposition (``auto`` after a wrap-up timeout)."""

    TYPE: ClassVar[str] = "workitem.completed"
    model_config = examples(
        {"work_item_id": _ITEM, "agent_id": _AGENT, "disposition_code": "resolved", "auto": False}
    )

    agent_id: AgentId
    disposition_code: DispositionCode
    notes: Notes | None = None
    auto: bool = Field(default=False, description="Completed by the wrap-up timeout.")


class WorkItemCancelled(WorkItemEvent):
    """``workitem.cancelled``: the item was cancelled in an open state."""

    TYPE: ClassVar[str] = "workitem.cancelled"
    model_config = examples({"work_item_id": _ITEM, "reason": "duplicate"})

    reason: Reason | None = None
    agent_id: AgentId | None = Field(default=None, description="Agent holding it, if any.")


class WorkItemCancelRequested(WorkItemEvent):
    """``workitem.cancel_requested``: intake accepted a cancel; the router applies it."""

    TYPE: ClassVar[str] = "workitem.cancel_requested"
    model_config = examples({"work_item_id": _ITEM, "reason": "customer withdrew"})

    reason: Reason | None = None


class WorkItemArchived(WorkItemEvent):
    """``workitem.archived``: a closed item moved to the archive, with its whole record.

    Every item that closes is archived, in the step that closes it: a completed one (its
    record's status ``archived``) and a cancelled one (status stays ``cancelled``). The
    record is the one the work item service keeps, as that step left it (every field,
    ``archived_at``, the whole history ending with the ``workitem.archived`` entry); the
    service lets its own copy expire after ``RETENTION_DAYS``, so a store downstream can
    keep this one for longer.
    """

    TYPE: ClassVar[str] = "workitem.archived"
    model_config = examples({"work_item_id": _ITEM, "record": RECORD_EXAMPLE})

    record: WorkItemRecord = Field(description="The whole record, as archived.")

    @model_validator(mode="after")
    def _record_of_this_item(self) -> Self:
        if self.record.work_item_id != self.work_item_id:
            raise PydanticCustomError(
                "record_of_another_item",
                "record.work_item_id {found} is not work_item_id {expected}",
                {"found": self.record.work_item_id, "expected": self.work_item_id},
            )
        return self


class WorkItemSkipped(WorkItemEvent):
    """``workitem.skipped``: an outbound item was skipped; it goes to the next agent."""

    TYPE: ClassVar[str] = "workitem.skipped"
    model_config = examples(
        {"work_item_id": _ITEM, "offer_id": _OFFER, "agent_id": _AGENT, "skip_count": 1}
    )

    offer_id: OfferId
    agent_id: AgentId
    reason: Reason | None = None
    skip_count: int = Field(default=1, ge=1, le=1_000_000, description="Skips so far.")


class WorkItemDialed(WorkItemEvent):
    """``workitem.dialed``: the agent dialed an outbound item; it is active."""

    TYPE: ClassVar[str] = "workitem.dialed"
    model_config = examples({"work_item_id": _ITEM, "offer_id": _OFFER, "agent_id": _AGENT})

    offer_id: OfferId
    agent_id: AgentId
