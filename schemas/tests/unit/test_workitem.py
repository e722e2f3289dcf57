"""CreateWorkItem / WorkItem validation rules (the Create Task form)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError
from switchboard_schemas import (
    CancelWorkItem,
    Channel,
    CreateWorkItem,
    Priority,
    WorkItem,
    WorkItemCreated,
    WorkItemType,
)

Loc = tuple[int | str, ...]
CALLBACK = {"type": "callback", "customer_phone": "+14155552671"}


def errors_of(data: dict[str, Any], region: str | None = None) -> dict[Loc, str]:
    with pytest.raises(ValidationError) as info:
        CreateWorkItem.model_validate(data, context={"default_region": region})
    return {tuple(e["loc"]): e["msg"] for e in info.value.errors()}


def create(data: dict[str, Any], region: str | None = None) -> CreateWorkItem:
    return CreateWorkItem.model_validate(data, context={"default_region": region})


@pytest.mark.parametrize("value", [1, 2, 3, 5, 8])
def test_each_valid_priority_is_accepted(value: int) -> None:
    item = create({"type": "task", "priority": value})
    assert item.priority == value
    assert isinstance(item.priority, Priority)


def test_priority_defaults_to_normal() -> None:
    assert create({"type": "task"}).priority is Priority.NORMAL


@pytest.mark.parametrize("value", [0, 4, 6, 7, 9, -1, 10, True, False, "high", "5", 5.0, None])
def test_each_invalid_priority_is_rejected_at_priority(value: object) -> None:
    errors = errors_of({"type": "task", "priority": value})
    assert list(errors) == [("priority",)]
    assert "1 (Critical), 2 (High), 3 (Medium), 5 (Normal), 8 (Low)" in errors[("priority",)]


def test_priority_from_json_is_validated_too() -> None:
    with pytest.raises(ValidationError) as info:
        CreateWorkItem.model_validate_json('{"type": "task", "priority": 4}')
    assert [e["loc"] for e in info.value.errors()] == [("priority",)]
    ok = CreateWorkItem.model_validate_json('{"type": "task", "priority": 8}')
    assert ok.priority is Priority.LOW


@pytest.mark.parametrize("item_type", [t for t in WorkItemType if t is not WorkItemType.CALLBACK])
def test_each_non_callback_type_is_accepted(item_type: WorkItemType) -> None:
    assert create({"type": item_type.value, "description": "d"}).type is item_type


def test_callback_type_is_accepted_with_phone() -> None:
    assert create(CALLBACK).type is WorkItemType.CALLBACK


@pytest.mark.parametrize("value", ["sms", "TASK", "", 3, None])
def test_unknown_type_is_rejected_at_type(value: object) -> None:
    assert list(errors_of({"type": value})) == [("type",)]


def test_type_is_required() -> None:
    assert list(errors_of({"description": "d"})) == [("type",)]


@pytest.mark.parametrize("channel", list(Channel))
def test_each_channel_is_accepted(channel: Channel) -> None:
    assert create({"type": "task", "channel": channel.value}).channel is channel


def test_channel_defaults_to_api() -> None:
    assert create({"type": "task"}).channel is Channel.API


@pytest.mark.parametrize("value", ["walk-in", "sms", "API"])
def test_unknown_channel_is_rejected_at_channel(value: str) -> None:
    assert list(errors_of({"type": "task", "channel": value})) == [("channel",)]


def test_sub_type_up_to_64_chars() -> None:
    assert create({"type": "task", "sub_type": "s" * 64}).sub_type == "s" * 64
    assert list(errors_of({"type": "task", "sub_type": "s" * 65})) == [("sub_type",)]


@pytest.mark.parametrize("field", ["sub_type", "description", "queue"])
def test_blank_optional_text_counts_as_absent(field: str) -> None:
    assert getattr(create({"type": "task", field: "  "}), field) is None


def test_description_is_forbidden_on_callback() -> None:
    errors = errors_of({**CALLBACK, "description": "call back"})
    assert list(errors) == [("description",)]
    assert "use reason for callbacks" in errors[("description",)]


def test_blank_description_on_callback_is_ignored() -> None:
    assert create({**CALLBACK, "description": ""}).description is None


def test_description_bound() -> None:
    assert len(create({"type": "task", "description": "d" * 4000}).description or "") == 4000
    assert list(errors_of({"type": "task", "description": "d" * 4001})) == [("description",)]


def test_due_at_must_be_timezone_aware() -> None:
    assert list(errors_of({"type": "task", "due_at": "2025-03-01T17:00:00"})) == [("due_at",)]
    naive = datetime(2025, 3, 1, 17, 0)
    assert list(errors_of({"type": "task", "due_at": naive})) == [("due_at",)]


def test_aware_due_at_is_kept_in_utc() -> None:
    item = create({"type": "task", "due_at": "2025-03-01T19:00:00+02:00"})
    assert item.due_at == datetime(2025, 3, 1, 17, 0, tzinfo=UTC)
    assert item.due_at is not None
    assert item.due_at.utcoffset() == timedelta(0)
    assert item.model_dump(mode="json")["due_at"] == "2025-03-01T17:00:00Z"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(415) 555-2671", "US", "+14155552671"),
    ],
)
def test_callback_phone_is_normalised(raw: str, region: str | None, expected: str) -> None:
    item = create({"type": "callback", "customer_phone": raw}, region)
    assert item.customer_phone == expected


@pytest.mark.parametrize(
    ("data", "region", "message"),
    [
        ({"type": "callback"}, "US", "required"),
        ({"type": "callback", "customer_phone": None}, "US", "required"),
        ({"type": "callback", "customer_phone": ""}, "US", "required"),
        ({"type": "callback", "customer_phone": "call me maybe"}, "US", "letters"),
        ({"type": "callback", "customer_phone": "020 7946 0958"}, None, "default region"),
        ({"type": "callback", "customer_phone": "+1" + "5" * 35}, None, "too long"),
        ({"type": "callback", "customer_phone": "+1" + "5" * 70}, None, "64"),
        ({"type": "callback", "customer_phone": "+1 123"}, None, "not a valid phone number"),
    ],
)
def test_bad_callback_phone_is_rejected_at_customer_phone(
    data: dict[str, Any], region: str | None, message: str
) -> None:
    errors = errors_of(data, region)
    assert list(errors) == [("customer_phone",)]
    assert message in errors[("customer_phone",)]


def test_national_phone_without_any_context_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        CreateWorkItem.model_validate({"type": "callback", "customer_phone": "020 7946 0958"})
    assert [e["loc"] for e in info.value.errors()] == [("customer_phone",)]


def test_callback_name_and_reason_are_kept() -> None:
    item = create({**CALLBACK, "customer_name": "Ada", "reason": "invoice"})
    assert (item.customer_name, item.reason) == ("Ada", "invoice")


@pytest.mark.parametrize(
    ("field", "value"),
    [("customer_phone", "+14155552671"), ("customer_name", "Ada"), ("reason", "invoice")],
)
@pytest.mark.parametrize("item_type", ["task", "chat", "email"])
def test_callback_fields_rejected_on_other_types(item_type: str, field: str, value: str) -> None:
    errors = errors_of({"type": item_type, field: value})
    assert list(errors) == [(field,)]
    assert "only allowed when type is callback" in errors[(field,)]


@pytest.mark.parametrize("field", ["customer_phone", "customer_name", "reason"])
def test_blank_callback_fields_on_task_are_ignored(field: str) -> None:
    assert getattr(create({"type": "task", field: ""}), field) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customer_name", "n" * 201),
        ("reason", "r" * 2001),
        ("work_item_id", "w" * 129),
        ("work_item_id", "-starts-with-dash"),
        ("work_item_id", "has space"),
        ("queue", "Task"),
        ("queue", "q" * 65),
        ("skills", ["s"] * 33),
        ("skills", ["s" * 65]),
        ("skills", [""]),
        ("attributes", {f"k{i}": "v" for i in range(21)}),
        ("attributes", {"k" * 65: "v"}),
        ("attributes", {"k": "v" * 513}),
        ("channel", None),
    ],
)
def test_oversized_or_malformed_values_are_rejected(field: str, value: object) -> None:
    errors = errors_of({**CALLBACK, field: value})
    assert errors
    assert {loc[0] for loc in errors} == {field}


def test_upper_bounds_are_inclusive() -> None:
    item = create(
        {
            "type": "task",
            "work_item_id": "w" * 128,
            "queue": "q" * 64,
            "skills": ["s" * 64] * 32,
            "attributes": {f"k{i}": "v" * 512 for i in range(20)},
        }
    )
    assert len(item.skills) == 32
    assert item.attributes is not None
    assert len(item.attributes) == 20


def test_unknown_fields_are_rejected() -> None:
    assert list(errors_of({"type": "task", "colour": "blue"})) == [("colour",)]


def test_multiple_bad_fields_are_reported_together() -> None:
    errors = errors_of(
        {
            "type": "callback",
            "priority": 4,
            "channel": "fax",
            "description": "x",
            "due_at": "2025-03-01T17:00:00",
            "customer_phone": "abc",
            "sub_type": "s" * 65,
        }
    )
    assert set(errors) == {
        ("priority",),
        ("channel",),
        ("description",),
        ("due_at",),
        ("customer_phone",),
        ("sub_type",),
    }


def test_model_is_frozen() -> None:
    item = create({"type": "task"})
    with pytest.raises(ValidationError):
        item.priority = Priority.LOW  # type: ignore[misc]


def test_work_item_from_create_copies_fields() -> None:
    cmd = create({"type": "task", "priority": 2, "description": "d", "skills": ["billing"]})
    at = datetime(2025, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    record = WorkItem.from_create(cmd, "wi-1", at)
    assert record.work_item_id == "wi-1"
    assert record.created_at == at
    assert record.created_at.tzinfo is UTC
    assert (record.type, record.priority, record.description) == (
        WorkItemType.TASK,
        Priority.HIGH,
        "d",
    )
    assert record.skills == ["billing"]
    assert record.outbound is False


def test_callback_record_is_outbound_by_default() -> None:
    at = datetime(2025, 3, 1, tzinfo=UTC)
    record = WorkItemCreated.from_create(create(CALLBACK), "cb-1", at)
    assert isinstance(record, WorkItemCreated)
    assert record.outbound is True
    assert record.customer_phone == "+14155552671"
    assert WorkItem.from_create(create(CALLBACK), "cb-1", at, outbound=False).outbound is False


def test_work_item_requires_id_and_created_at() -> None:
    with pytest.raises(ValidationError) as info:
        WorkItem.model_validate({"type": "task"})
    assert {e["loc"] for e in info.value.errors()} == {("work_item_id",), ("created_at",)}


def test_cancel_work_item() -> None:
    assert CancelWorkItem(work_item_id="wi-1").reason is None
    with pytest.raises(ValidationError) as info:
        CancelWorkItem.model_validate({"work_item_id": "wi-1", "reason": "r" * 501})
    assert [e["loc"] for e in info.value.errors()] == [("reason",)]
