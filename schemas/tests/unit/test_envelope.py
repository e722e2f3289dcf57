"""CloudEvent envelope, new_event and to_bytes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError
from switchboard_schemas import (
    CONTENT_TYPE,
    CloudEvent,
    CreateWorkItem,
    WorkItemQueued,
    WorkItemType,
    new_event,
    to_bytes,
)

Loc = tuple[int | str, ...]
BASE: dict[str, Any] = {
    "specversion": "1.0",
    "id": "ev-1",
    "source": "switchboard/test",
    "type": "workitem.create",
    "time": "2025-03-01T09:30:00Z",
    "data": {"type": "task"},
}


def error_locs(data: dict[str, Any]) -> set[Loc]:
    with pytest.raises(ValidationError) as info:
        CloudEvent.model_validate(data)
    return {tuple(e["loc"]) for e in info.value.errors()}


def test_content_type() -> None:
    assert CONTENT_TYPE == "application/cloudevents+json"


def test_minimal_event_defaults() -> None:
    ev = CloudEvent.model_validate(BASE)
    assert ev.tenantid == "default"
    assert ev.datacontenttype == "application/json"
    assert ev.subject is None
    assert ev.correlationid is None
    assert ev.time == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("field", ["specversion", "id", "source", "type", "time"])
def test_required_attributes(field: str) -> None:
    data = {k: v for k, v in BASE.items() if k != field}
    assert error_locs(data) == {(field,)}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("specversion", "0.3"),
        ("specversion", 1.0),
        ("id", ""),
        ("id", "i" * 257),
        ("source", ""),
        ("type", "t" * 129),
        ("time", "2025-03-01T09:30:00"),
        ("time", "yesterday"),
        ("subject", "s" * 257),
        ("tenantid", "Acme"),
        ("tenantid", "-acme"),
        ("tenantid", "a" * 64),
        ("correlationid", ""),
        ("data", [1, 2]),
        ("data", "text"),
    ],
)
def test_invalid_attributes_are_rejected(field: str, value: object) -> None:
    assert {loc[0] for loc in error_locs({**BASE, field: value})} == {field}


def test_time_is_serialised_as_utc_z() -> None:
    ev = CloudEvent.model_validate({**BASE, "time": "2025-03-01T11:30:00.250+02:00"})
    assert json.loads(to_bytes(ev))["time"] == "2025-03-01T09:30:00.250000Z"


@pytest.mark.parametrize(
    "extensions",
    [{"traceparent": "00-abc-def-01"}, {"attempt": 3, "replay": True}, {"x1": "y" * 256}],
)
def test_valid_extensions_are_kept(extensions: dict[str, Any]) -> None:
    ev = CloudEvent.model_validate({**BASE, **extensions})
    assert ev.model_extra == extensions
    assert json.loads(to_bytes(ev)).items() >= extensions.items()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TraceParent", "x"),
        ("trace_parent", "x"),
        ("a" * 21, "x"),
        ("blob", "y" * 257),
        ("blob", [1]),
        ("blob", {"a": 1}),
        ("blob", 1.5),
        ("blob", None),
        ("blob", 2**40),
    ],
)
def test_invalid_extensions_are_rejected_by_name(name: str, value: object) -> None:
    assert error_locs({**BASE, name: value}) == {(name,)}


def test_at_most_ten_extensions() -> None:
    ten = {f"ext{i}": i for i in range(10)}
    assert len(CloudEvent.model_validate({**BASE, **ten}).model_extra or {}) == 10
    assert error_locs({**BASE, **ten, "ext10": 10}) == {()}


def test_new_event_fills_id_time_and_data() -> None:
    payload = CreateWorkItem(type=WorkItemType.TASK, description="d")
    before = datetime.now(UTC)
    ev = new_event("workitem.create", payload, source="switchboard/test", subject="wi-1")
    assert uuid.UUID(ev.id).version == 4
    assert before <= ev.time <= datetime.now(UTC)
    assert ev.data == {
        "type": "task",
        "channel": "api",
        "priority": 5,
        "description": "d",
        "skills": [],
    }
    assert (ev.subject, ev.tenantid, ev.specversion) == ("wi-1", "default", "1.0")


def test_new_event_uses_given_attributes() -> None:
    at = datetime(2025, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    ev = new_event(
        "workitem.queued",
        WorkItemQueued(work_item_id="wi-1", queue="task"),
        source="switchboard/router",
        subject="wi-1",
        tenantid="acme",
        correlationid="corr-1",
        id="ev-9",
        time=at,
    )
    assert (ev.id, ev.tenantid, ev.correlationid) == ("ev-9", "acme", "corr-1")
    assert ev.time == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_new_event_rejects_bad_tenant() -> None:
    with pytest.raises(ValidationError):
        new_event(
            "t",
            WorkItemQueued(work_item_id="w", queue="q"),
            source="s",
            subject=None,
            tenantid="A!",
        )


def test_to_bytes_is_compact_json_without_nulls() -> None:
    ev = CloudEvent.model_validate(BASE)
    raw = to_bytes(ev)
    assert b": " not in raw
    assert b", " not in raw
    decoded = json.loads(raw)
    assert "subject" not in decoded
    assert "correlationid" not in decoded
    assert decoded["time"] == "2025-03-01T09:30:00Z"
    assert CloudEvent.model_validate(decoded) == ev
