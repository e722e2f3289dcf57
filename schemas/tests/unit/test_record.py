"""The work item record, and ``workitem.archived`` carrying it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from switchboard_schemas import EVENT_MODELS, HistoryEntry, WorkItemArchived, WorkItemRecord
from switchboard_schemas.fields import STORED
from switchboard_schemas.record import RECORD_EXAMPLE

CANCELLED: dict[str, Any] = {
    **{k: v for k, v in RECORD_EXAMPLE.items() if k not in ("disposition_code", "notes")},
    "status": "cancelled",
    "history": [
        {"event": "workitem.created", "status": "created", "at": "2025-03-01T09:30:00Z"},
        {"event": "workitem.cancelled", "status": "cancelled", "at": "2025-03-01T09:31:00Z"},
        {"event": "workitem.archived", "status": "cancelled", "at": "2025-03-01T09:31:00Z"},
    ],
}


def test_archived_is_registered_and_requires_the_record() -> None:
    assert EVENT_MODELS["workitem.archived"] is WorkItemArchived
    with pytest.raises(ValidationError) as info:
        WorkItemArchived.model_validate({"work_item_id": "wi-42"})
    assert [e["loc"] for e in info.value.errors()] == [("record",)]


def test_archived_carries_a_cancelled_record_too() -> None:
    event = WorkItemArchived.model_validate({"work_item_id": "wi-42", "record": CANCELLED})

    assert event.record.status == "cancelled"
    assert event.record.archived_at is not None
    assert [h.status for h in event.record.history][-2:] == ["cancelled", "cancelled"]
    assert event.model_dump(mode="json", exclude_none=True)["record"] == CANCELLED


def test_the_record_must_be_the_items_own() -> None:
    with pytest.raises(ValidationError) as info:
        WorkItemArchived.model_validate({"work_item_id": "wi-43", "record": RECORD_EXAMPLE})
    assert [e["type"] for e in info.value.errors()] == ["record_of_another_item"]


def test_the_record_forbids_unknown_fields_but_history_entries_keep_what_they_know() -> None:
    with pytest.raises(ValidationError):
        WorkItemRecord.model_validate({**RECORD_EXAMPLE, "fingerprint": "x"})
    entry = HistoryEntry.model_validate(
        {"event": "workitem.created", "status": "created", "at": "2025-03-01T09:30:00Z", "x": 1}
    )
    assert entry.model_dump(exclude_none=True).keys() == {"event", "status", "at"}


def test_a_stored_record_is_taken_as_stored() -> None:
    old = {**RECORD_EXAMPLE, "created_at": "1960-01-01T00:00:00Z"}  # before today's range
    with pytest.raises(ValidationError):
        WorkItemRecord.model_validate(old)
    assert WorkItemRecord.model_validate(old, context=STORED).created_at.year == 1960
