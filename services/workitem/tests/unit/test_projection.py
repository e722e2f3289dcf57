"""The projection's rules without brokers: what each lifecycle event writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.lifecycle import WorkItemArchived
from switchboard_schemas.registry import WORKITEM_EVENT_MODELS
from workitem.projection import (
    APPLY_ATTEMPTS,
    STEPS,
    ApplyOutcome,
    Change,
    Projection,
    StaleRecordError,
)
from workitem.store import StoredItem

EVENT_TIME = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
CLOCK = EVENT_TIME + timedelta(seconds=2)
AGENT = "agent-7"
OFFER: dict[str, Any] = {"offer_id": "of-1", "agent_id": AGENT}
EXPIRES = {"expires_at": "2026-11-27T09:31:00Z"}


def stored(*steps: str, agent_id: str | None = AGENT) -> StoredItem:
    """A stored record of wi-1 whose history holds ``created`` and then ``steps``."""
    history = [
        {"event": f"workitem.{step}", "status": step, "at": "2026-11-27T09:00:00Z"}
        for step in ("created", *steps)
    ]
    return StoredItem(
        item={"work_item_id": "wi-1", "type": "task", "channel": "api", "priority": 5,
              "skills": [], "created_at": "2026-11-27T08:59:00Z", "outbound": False},
        status=steps[-1] if steps else "created",
        created_at="2026-11-27T08:59:00Z",
        updated_at="2026-11-27T09:00:00Z",
        cancel_requested_at=None,
        history=history,
        agent_id=agent_id,
    )  # fmt: skip


class RecordingStore:
    """Answers ``outcomes`` in turn (then the last one again); ``reads`` likewise."""

    def __init__(self, *outcomes: ApplyOutcome, reads: tuple[StoredItem, ...] = ()) -> None:
        self.outcomes: list[ApplyOutcome] = [*outcomes] or ["applied"]
        self.reads = [*reads] or [stored("wrap_up")]
        self.changes: list[tuple[Change, int]] = []
        self.gets: list[str] = []

    async def get(self, work_item_id: str) -> StoredItem | None:
        self.gets.append(work_item_id)
        return self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]

    async def apply(self, change: Change, seen_ttl: int) -> ApplyOutcome:
        self.changes.append((change, seen_ttl))
        return self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]


def event(ce_type: str, **data: Any) -> tuple[CloudEvent, Any]:
    envelope = CloudEvent.model_validate(
        {
            "specversion": "1.0",
            "id": "n1-1",
            "source": "switchboard/router",
            "type": f"workitem.{ce_type}",
            "time": EVENT_TIME,
            "subject": "wi-1",
            "correlationid": "corr-1",
            "data": {"work_item_id": "wi-1", **data},
        }
    )
    payload = WORKITEM_EVENT_MODELS[envelope.type].model_validate(envelope.data)
    return envelope, payload


def change(ce_type: str, record: StoredItem | None = None, **data: Any) -> Change:
    projection = Projection(RecordingStore(), seen_ttl=60, clock=lambda: CLOCK)
    return projection.change_for(*event(ce_type, **data), record)


def archived_of(result: Change) -> dict[str, Any]:
    """The ``workitem.archived`` a change queues, validated as its consumers would."""
    assert result.archived_event_json is not None
    published: dict[str, Any] = json.loads(result.archived_event_json)
    WorkItemArchived.model_validate(published["data"])
    return published


@pytest.mark.parametrize(
    ("ce_type", "data", "status", "inbox", "clears"),
    [
        ("queued", {"queue": "task"}, "queued", "leave", True),
        ("offer_rejected", OFFER, "queued", "leave", True),
        ("offer_expired", {**OFFER, **EXPIRES}, "queued", "leave", True),
        ("skipped", OFFER, "queued", "leave", True),
        ("offered", {**OFFER, **EXPIRES}, "offered", "enter", False),
        ("accepted", OFFER, "active", "stay", False),
        ("dialed", OFFER, "active", "stay", False),
        ("held", {"agent_id": AGENT}, "hold", "stay", False),
        ("resumed", {"agent_id": AGENT}, "active", "stay", False),
        ("wrapup_started", {"agent_id": AGENT, **EXPIRES}, "wrap_up", "stay", False),
        ("wrapup_expired", {"agent_id": AGENT}, "wrap_up", "stay", False),
    ],
)
def test_status_inbox_and_agent_per_event(
    ce_type: str, data: dict[str, Any], status: str, inbox: str, clears: bool
) -> None:
    result = change(ce_type, **data)

    assert result.fields["status"] == status
    assert result.fields["updated_at"] == "2026-11-27T09:30:00Z"
    assert (result.inbox, result.clear_agent) == (inbox, clears)
    assert ("agent_id" in result.fields) == ("agent_id" in data and not clears)
    assert result.event_key == "switchboard/router|n1-1"
    assert result.archived_event_json is None
    assert result.history_len is None  # checked only for closing events
    [entry] = [json.loads(e) for e in result.history]
    assert entry["event"] == f"workitem.{ce_type}"
    assert (entry["status"], entry["at"], entry["event_id"]) == (
        status,
        "2026-11-27T09:30:00Z",
        "n1-1",
    )
    assert entry.get("agent_id") == data.get("agent_id")


def test_every_lifecycle_type_is_handled_and_own_events_are_not() -> None:
    projection = Projection(RecordingStore(), seen_ttl=60)
    handled = set(projection.handlers())
    assert handled == set(STEPS)
    assert not handled & {"workitem.created", "workitem.cancel_requested", "workitem.archived"}


def test_completion_archives_with_disposition_and_a_stable_archived_event() -> None:
    done = {"agent_id": AGENT, "disposition_code": "resolved", "notes": "ok"}
    before = stored("queued", "offered", "active", "wrap_up")
    result = change("completed", before, **done)

    assert result.fields["status"] == "archived"
    assert result.inbox == "leave"
    assert result.fields["disposition_code"] == "resolved"
    assert result.fields["notes"] == "ok"
    assert result.fields["completed_at"] == "2026-11-27T09:30:00Z"
    assert result.fields["archived_at"] == result.fields["updated_at"] == "2026-11-27T09:30:02Z"
    assert result.history_len == 5
    completed, archived = [json.loads(e) for e in result.history]
    assert (completed["status"], completed["disposition_code"]) == ("completed", "resolved")
    assert archived["event"] == "workitem.archived"
    assert archived["status"] == "archived"
    published = archived_of(result)
    assert (
        published["id"]
        == archived["event_id"]
        == json.loads(change("completed", before, **done).history[1])["event_id"]
    )
    assert published["source"] == "switchboard/workitem"
    assert (published["subject"], published["correlationid"]) == ("wi-1", "corr-1")
    record = published["data"]["record"]
    assert published["data"]["work_item_id"] == record["work_item_id"] == "wi-1"
    assert (record["status"], record["disposition_code"], record["notes"]) == (
        "archived",
        "resolved",
        "ok",
    )
    assert (record["type"], record["created_at"]) == ("task", "2026-11-27T08:59:00Z")
    assert record["archived_at"] == record["updated_at"] == "2026-11-27T09:30:02Z"
    assert record["history"] == [*before.history, completed, archived]


def test_cancellation_archives_the_record_with_status_cancelled() -> None:
    before = stored("queued", "offered")
    result = change("cancelled", before, reason="dup")

    assert result.fields["status"] == "cancelled"
    assert (result.inbox, result.clear_agent) == ("leave", False)
    assert result.fields["cancelled_at"] == "2026-11-27T09:30:00Z"
    assert result.fields["archived_at"] == result.fields["updated_at"] == "2026-11-27T09:30:02Z"
    assert "disposition_code" not in result.fields
    assert result.history_len == 3
    cancelled, archived = [json.loads(e) for e in result.history]
    assert (cancelled["event"], cancelled["status"], cancelled["reason"]) == (
        "workitem.cancelled",
        "cancelled",
        "dup",
    )
    assert (archived["event"], archived["status"]) == ("workitem.archived", "cancelled")
    published = archived_of(result)
    assert published["id"] == archived["event_id"]
    record = published["data"]["record"]
    assert (record["status"], record["agent_id"]) == ("cancelled", AGENT)  # the last one
    assert record["archived_at"] == "2026-11-27T09:30:02Z"
    assert "disposition_code" not in record
    assert record["history"] == [*before.history, cancelled, archived]


def test_a_closing_event_without_a_record_archives_nothing_and_expects_none() -> None:
    result = change("cancelled", None, reason="dup")

    assert result.fields["status"] == "cancelled"
    assert result.archived_event_json is None
    assert result.history_len == -1  # the script: unknown, or stale if it exists now


async def test_only_closing_events_read_the_record_first() -> None:
    store = RecordingStore()
    projection = Projection(store, seen_ttl=60, clock=lambda: CLOCK)

    await projection.apply(*event("held", agent_id=AGENT))
    assert store.gets == []
    await projection.apply(*event("cancelled", reason="dup"))
    assert store.gets == ["wi-1"]


async def test_a_stale_record_is_read_again_and_the_event_carries_the_current_history() -> None:
    first = stored("queued", "offered")
    then = stored("queued", "offered", "cancel_requested")  # a cancel request came between
    store = RecordingStore("stale", "applied", reads=(first, then))
    projection = Projection(store, seen_ttl=60, clock=lambda: CLOCK)

    assert await projection.apply(*event("cancelled", reason="dup")) == "applied"

    (tried, _), (applied, _) = store.changes
    assert (tried.history_len, applied.history_len) == (3, 4)
    assert tried.event_key == applied.event_key
    record = archived_of(applied)["data"]["record"]
    entries = [json.loads(e) for e in applied.history]
    assert record["history"] == [*then.history, *entries]
    assert [h["event"] for h in record["history"]][-3:] == [
        "workitem.cancel_requested",
        "workitem.cancelled",
        "workitem.archived",
    ]


async def test_a_record_that_keeps_changing_gives_up_after_the_attempts() -> None:
    store = RecordingStore("stale")
    projection = Projection(store, seen_ttl=60, clock=lambda: CLOCK)

    with pytest.raises(StaleRecordError, match="wi-1"):
        await projection.apply(*event("completed", agent_id=AGENT, disposition_code="ok"))
    assert len(store.changes) == len(store.gets) == APPLY_ATTEMPTS


async def test_unknown_item_is_reported_as_such() -> None:
    store = RecordingStore("unknown")
    projection = Projection(store, seen_ttl=99)

    outcome = await projection.apply(*event("held", agent_id=AGENT))

    assert outcome == "unknown_work_item"
    assert store.changes[0][1] == 99
