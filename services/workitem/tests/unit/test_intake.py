"""Intake rules without brokers: ids, clock, event contents, conflicts (a recording store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from switchboard_schemas.envelope import CloudEvent, new_event
from switchboard_schemas.lifecycle import WorkItemCreated
from switchboard_schemas.workitem import CancelWorkItem, CreateWorkItem
from workitem.intake import SOURCE, IdempotencyConflict, Intake, RequestContext, fingerprint
from workitem.store import CreateOutcome, NewItem, StoredItem

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


class RecordingStore:
    """Stands in for Redis (intake's ItemStore port): remembers what it was asked to write."""

    def __init__(self, outcome: CreateOutcome = "created") -> None:
        self.outcome = outcome
        self.created: list[tuple[NewItem, str | None, bool]] = []
        self.cancels: list[dict[str, Any]] = []

    async def create(
        self, new: NewItem, request_key: str | None, request_ttl: int, *, emit: bool = True
    ) -> tuple[CreateOutcome, str]:
        self.created.append((new, request_key, emit))
        return self.outcome, new.work_item_id

    async def request_cancel(
        self,
        work_item_id: str,
        *,
        request_key: str,
        now: str,
        history_entry: str,
        event_json: str,
        topic: str,
        request_ttl: int,
    ) -> str:
        self.cancels.append(
            {"work_item_id": work_item_id, "request_key": request_key, "now": now}
            | {"history_entry": history_entry, "event_json": event_json, "topic": topic}
        )
        return "requested"

    async def get(self, work_item_id: str) -> StoredItem | None:
        return None


def intake_with(store: RecordingStore) -> Intake:
    return Intake(store, request_ttl=60, clock=lambda: NOW, new_id=lambda: "wi-generated")


CTX = RequestContext(tenant="default", correlation_id="corr-1", request_key="http:k1")


async def test_create_builds_the_created_event_from_the_clock_and_id_factory() -> None:
    store = RecordingStore()
    cmd = CreateWorkItem.model_validate({"type": "review", "priority": 2})

    result = await intake_with(store).create(cmd, CTX)

    [(new, request_key, emitted)] = store.created
    event = json.loads(new.event_json)
    assert result.work_item_id == "wi-generated"
    assert request_key == "http:k1"
    assert emitted
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


def created_by(source: str, wid: str = "cb-1-1") -> tuple[CloudEvent, WorkItemCreated]:
    item = WorkItemCreated.model_validate(
        {"work_item_id": wid, "type": "callback", "customer_phone": "+14155552671"}
        | {"created_at": NOW.isoformat(), "outbound": True}
    )
    event = new_event(item.TYPE, item, source=source, subject=wid, tenantid="default", id="e-1")
    return event, item


async def test_an_item_another_service_created_is_recorded_without_emitting_anything() -> None:
    store = RecordingStore()

    outcome = await intake_with(store).adopt(*created_by("switchboard/callback"))

    [(new, request_key, emitted)] = store.created
    assert outcome == "adopted"
    assert (new.work_item_id, request_key, emitted) == ("cb-1-1", None, False)
    assert new.fingerprint == "adopted|switchboard/callback"
    assert json.loads(new.history_entry)["event_id"] == "e-1"


async def test_an_item_seen_before_is_a_duplicate_and_this_services_own_is_left_alone() -> None:
    seen = RecordingStore("duplicate")
    own = RecordingStore()

    again = await intake_with(seen).adopt(*created_by("switchboard/callback"))
    ours = await intake_with(own).adopt(*created_by(SOURCE))

    assert again == "duplicate"
    assert ours == "own"
    assert own.created == []
