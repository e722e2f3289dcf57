"""The named arguments of the commit script (lua/commit.lua), built from a Commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from callback import steps
from callback.model import NewCallback, Source
from callback.rules import RetryPolicy
from callback.store import CallbackStore, Commit, deadline_score
from callback.transition import due_member, window_member
from redis.asyncio import Redis
from switchboard_runtime.atomic import FixedGeneration
from switchboard_runtime.redis_keys import Keys

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
RETENTION_S = 1234
POLICY = RetryPolicy(2, timedelta(minutes=5), frozenset({"no_answer"}))


def store(partition: int | None = None) -> CallbackStore:
    keys = Keys("t")
    return CallbackStore(
        Redis(),  # never connected: building the arguments reads nothing
        keys,
        FixedGeneration(keys.generation(), "init:g"),
        retention_seconds=RETENTION_S,
        partition_of=lambda _callback_id: partition,
    )


def new(**changes: Any) -> NewCallback:
    values: dict[str, Any] = {
        "callback_id": "cb-1",
        "customer_phone": "+14155552671",
        "customer_name": None,
        "reason": None,
        "priority": 2,
        "queue": "callback",
        "sub_type": None,
        "channel": "phone",
        "skills": (),
        "due_at": NOW,
        "window_end": None,
        "source": Source.CALLBACK,
        "campaign_id": None,
        "correlation_id": None,
        "fingerprint": "f",
        **changes,
    }
    return NewCallback(**values)


def nulls(value: Any, at: str = "A") -> list[str]:
    """Where ``value`` holds a None (JSON null, which is truthy in Lua)."""
    if value is None:
        return [at]
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in nulls(v, f"{at}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in nulls(v, f"{at}[{i}]")]
    return []


def test_a_new_callback_claims_its_number_and_has_no_retention() -> None:
    later = NOW + timedelta(hours=1)
    t = steps.create(new(due_at=later, window_end=later, campaign_id="camp-1"), NOW)
    commit = Commit("cb-1", "", t, phone_guard="", request=("rk", "created:cb-1", 60))

    args = store().commit_args(commit)

    assert nulls(args) == []
    assert "partition" not in args
    assert args["phone"] == {
        "queue": "callback",
        "phone": "+14155552671",
        "guard": "",
        "claim": True,
        "release": False,
    }
    assert args["request"] == {"key": "rk", "answer": "created:cb-1", "ttl": 60}
    assert args["campaign_member"] == "camp-1"
    assert args["add_deadlines"] == [
        [window_member("cb-1"), str(deadline_score(later))],
        [due_member("cb-1", 1), str(deadline_score(later))],
    ]
    assert "retain" not in args


def test_a_closed_callback_retains_its_record_and_every_item_link() -> None:
    first = steps.create(new(), NOW).record
    assert first is not None
    retried = steps.on_completed(first, "cb-1-1", "ag", "no_answer", NOW, NOW, POLICY).record
    assert retried is not None
    second = steps.on_due(retried, 2, NOW).record
    assert second is not None
    t = steps.on_completed(second, "cb-1-2", "ag", "no_answer", NOW, NOW, POLICY)
    commit = Commit("cb-1", "4", t, seen=("src|id", 60), claim=("due|cb-1|2", None))

    args = store(partition=2).commit_args(commit)

    assert nulls(args) == []
    assert args["retain"] == {"ttl": RETENTION_S, "items": ["cb-1-1", "cb-1-2"]}
    assert args["partition"] == 2
    assert args["claim"] == {"member": "due|cb-1|2"}
    assert args["seen"] == {"event_key": "src|id", "ttl": 60}
    assert args["phone"]["release"] is True
    assert "guard" not in args["phone"]
    assert args["remove_deadlines"] == [due_member("cb-1", 2), window_member("cb-1")]


def test_an_unchanged_record_sends_no_record_arguments() -> None:
    record = steps.create(new(), NOW).record
    assert record is not None
    t = steps.on_due(record, 9, NOW)  # not its attempt: stale
    args = store().commit_args(Commit("cb-1", "1", t, claim=("due|cb-1|9", 0)))

    assert t.record is None
    assert not {"doc", "phone", "campaign_member", "retain"} & set(args)
    assert args["claim"] == {"member": "due|cb-1|9", "partition": 0}
