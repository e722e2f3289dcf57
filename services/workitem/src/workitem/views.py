"""What the HTTP API shows of a work item record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from switchboard_schemas.workitem import WorkItem

from workitem.store import StoredItem


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event: str = Field(description="CloudEvents type of the step, e.g. workitem.created.")
    status: str = Field(description="Status the step led to.")
    at: datetime = Field(description="When it happened (UTC).")
    event_id: str | None = Field(None, description="CloudEvents id of the step's event.")


class WorkItemView(WorkItem):
    """A work item record: the item as created, plus where it is in its lifecycle."""

    status: str = Field(description="created, queued, offered, active, hold, wrap_up, …")
    updated_at: datetime
    cancel_requested_at: datetime | None = None
    history: list[HistoryEntry]


def view_of(stored: StoredItem) -> WorkItemView:
    data: dict[str, Any] = {
        **stored.item,
        "status": stored.status,
        "updated_at": stored.updated_at,
        "cancel_requested_at": stored.cancel_requested_at,
        "history": stored.history,
    }
    return WorkItemView.model_validate(data)
