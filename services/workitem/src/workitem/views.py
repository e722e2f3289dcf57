"""What the HTTP API shows: a work item record, and an agent's Inbox."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, Field
from switchboard_schemas.enums import Channel, WorkItemType
from switchboard_schemas.fields import STORED, RecordedDatetime
from switchboard_schemas.record import WorkItemRecord

from workitem.store import StoredItem

R = TypeVar("R", bound=WorkItemRecord)


class WorkItemView(WorkItemRecord):
    """A work item record: the item as created, plus where it is in its lifecycle."""


def record_of(stored: StoredItem, model: type[R]) -> R:
    """The record as kept in Redis, as ``model`` (taken as it was stored: see ``STORED``)."""
    data: dict[str, Any] = {
        **stored.item,
        "status": stored.status,
        "updated_at": stored.updated_at,
        "cancel_requested_at": stored.cancel_requested_at,
        "agent_id": stored.agent_id,
        "disposition_code": stored.disposition_code,
        "notes": stored.notes,
        "archived_at": stored.archived_at,
        "history": stored.history,
    }
    return model.model_validate(data, context=STORED)


def view_of(stored: StoredItem) -> WorkItemView:
    """What ``GET /v1/workitems/{id}`` answers for the record."""
    return record_of(stored, WorkItemView)


class InboxItemView(BaseModel):
    """One row of the Inbox table."""

    work_item_id: str
    type: WorkItemType
    badge: str | None = Field(
        description="TASK, CALLBACK, REVIEW, APPROVAL or EMAIL for task-type items; "
        "null for chat and call."
    )
    subject: str = Field(description="Subject line (see GET /v1/agents/{agent_id}/inbox).")
    status: str = Field(description="offered, active, hold or wrap_up.")
    priority: int = Field(description="1 Critical, 2 High, 3 Medium, 5 Normal, 8 Low.")
    channel: Channel
    sub_type: str | None
    due_at: RecordedDatetime | None
    due_label: str | None = Field(
        description="Overdue, Today, Tomorrow or the local due date (YYYY-MM-DD) in the "
        "requested time zone; null without a due date."
    )
    outbound: bool
    source: str | None = Field(None, description="Outbound items: callback or progressive_dial.")
    customer_name: str | None = None
    customer_phone: str | None = Field(None, description="E.164 number to dial.")
    attempt: int | None = Field(None, description="Outbound items: which attempt this is.")
    created_at: RecordedDatetime
    updated_at: RecordedDatetime


class InboxView(BaseModel):
    """An agent's Inbox: the outbound section first, then the items the filter keeps."""

    agent_id: str
    status: str = Field(description="The filter applied to `items`: active, hold, wrap_up, all.")
    tz: str = Field(description="Time zone the due labels were computed in.")
    outbound: list[InboxItemView] = Field(
        description="Outbound items (dial / skip), whatever the filter; always first."
    )
    items: list[InboxItemView] = Field(description="The other items, filtered by status.")
