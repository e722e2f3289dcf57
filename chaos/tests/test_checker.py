"""The invariant checker on hand-made event sequences: each count, red and green."""

from __future__ import annotations

import itertools
import json
from typing import Any

from chaos.checker import Known, check
from chaos.events import Rec

T = "t1"
_offsets = itertools.count()


def ev(ce_type: str, wid: str, at: int = 0, ident: str | None = None, **data: Any) -> Rec:
    """A ``workitem.events`` record of tenant T at second ``at`` of 2030-01-01."""
    event = {
        "id": ident or f"e{next(_offsets)}",
        "type": ce_type,
        "tenantid": T,
        "time": f"2030-01-01T00:00:{at:02d}.000Z",
        "data": {"work_item_id": wid, **data},
    }
    return Rec("workitem.events", 0, next(_offsets), wid, {}, event, json.dumps(event).encode())


def offered(wid: str, offer: str, agent: str = "a1", at: int = 0, expires: int = 30) -> Rec:
    expires_at = f"2030-01-01T00:00:{expires:02d}Z"
    return ev("workitem.offered", wid, at, offer_id=offer, agent_id=agent, expires_at=expires_at)


END_MS = 1_893_456_000_000 + 55_000  # 2030-01-01T00:00:55Z


def known(*accepted: str, **extra: Any) -> Known:
    return Known(T, accepted=set(accepted), end_ms=END_MS, **extra)


def happy(wid: str, agent: str = "a1", at: int = 0) -> list[Rec]:
    return [
        ev("workitem.created", wid, at),
        ev("workitem.queued", wid, at, queue="task"),
        offered(wid, f"of-{wid}", agent, at),
        ev("workitem.accepted", wid, at + 1, offer_id=f"of-{wid}", agent_id=agent),
        ev("workitem.wrapup_started", wid, at + 2, expires_at="2030-01-01T00:00:50Z"),
        ev("workitem.completed", wid, at + 3, agent_id=agent, disposition_code="ok"),
    ]


def test_a_clean_run_counts_nothing() -> None:
    records = happy("w1") + happy("w2", "a2")
    counts = check(records, known("w1", "w2", capacity={"a1": 1, "a2": 1}))
    assert counts.violations() == {}
    assert counts.completed == 2


def test_an_item_accepted_but_never_queued_is_lost() -> None:
    counts = check(happy("w1"), known("w1", "w2"))
    assert counts.lost == 1
    assert counts.examples["lost"] == ["w2"]


def test_another_tenants_events_do_not_count() -> None:
    other = [r for r in happy("w2")]
    for rec in other:
        assert rec.event is not None
        rec.event["tenantid"] = "someone-else"
    assert check(other, known("w2")).lost == 1


def test_a_second_offer_while_the_first_is_open_is_a_double_offer() -> None:
    records = [
        ev("workitem.queued", "w1"),
        offered("w1", "of-1", "a1"),
        offered("w1", "of-2", "a2"),
        ev("workitem.accepted", "w1", 1, offer_id="of-2", agent_id="a2"),
    ]
    assert check(records, known("w1")).double_offers == 1


def test_an_offer_after_a_rejection_is_not_a_double_offer() -> None:
    records = [
        ev("workitem.queued", "w1"),
        offered("w1", "of-1", "a1"),
        ev("workitem.offer_rejected", "w1", 1, offer_id="of-1", agent_id="a1"),
        offered("w1", "of-2", "a2", at=1),
        ev("workitem.offer_expired", "w1", 31, offer_id="of-2", agent_id="a2"),
        offered("w1", "of-3", "a1", at=32, expires=58),
    ]
    counts = check(records, known("w1", grace_ms=0))
    assert counts.double_offers == 0
    assert counts.deadlines_zero == 0  # of-3 is not due yet
    assert counts.expired == 1


def test_an_offer_expired_twice_counts_once_per_offer() -> None:
    records = [
        ev("workitem.queued", "w1"),
        offered("w1", "of-1"),
        ev("workitem.offer_expired", "w1", 30, offer_id="of-1", agent_id="a1"),
        ev("workitem.offer_expired", "w1", 31, offer_id="of-1", agent_id="a1"),
    ]
    assert check(records, known("w1")).deadlines_twice == 1


def test_a_redelivered_event_is_a_duplicate_not_a_second_expiry() -> None:
    expiry = ev("workitem.offer_expired", "w1", 30, ident="same", offer_id="of-1", agent_id="a1")
    records = [ev("workitem.queued", "w1"), offered("w1", "of-1"), expiry, expiry]
    counts = check(records, known("w1"))
    assert counts.deadlines_twice == 0
    assert counts.duplicates == 1


def test_an_offer_past_its_deadline_and_never_resolved_fired_zero_times() -> None:
    records = [ev("workitem.queued", "w1"), offered("w1", "of-1", expires=10)]
    assert check(records, known("w1")).deadlines_zero == 1


def test_a_wrapup_past_its_deadline_and_never_completed_fired_zero_times() -> None:
    records = happy("w1")[:-1]
    assert check(records, known("w1", grace_ms=0)).deadlines_zero == 1


def test_an_agent_holding_more_than_its_capacity_is_over_capacity() -> None:
    records = [
        *happy("w1", "a1", at=0)[:4],  # a1 holds w1 from second 0 on (accepted, open)
        ev("workitem.queued", "w2", 1),
        offered("w2", "of-w2", "a1", at=2),
    ]
    assert check(records, known("w1", "w2", capacity={"a1": 1})).over_capacity == 1
    assert check(records, known("w1", "w2", capacity={"a1": 2})).over_capacity == 0


def test_a_release_and_an_offer_at_the_same_time_is_not_over_capacity() -> None:
    records = [
        *happy("w1", "a1", at=0),  # completed at second 3
        ev("workitem.queued", "w2", 1),
        offered("w2", "of-w2", "a1", at=3),
    ]
    assert check(records, known("w1", "w2", capacity={"a1": 1})).over_capacity == 0


def test_redis_ahead_of_the_events_is_a_missing_event() -> None:
    records = happy("w1")[:4]  # events end at accepted: active
    assert check(records, known("w1", redis_status={"w1": "wrap_up"})).missing_events == 1
    assert check(records, known("w1", redis_status={"w1": "active"})).missing_events == 0


def test_a_closed_item_gone_from_redis_is_fine() -> None:
    counts = check(happy("w1"), known("w1", redis_status={"w1": None}))
    assert counts.missing_events == 0


def test_lag_that_never_drained_is_stuck() -> None:
    counts = check(happy("w1"), known("w1", lag={"t1-router": {"agent.commands:2": 7}}))
    assert counts.stuck == 1


def test_http_500s_must_be_zero_503s_are_counted() -> None:
    import collections  # noqa: PLC0415

    counts = check([], known(http=collections.Counter({201: 10, 503: 3, 500: 1})))
    assert (counts.http_5xx, counts.http_503, counts.http_500) == (4, 3, 1)
    assert counts.violations() == {"http_500": 1}


def test_poison_found_on_its_dlq_by_key_and_missing_otherwise() -> None:
    dead = Rec(
        "agent.commands.dlq",
        0,
        0,
        "p-1",
        {"sb-source-topic": "agent.commands", "sb-error": "not_json"},
        None,
        b"\xff",
    )
    counts = check([dead], known(poison={"agent.commands": {"p-1", "p-2"}}))
    assert counts.dead_letters == 1
    assert counts.poison_missing == 1
    assert counts.examples["poison_missing"] == ["agent.commands: p-2"]


def test_an_agent_seen_over_capacity_in_redis_counts_once() -> None:
    records = [*happy("w1", "a1", at=0)[:4], ev("workitem.queued", "w2", 1)]
    records.append(offered("w2", "of-w2", "a1", at=2))
    counts = check(records, known("w1", "w2", capacity={"a1": 1}, sampled_over={"a1": 2}))
    assert counts.over_capacity == 1
    sampled = known("w1", capacity={"a1": 1}, sampled_over={"a1": 2}, replay_capacity=False)
    assert check(records, sampled).over_capacity == 1


def test_an_excess_shorter_than_the_tolerance_is_replicas_crossing_not_over_capacity() -> None:
    records = [
        *happy("w1", "a1", at=0),  # completed at second 3
        ev("workitem.queued", "w2", 1),
        offered("w2", "of-w2", "a1", at=2),  # a replica's now, a second before the release
    ]
    assert check(records, known("w1", "w2", capacity={"a1": 1})).over_capacity == 1
    lenient = known("w1", "w2", capacity={"a1": 1}, tolerance_ms=1_500)
    assert check(records, lenient).over_capacity == 0


def on(topic: str, ce_type: str, ident: str, **data: Any) -> Rec:
    """A record of tenant T on ``topic``."""
    event = {"id": ident, "type": ce_type, "tenantid": T, "data": data}
    return Rec(topic, 0, next(_offsets), ident, {}, event, json.dumps(event).encode())


def test_a_command_the_desktop_took_but_kafka_never_got_is_lost() -> None:
    records = [on("agent.commands", "offer.accept", "c1", agent_id="a1")]
    counts = check(records, known(handed_on={"c1", "c2"}))
    assert counts.violations() == {"commands_lost": 1}
    assert "c2" in counts.examples["commands_lost"][0]


def test_an_offer_missing_from_its_agents_desktop_log_is_missed() -> None:
    records = [
        on("agent.events", "offer.made", "o1", agent_id="a1", offer_id="of-1"),
        on("agent.events", "offer.made", "o2", agent_id="a2", offer_id="of-2"),
    ]
    counts = check(records, known(desktop_logs={"a1": {"o1"}, "a2": {"o1"}}))
    assert counts.violations() == {"desktop_missed": 1}
    assert "a2" in counts.examples["desktop_missed"][0]
    assert check(records, known(desktop_logs={"a1": {"o1"}, "a2": {"o2"}})).violations() == {}


def test_an_offer_its_agents_stream_never_delivered_is_missed() -> None:
    """Scenario 1: the agents' streams through a gateway that is killed and restarted."""
    records = [
        on("agent.events", "offer.made", "o1", agent_id="a1", offer_id="of-1"),
        on("agent.events", "offer.made", "o2", agent_id="a1", offer_id="of-2"),
    ]
    logs = {"a1": {"o1", "o2"}}
    counts = check(records, known(desktop_logs=logs, stream_seen={"a1": {"o1"}}))
    assert counts.violations() == {"stream_missed": 1}
    assert "of-2" in counts.examples["stream_missed"][0]
    shown = {"a1": {"of-2"}}  # shown by a snapshot instead
    snapshot = known(desktop_logs=logs, stream_seen={"a1": {"o1"}}, stream_snapshot_offers=shown)
    assert check(records, snapshot).violations() == {}
