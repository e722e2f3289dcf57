"""The projection's rules without brokers: what each lifecycle event writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.registry import WORKITEM_EVENT_MODELS
from workitem.projection import STEPS, ApplyOutcome, Change, Projection

EVENT_TIME = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
CLOCK = EVENT_TIME + timedelta(seconds=2)
AGENT = "agent-7"
OFFER: dict[str, Any] = {"offer_id": "of-1", "agent_id": AGENT}
EXPIRES = {"expires_at": "2026-11-27T09:31:00Z"}


class RecordingStore:
    def __init__(self, outcome: ApplyOutcome = "applied") -> None:
        self.outcome = outcome
        self.changes: list[tuple[Change, int]] = []

    async def apply(self, change: Change, seen_ttl: int) -> ApplyOutcome:
        self.changes.append((change, seen_ttl))
        return self.outcome


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


def change(ce_type: str, **data: Any) -> Change:
    projection = Projection(RecordingStore(), seen_ttl=60, clock=lambda: CLOCK)
    return projection.change_for(*event(ce_type, **data))


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
        ("cancelled", {"reason": "dup"}, "cancelled", "leave", False),
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
    result = change("completed", **done)

    assert result.fields["status"] == "archived"
    assert result.inbox == "leave"
    assert result.fields["disposition_code"] == "resolved"
    assert result.fields["notes"] == "ok"
    assert result.fields["completed_at"] == "2026-11-27T09:30:00Z"
    assert result.fields["archived_at"] == result.fields["updated_at"] == "2026-11-27T09:30:02Z"
    completed, archived = [json.loads(e) for e in result.history]
    assert (completed["status"], completed["disposition_code"]) == ("completed", "resolved")
    assert archived["event"] == "workitem.archived"
    assert archived["status"] == "archived"
    assert result.archived_event_json is not None
    published = json.loads(result.archived_event_json)
    assert (
        published["id"]
        == archived["event_id"]
        == json.loads(change("completed", **done).history[1])["event_id"]
    )
    assert published["source"] == "switchboard/workitem"
    assert (published["subject"], published["correlationid"]) == ("wi-1", "corr-1")
    assert published["data"] == {"work_item_id": "wi-1"}


async def test_unknown_item_is_reported_as_such() -> None:
    store = RecordingStore("unknown")
    projection = Projection(store, seen_ttl=99)

    outcome = await projection.apply(*event("held", agent_id=AGENT))

    assert outcome == "unknown_work_item"
    assert store.changes[0][1] == 99
