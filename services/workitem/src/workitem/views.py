"""What ``GET /v1/workitems/{id}`` shows: a work item record (the Inbox view is
:mod:`switchboard_schemas.inbox`, shared with the desktop gateway)."""

from __future__ import annotations

from typing import Any, TypeVar

from switchboard_schemas.fields import STORED
from switchboard_schemas.read_model import StoredItem
from switchboard_schemas.record import WorkItemRecord

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
