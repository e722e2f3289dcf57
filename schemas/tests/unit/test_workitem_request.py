"""What the intake takes: every type but callback, refused on ``type`` alone; the work
item record (what the callback service publishes) still holds callbacks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from switchboard_schemas.enums import WorkItemType
from switchboard_schemas.lifecycle import WorkItemCreated
from switchboard_schemas.workitem_request import TAKEN_TYPES, WorkItemRequest

REGION = {"default_region": "US"}


def errors(data: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        WorkItemRequest.model_validate(data, context=REGION)
    return {tuple(e["loc"]): e["msg"] for e in caught.value.errors()}


@pytest.mark.parametrize("item_type", TAKEN_TYPES)
def test_every_other_type_is_taken(item_type: WorkItemType) -> None:
    assert WorkItemRequest.model_validate({"type": item_type}).type is item_type


@pytest.mark.parametrize(
    "data",
    [
        {"type": "callback", "customer_phone": "+14155552671", "reason": "Invoice"},
        {"type": "callback"},
        {"type": "callback", "customer_phone": "call me", "description": "x"},
    ],
)
def test_a_callback_is_refused_on_type_alone(data: dict[str, Any]) -> None:
    found = errors(data)

    assert list(found) == [("type",)]
    assert "POST /v1/callbacks" in found[("type",)]


def test_the_published_schema_takes_no_callback() -> None:
    schema = WorkItemRequest.model_json_schema()

    assert schema["properties"]["type"]["enum"] == [t.value for t in TAKEN_TYPES]
    assert "callback" not in schema["properties"]["type"]["enum"]
    assert not {"customer_phone", "customer_name", "reason"} & set(schema["properties"])
    for example in schema["examples"]:
        WorkItemRequest.model_validate(example)


def test_the_callback_services_items_are_still_work_items() -> None:
    item = WorkItemCreated.model_validate(
        {
            "work_item_id": "cb-7-1",
            "type": "callback",
            "customer_phone": "+14155552671",
            "created_at": datetime.now(UTC).isoformat(),
            "outbound": True,
        }
    )

    assert item.type is WorkItemType.CALLBACK
