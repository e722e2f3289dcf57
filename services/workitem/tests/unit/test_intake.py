"""Intake rules without brokers: ids, clock, event contents, conflicts (a recording store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from switchboard_schemas.workitem import CancelWorkItem, CreateWorkItem
from workitem.intake import IdempotencyConflict, Intake, RequestContext, fingerprint
from workitem.store import CreateOutcome, NewItem, WorkItemStore

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


class RecordingStore:
    """Stands in for Redis: remembers what intake asked it to write."""

    def __init__(self, outcome: CreateOutcome = "created") -> None:
        self.outcome = outcome
        self.created: list[tuple[NewItem, str | None]] = []
        self.cancels: list[dict[str, Any]] = []

    async def create(
        self, new: NewItem, request_key: str | None, request_ttl: int
    ) -> tuple[CreateOutcome, str]:
        self.created.append((new, request_key))
        return self.outcome, new.work_item_id

    async def request_cancel(self, work_item_id: str, **kwargs: Any) -> str:
        self.cancels.append({"work_item_id": work_item_id, **kwargs})
        return "requested"


def intake_with(store: RecordingStore) -> Intake:
    fake: WorkItemStore = store  # type: ignore[assignment]
    return Intake(fake, request_ttl=60, clock=lambda: NOW, new_id=lambda: "wi-generated")


CTX = RequestContext(tenant="default", correlation_id="corr-1", request_key="http:k1")


async def test_create_builds_the_created_event_from_the_clock_and_id_factory() -> None:
    store = RecordingStore()
    cmd = CreateWorkItem.model_validate({"type": "review", "priority": 2})

    result = await intake_with(store).create(cmd, CTX)

    [(new, request_key)] = store.created
    event = json.loads(new.event_json)
    assert result.work_item_id == "wi-generated"
    assert request_key == "http:k1"
    assert new.topic == "workitem.events"
    assert event["type"] == "workitem.created"
    assert event["subject"] == "wi-generated"
    assert event["time"] == "2026-11-27T09:30:00Z"
    assert event["correlationid"] == "corr-1"
    assert event["data"]["priority"] == 2
    assert json.loads(new.history_entry)["event_id"] == event["id"]


async def test_a_caller_supplied_id_is_kept() -> None:
    store = RecordingStore()
    cmd = CreateWorkItem.model_validate({"type": "task", "work_item_id": "up-7"})

    result = await intake_with(store).create(cmd, CTX)

    assert result.work_item_id == "up-7"


async def test_conflicting_reuse_raises() -> None:
    cmd = CreateWorkItem.model_validate({"type": "task"})

    with pytest.raises(IdempotencyConflict):
        await intake_with(RecordingStore("conflict")).create(cmd, CTX)


async def test_cancel_request_is_keyed_by_the_request() -> None:
    store = RecordingStore()

    await intake_with(store).request_cancel(CancelWorkItem(work_item_id="wi-1"), CTX)

    [call] = store.cancels
    assert call["request_key"] == "http:k1"
    assert json.loads(call["event_json"])["type"] == "workitem.cancel_requested"


def test_fingerprint_tells_a_retry_from_a_different_request() -> None:
    a = CreateWorkItem.model_validate({"type": "task", "description": "x", "priority": 3})
    same = CreateWorkItem.model_validate({"priority": 3, "description": "x", "type": "task"})
    other = CreateWorkItem.model_validate({"type": "task", "description": "x", "priority": 1})

    assert fingerprint(a) == fingerprint(same)
    assert fingerprint(a) != fingerprint(other)
