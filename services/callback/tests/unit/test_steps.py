"""The callback's steps as pure functions: records, events, deadlines and counters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from callback import steps
from callback.model import CallbackRecord, NewCallback, Source, Status
from callback.rules import RetryPolicy
from callback.transition import Transition, due_member, window_member

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)
POLICY = RetryPolicy(2, timedelta(minutes=5), frozenset({"no_answer", "busy"}))


def new(**changes: Any) -> NewCallback:
    values: dict[str, Any] = {
        "callback_id": "cb-1",
        "customer_phone": "+14155552671",
        "customer_name": "Ada",
        "reason": "Billing",
        "priority": 2,
        "queue": "callback",
        "sub_type": None,
        "channel": "phone",
        "skills": (),
        "due_at": NOW,
        "window_end": None,
        "source": Source.CALLBACK,
        "campaign_id": None,
        "correlation_id": "corr-1",
        "fingerprint": "f",
        **changes,
    }
    return NewCallback(**values)


def after(t: Transition) -> CallbackRecord:
    assert t.record is not None
    return t.record


def types(t: Transition) -> list[str]:
    return [emit.type for emit in t.emits]


def waiting(**changes: Any) -> CallbackRecord:
    return after(steps.create(new(**changes), NOW))


def test_an_asap_request_creates_its_first_item_in_the_same_step() -> None:
    t = steps.create(new(), NOW)

    record = after(t)
    assert (t.outcome, record.status) == ("created", Status.WAITING)
    assert types(t) == ["callback.scheduled", "workitem.created"]
    assert t.link_items == ("cb-1-1",)
    assert t.claim_phone
    assert not t.add_deadlines
    item = t.emits[1].payload.model_dump(mode="json", exclude_none=True)
    assert t.emits[1].key == "cb-1-1"
    assert item == {
        "work_item_id": "cb-1-1",
        "type": "callback",
        "channel": "phone",
        "priority": 2,
        "queue": "callback",
        "skills": [],
        "customer_phone": "+14155552671",
        "customer_name": "Ada",
        "reason": "Billing",
        "attributes": {"callback_id": "cb-1", "attempt": "1", "source": "callback"},
        "created_at": "2026-11-27T09:30:00Z",
        "outbound": True,
    }


def test_a_scheduled_request_waits_for_its_due_time_and_window() -> None:
    t = steps.create(new(due_at=LATER, window_end=LATER + timedelta(hours=1)), NOW)

    assert after(t).status is Status.SCHEDULED
    assert types(t) == ["callback.scheduled"]
    assert dict(t.add_deadlines) == {
        window_member("cb-1"): LATER + timedelta(hours=1),
        due_member("cb-1", 1): LATER,
    }


def test_the_due_time_creates_the_item_unless_stale_or_past_the_window() -> None:
    scheduled = after(steps.create(new(due_at=LATER, window_end=LATER + timedelta(hours=1)), NOW))

    assert types(steps.on_due(scheduled, 1, LATER)) == ["workitem.created"]
    assert steps.on_due(scheduled, 2, LATER).outcome == "stale"
    late = steps.on_due(scheduled, 1, LATER + timedelta(hours=2))
    assert (late.outcome, types(late)) == ("missed", ["callback.missed"])
    assert steps.on_due(waiting(), 1, LATER).outcome == "stale"


def test_the_window_end_misses_only_what_was_not_dialed() -> None:
    scheduled = after(steps.create(new(due_at=LATER, window_end=LATER), NOW))
    dialed = after(steps.on_dialed(waiting(), "cb-1-1", "agent-1", NOW, NOW))

    assert types(steps.on_window_end(scheduled, LATER)) == ["callback.missed"]
    missed = steps.on_window_end(waiting(), LATER)
    assert types(missed) == ["callback.missed", "workitem.cancel_requested"]
    assert missed.emits[1].key == "cb-1-1"
    assert missed.release_phone
    assert set(missed.remove_deadlines) == {due_member("cb-1", 1), window_member("cb-1")}
    assert steps.on_window_end(dialed, LATER).outcome == "stale"


def test_dialed_then_completed_with_a_retry_code_schedules_the_next_attempt() -> None:
    dialed = steps.on_dialed(waiting(), "cb-1-1", "agent-1", NOW, NOW)
    retry = steps.on_completed(after(dialed), "cb-1-1", "agent-1", "busy", LATER, LATER, POLICY)

    assert after(dialed).status is Status.IN_PROGRESS
    record = after(retry)
    assert (retry.outcome, record.status) == ("retry_scheduled", Status.SCHEDULED)
    first, second = record.attempts
    assert (first.disposition_code, first.result, first.ended_at) == ("busy", "retry", LATER)
    assert (second.attempt, second.scheduled_at) == (2, LATER + timedelta(minutes=5))
    assert retry.add_deadlines == ((due_member("cb-1", 2), LATER + timedelta(minutes=5)),)
    data = retry.emits[0].payload.model_dump(mode="json", exclude_none=True)
    assert data == {
        "callback_id": "cb-1",
        "attempt": 2,
        "reason": "busy",
        "scheduled_at": "2026-11-27T09:45:00Z",
    }


def test_the_last_attempt_fails_and_a_connected_call_completes() -> None:
    second = after(
        steps.on_due(
            after(steps.on_completed(waiting(), "cb-1-1", "a", "no_answer", NOW, NOW, POLICY)),
            2,
            LATER,
        )
    )
    failed = steps.on_completed(second, "cb-1-2", "a", "no_answer", LATER, LATER, POLICY)
    done = steps.on_completed(waiting(), "cb-1-1", "a", "connected", NOW, NOW, POLICY)

    assert (after(failed).status, after(failed).close_reason) == ("failed", "attempts_exhausted")
    assert (after(done).status, after(done).close_reason) == ("completed", "connected")
    assert types(done) == ["callback.completed"]  # the item is closed: nothing to cancel
    assert done.release_phone


def test_cancel_asks_to_cancel_a_live_item_only() -> None:
    scheduled = after(steps.create(new(due_at=LATER), NOW))

    assert types(steps.cancel(scheduled, None, NOW)) == ["callback.cancelled"]
    live = steps.cancel(waiting(), "customer called in", NOW)
    assert types(live) == ["callback.cancelled", "workitem.cancel_requested"]
    assert after(live).close_reason == "customer called in"
    assert steps.cancel(after(live), None, NOW).outcome == "closed"


def test_late_item_events_only_fill_in_the_attempt_of_a_closed_callback() -> None:
    cancelled = after(steps.cancel(waiting(), None, NOW))

    ended = steps.on_item_cancelled(cancelled, "cb-1-1", "callback_cancelled", LATER, LATER)
    assert (ended.outcome, after(ended).status) == ("recorded", Status.CANCELLED)
    assert after(ended).attempts[0].ended_at == LATER
    assert not ended.emits
    late = steps.on_completed(cancelled, "cb-1-1", "a", "no_answer", LATER, LATER, POLICY)
    assert (late.outcome, after(late).attempts[0].disposition_code) == ("recorded", "no_answer")
    assert steps.on_dialed(cancelled, "other-1", "a", NOW, NOW).outcome == "stale"


def test_an_item_cancelled_upstream_closes_the_callback() -> None:
    t = steps.on_item_cancelled(waiting(), "cb-1-1", None, NOW, NOW)

    assert (after(t).status, after(t).close_reason) == ("cancelled", "workitem_cancelled")
    assert types(t) == ["callback.cancelled"]


def test_a_merge_updates_reason_and_window_only() -> None:
    t = steps.merge(waiting(), new(reason="Again", window_end=LATER, customer_name="X"), NOW)

    record = after(t)
    assert (record.reason, record.window_end, record.customer_name) == ("Again", LATER, "Ada")
    assert t.add_deadlines == ((window_member("cb-1"), LATER),)
    assert not t.emits
    assert not t.claim_phone


def test_campaign_callbacks_move_their_campaign_counters() -> None:
    created = steps.create(new(campaign_id="camp", source=Source.PROGRESSIVE_DIAL), NOW)
    record = after(created)
    dialed = steps.on_dialed(record, "cb-1-1", "a", NOW, NOW)
    merged = steps.merge(record, new(campaign_id="camp"), NOW)

    assert sorted(created.counters) == sorted(
        [
            ("camp", "scheduled", 1),
            ("camp", "loaded", 1),
            ("camp", "waiting", 1),
            ("camp", "scheduled", -1),
        ]
    )
    assert sorted(dialed.counters) == [("camp", "in_progress", 1), ("camp", "waiting", -1)]
    assert merged.counters == (("camp", "merged", 1),)
    attributes = created.emits[1].payload.model_dump()["attributes"]
    assert attributes == {
        "callback_id": "cb-1",
        "attempt": "1",
        "source": "progressive_dial",
        "campaign_id": "camp",
    }


def test_a_dial_outcome_is_noted_on_its_attempt() -> None:
    t = steps.record_outcome(waiting(), "cb-1-1", "no_answer", "dialer", NOW)

    assert after(t).attempts[0].outcome == "no_answer"
    assert steps.record_outcome(waiting(), "cb-1-9", "x", None, NOW).outcome == (
        "unknown_work_item"
    )
