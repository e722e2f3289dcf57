"""When a callback may be scheduled and when it is due, with a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from callback.callbacks import Callbacks
from callback.context import Policy, RequestContext, RequestRejected
from callback.rules import RetryPolicy, due_time
from callback.store import CallbackStore, Commit, Loaded
from callback.transition import due_member, window_member
from switchboard_schemas.callback import RequestCallback
from switchboard_schemas.callback_rules import request_errors

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
TOLERANCE = timedelta(seconds=5)
PHONE = "+14155552671"


def request(**fields: Any) -> RequestCallback:
    return RequestCallback.model_validate({"customer_phone": PHONE, **fields})


def fields_in_error(req: RequestCallback, now: datetime = NOW) -> list[str]:
    return [error.field for error in request_errors(req, now, TOLERANCE)]


def test_asap_and_future_requests_are_accepted() -> None:
    assert fields_in_error(request()) == []
    assert fields_in_error(request(scheduled_at=NOW + timedelta(hours=1))) == []
    assert fields_in_error(request(window_end=NOW + timedelta(seconds=1))) == []


def test_a_scheduled_at_in_the_past_is_refused_beyond_the_tolerance() -> None:
    assert fields_in_error(request(scheduled_at=NOW - timedelta(seconds=6))) == ["scheduled_at"]
    assert fields_in_error(request(scheduled_at=NOW - timedelta(seconds=5))) == []


def test_a_window_end_must_be_in_the_future() -> None:
    assert fields_in_error(request(window_end=NOW)) == ["window_end"]
    assert fields_in_error(request(window_end=NOW - timedelta(minutes=1))) == ["window_end"]


def test_a_window_end_before_the_schedule_is_refused_by_the_schema() -> None:
    with pytest.raises(ValueError, match="window_end must be after scheduled_at"):
        request(scheduled_at=NOW + timedelta(hours=2), window_end=NOW + timedelta(hours=1))


def test_a_too_long_callback_id_is_refused_since_its_work_item_ids_would_be() -> None:
    assert fields_in_error(request(callback_id="c" * 121)) == ["callback_id"]
    assert fields_in_error(request(callback_id="c" * 120)) == []


def test_the_due_time_is_the_schedule_or_now() -> None:
    assert due_time(None, NOW) == NOW
    assert due_time(NOW - timedelta(seconds=3), NOW) == NOW  # within the tolerance: now
    assert due_time(NOW + timedelta(minutes=5), NOW) == NOW + timedelta(minutes=5)


@dataclass
class RecordingStore:
    """Stands in for Redis: nothing exists yet; remembers the commits."""

    commits: list[Commit] = field(default_factory=list)

    async def request_answer(self, _key: str) -> None:
        return None

    async def load(self, _callback_id: str) -> Loaded:
        return Loaded(None)

    async def open_callback(self, _queue: str, _phone: str) -> None:
        return None

    async def commit(self, commit: Commit) -> str:
        self.commits.append(commit)
        return "applied"


def service(store: RecordingStore) -> Callbacks:
    policy = Policy(
        retry=RetryPolicy(3, timedelta(minutes=5), frozenset({"no_answer"})),
        default_queue="callback",
        tolerance=TOLERANCE,
        seen_ttl=60,
    )
    fake = cast(CallbackStore, store)
    return Callbacks(fake, policy, tenant="default", clock=lambda: NOW, new_id=lambda: "cb-1")


async def test_a_request_in_the_past_is_rejected_before_anything_is_written() -> None:
    store = RecordingStore()
    late = request(scheduled_at=NOW - timedelta(minutes=1))

    with pytest.raises(RequestRejected) as rejected:
        await service(store).request(late, RequestContext())

    assert [e.field for e in rejected.value.errors] == ["scheduled_at"]
    assert store.commits == []


async def test_a_command_is_judged_by_when_it_was_sent_and_is_then_due_at_once() -> None:
    store = RecordingStore()
    sent_at = NOW - timedelta(minutes=2)  # waited two minutes in Kafka
    req = request(scheduled_at=NOW - timedelta(minutes=1))

    result = await service(store).request(req, RequestContext(sent_at=sent_at))

    assert result.outcome == "created"
    assert result.record.status == "waiting"
    assert result.record.scheduled_at == NOW


async def test_a_scheduled_request_waits_for_its_deadline() -> None:
    store = RecordingStore()
    at = NOW + timedelta(minutes=30)
    req = request(scheduled_at=at, window_end=at + timedelta(hours=1))

    result = await service(store).request(req, RequestContext())

    assert result.record.status == "scheduled"
    [commit] = store.commits
    assert dict(commit.transition.add_deadlines) == {
        due_member("cb-1", 1): at,
        window_member("cb-1"): at + timedelta(hours=1),
    }
    assert [e.type for e in commit.transition.emits] == ["callback.scheduled"]
    assert (commit.version, commit.phone_guard) == ("", "")
