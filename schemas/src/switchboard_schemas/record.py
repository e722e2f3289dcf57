"""The work item record as the work item service keeps it: the item, its lifecycle, its history.

``GET /v1/workitems/{id}`` answers it, and ``workitem.archived`` carries it once the item
closed, so that a store downstream can keep it after Redis lets it expire
(``RETENTION_DAYS``). A record is read back from storage: validate it with
``context=STORED`` (:mod:`switchboard_schemas.fields`) to take it as it was stored.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from switchboard_schemas.fields import examples
from switchboard_schemas.workitem import TASK_EXAMPLE, WorkItem

_AGENT = "agent-7"
RECORD_EXAMPLE: JsonDict = {
    **TASK_EXAMPLE,
    "status": "archived",
    "updated_at": "2025-03-01T09:41:02Z",
    "agent_id": _AGENT,
    "disposition_code": "resolved",
    "notes": "Address updated.",
    "archived_at": "2025-03-01T09:41:02Z",
    "history": [
        {"event": "workitem.created", "status": "created", "at": "2025-03-01T09:30:00Z"},
        {"event": "workitem.queued", "status": "queued", "at": "2025-03-01T09:30:01Z"},
        {
            "event": "workitem.offered",
            "status": "offered",
            "at": "2025-03-01T09:30:02Z",
            "agent_id": _AGENT,
        },
        {
            "event": "workitem.accepted",
            "status": "active",
            "at": "2025-03-01T09:30:09Z",
            "agent_id": _AGENT,
        },
        {
            "event": "workitem.wrapup_started",
            "status": "wrap_up",
            "at": "2025-03-01T09:39:40Z",
            "agent_id": _AGENT,
        },
        {
            "event": "workitem.completed",
            "status": "completed",
            "at": "2025-03-01T09:41:00Z",
            "agent_id": _AGENT,
            "disposition_code": "resolved",
            "notes": "Address updated.",
        },
        {"event": "workitem.archived", "status": "archived", "at": "2025-03-01T09:41:02Z"},
    ],
}
"""A completed (so archived) record, as ``workitem.archived`` carries it."""


class HistoryEntry(BaseModel):
    """One step of a work item's history, oldest first."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event: str = Field(description="CloudEvents type of the step, e.g. workitem.created.")
    status: str = Field(description="Status the step led to.")
    at: datetime = Field(description="When it happened (UTC).")
    event_id: str | None = Field(None, description="CloudEvents id of the step's event.")
    agent_id: str | None = Field(None, description="The agent the step concerns, if any.")
    disposition_code: str | None = Field(None, description="Set on workitem.completed.")
    notes: str | None = Field(None, description="Wrap-up notes, on workitem.completed.")
    reason: str | None = Field(None, description="Why, when the event gave a reason.")


class WorkItemRecord(WorkItem):
    """A work item record: the item as created, plus where it is in its lifecycle."""

    model_config = examples(RECORD_EXAMPLE)

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
