"""What the HTTP API shows: a work item record, and an agent's Inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from switchboard_schemas.enums import Channel, WorkItemType
from switchboard_schemas.fields import STORED, RecordedDatetime
from switchboard_schemas.workitem import WorkItem

from workitem.store import StoredItem


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event: str = Field(description="CloudEvents type of the step, e.g. workitem.created.")
    status: str = Field(description="Status the step led to.")
    at: datetime = Field(description="When it happened (UTC).")
    event_id: str | None = Field(None, description="CloudEvents id of the step's event.")
    agent_id: str | None = Field(None, description="The agent the step concerns, if any.")
    disposition_code: str | None = Field(None, description="Set on workitem.completed.")
    notes: str | None = Field(None, description="Wrap-up notes, on workitem.completed.")
    reason: str | None = Field(None, description="Why, when the event gave a reason.")


class WorkItemView(WorkItem):
    """A work item record: the item as created, plus where it is in its lifecycle."""

    status: str = Field(
        description="created, queued, offered, active, hold, wrap_up, cancelled or archived "
        "(a completed item is archived at once)."
    )
    updated_at: datetime
    cancel_requested_at: datetime | None = None
    agent_id: str | None = Field(
        None, description="The agent it is offered to or held by (the last one once closed)."
    )
    disposition_code: str | None = Field(None, description="Disposition it was completed with.")
    notes: str | None = Field(None, description="Wrap-up notes it was completed with.")
    archived_at: datetime | None = Field(None, description="When it was archived.")
    history: list[HistoryEntry]


def view_of(stored: StoredItem) -> WorkItemView:
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
    return WorkItemView.model_validate(data, context=STORED)


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
