"""The invariant checker: what a scenario left on Kafka and in Redis, counted.

It is given every record of every topic (read from the beginning), what the load
driver knows (the items intake accepted, HTTP statuses, agents' capacities, the poison
records sent), Redis at the end and the consumer lag, and counts per scenario:

| count | what | must be zero |
|---|---|---|
| ``lost`` | accepted by intake (HTTP 2xx, Kafka ack) but never ``workitem.queued`` | yes |
| ``double_offers`` | a ``workitem.offered`` while the item's previous offer was open | yes |
| ``over_capacity`` | agents that held more offers + items than their capacity | yes |
| ``deadlines_zero`` | offers or wrap-ups past their deadline, never resolved | yes |
| ``deadlines_twice`` | offers or wrap-ups that expired more than once | yes |
| ``missing_events`` | items whose Redis status is not what their events say | yes |
| ``duplicates`` | an event (same CloudEvent id) published again (consumers de-dupe) | no |
| ``stuck`` | consumer partitions whose lag never drained | yes |
| ``http_5xx`` | HTTP answers 500..599 (``http_503``: of them, 503 "unavailable") | 500s: yes |
| ``poison_missing`` | poison records sent but not found on their DLQ | yes |
| ``commands_lost`` | commands the desktop gateway took (202) never on ``agent.commands`` | yes |
| ``desktop_missed`` | ``offer.made`` events missing from their agent's desktop log | yes |
| ``stream_missed`` | ``offer.made`` events that never reached their agent's open stream | yes |

Item events are replayed per item in partition order (all of an item's events are
keyed by its id, so on one partition). Capacity (``capacity.py``) is replayed per agent
over the router's event times (the script's ``now``) and sampled in Redis during the run.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

from switchboard_schemas.topics import AGENT_COMMANDS, AGENT_EVENTS, COMMAND_TOPICS, WORKITEM_EVENTS

from chaos.capacity import over_capacity
from chaos.counts import MUST_BE_ZERO, Counts, Known, ms
from chaos.events import Rec

__all__ = ["MUST_BE_ZERO", "Counts", "Known", "check", "dedupe", "per_item"]

# the Redis status each lifecycle event leaves the router's item in
STATUS_AFTER = {
    "workitem.queued": "queued",
    "workitem.offered": "offered",
    "workitem.offer_rejected": "queued",
    "workitem.offer_expired": "queued",
    "workitem.skipped": "queued",
    "workitem.accepted": "active",
    "workitem.dialed": "active",
    "workitem.held": "hold",
    "workitem.resumed": "active",
    "workitem.wrapup_started": "wrap_up",
    "workitem.completed": "completed",
    "workitem.cancelled": "cancelled",
}
CLOSES_OFFER = {
    "workitem.accepted",
    "workitem.dialed",
    "workitem.offer_rejected",
    "workitem.offer_expired",
    "workitem.skipped",
    "workitem.cancelled",
}
CLOSED = {"completed", "cancelled"}


def dedupe(records: Iterable[Rec], counts: Counts) -> list[Rec]:
    """The first delivery of each CloudEvent id per topic; counts the others."""
    seen: set[tuple[str, str]] = set()
    out = []
    for rec in records:
        ident = (rec.topic, str((rec.event or {}).get("id", f"@{rec.partition}:{rec.offset}")))
        if ident in seen:
            if rec.topic in COMMAND_TOPICS:
                counts.duplicate_commands += 1  # the load's own (scenario 10)
            else:
                counts.duplicates += 1
            continue
        seen.add(ident)
        out.append(rec)
    return out


def per_item(records: Iterable[Rec]) -> dict[str, list[Rec]]:
    """The tenant's ``workitem.events`` per item, in partition order."""
    items: dict[str, list[Rec]] = collections.defaultdict(list)
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    for rec in ordered:
        wid = rec.data.get("work_item_id")
        if rec.topic == WORKITEM_EVENTS and isinstance(wid, str):
            items[wid].append(rec)
    return items


def check(records: list[Rec], known: Known) -> Counts:
    """Every count of the table above for ``known.tenant``."""
    counts = Counts()
    _dead_letters(records, known, counts)
    mine = dedupe((r for r in records if r.tenant == known.tenant), counts)
    counts.types = dict(sorted(collections.Counter(r.type for r in mine).items()))
    items = per_item(mine)
    counts.items = len(known.accepted)
    _lost(items, known, counts)
    for wid, events in items.items():
        _offers(wid, events, known, counts)
        _wrapup(wid, events, known, counts)
        _redis(wid, events, known, counts)
    over_capacity(items, known, counts)
    _http(known, counts)
    _desktop(records, known, counts)
    for group, behind in known.lag.items():
        for where, n in behind.items():
            counts.note("stuck", f"{group} {where} behind by {n}")
    return counts


def _lost(items: dict[str, list[Rec]], known: Known, counts: Counts) -> None:
    for wid in sorted(known.accepted):
        if not any(r.type == "workitem.queued" for r in items.get(wid, [])):
            counts.note("lost", wid)
        if any(r.type == "workitem.completed" for r in items.get(wid, [])):
            counts.completed += 1


def _offers(wid: str, events: list[Rec], known: Known, counts: Counts) -> None:
    """Double offers, and each offer's deadline: expired at most once, and resolved."""
    open_offer: Rec | None = None
    expiries: collections.Counter[str] = collections.Counter()
    for rec in events:
        offer = str(rec.data.get("offer_id", ""))
        if rec.type == "workitem.offered":
            if open_offer is not None and open_offer.data.get("offer_id") != offer:
                counts.note("double_offers", f"{wid}: {open_offer.data['offer_id']} + {offer}")
            open_offer = rec
        elif rec.type in CLOSES_OFFER:
            open_offer = None
        if rec.type == "workitem.offer_expired":
            expiries[offer] += 1
    counts.expired += sum(expiries.values())
    for offer, n in expiries.items():
        if n > 1:
            counts.note("deadlines_twice", f"{wid}: offer {offer} expired {n} times")
    if open_offer is not None and _past(open_offer.data.get("expires_at"), known):
        counts.note("deadlines_zero", f"{wid}: offer {open_offer.data['offer_id']} never ended")


def _wrapup(wid: str, events: list[Rec], known: Known, counts: Counts) -> None:
    started = [r for r in events if r.type == "workitem.wrapup_started"]
    expired = sum(1 for r in events if r.type == "workitem.wrapup_expired")
    if expired > 1:
        counts.note("deadlines_twice", f"{wid}: wrap-up expired {expired} times")
    if not started or any(r.type in ("workitem.completed", "workitem.cancelled") for r in events):
        return
    if _past(started[-1].data.get("expires_at"), known):
        counts.note("deadlines_zero", f"{wid}: wrap-up never ended")


def _past(expires_at: Any, known: Known) -> bool:
    return isinstance(expires_at, str) and ms(expires_at) + known.grace_ms < known.end_ms


def _redis(wid: str, events: list[Rec], known: Known, counts: Counts) -> None:
    """The status the item's last event implies against the router's record in Redis."""
    if wid not in known.redis_status:
        return
    implied = None
    for rec in events:
        implied = STATUS_AFTER.get(rec.type, implied)
    actual = known.redis_status[wid]
    if actual is None and implied in CLOSED:
        return  # closed and gone (retention), or never read
    if actual != implied:
        counts.note("missing_events", f"{wid}: Redis says {actual}, events say {implied}")


def _http(known: Known, counts: Counts) -> None:
    for status, n in known.http.items():
        if status >= 500:
            counts.http_5xx += n
        if status == 503:
            counts.http_503 += n
        elif status >= 500:
            counts.http_500 += n
            counts.examples.setdefault("http_500", []).append(f"{n} x {status}")


def _dead_letters(records: list[Rec], known: Known, counts: Counts) -> None:
    """Poison records are raw bytes: found on their DLQ by key (the driver's ids)."""
    on_dlq: dict[str, set[str]] = collections.defaultdict(set)
    for rec in records:
        if rec.topic.endswith(".dlq"):
            on_dlq[rec.headers.get("sb-source-topic", rec.topic[:-4])].add(rec.key)
    for topic, keys in known.poison.items():
        found = keys & on_dlq.get(topic, set())
        counts.dead_letters += len(found)
        for key in sorted(keys - found):
            counts.note("poison_missing", f"{topic}: {key}")


def _desktop(records: list[Rec], known: Known, counts: Counts) -> None:
    """What went through the desktop gateway (scenario 1): every command it answered 202
    is on ``agent.commands`` (by CloudEvent id), and every ``offer.made`` to an agent is
    in that agent's desktop log, which its stream serves, and reached its open stream."""
    mine = [r for r in records if r.tenant == known.tenant]
    commands = {_id(r) for r in mine if r.topic == AGENT_COMMANDS}
    for ident in sorted(known.handed_on - commands):
        counts.note("commands_lost", f"command {ident} taken (202) but not on {AGENT_COMMANDS}")
    if known.desktop_logs is None:
        return
    for rec in mine:
        if rec.topic != AGENT_EVENTS or rec.type != "offer.made":
            continue
        agent = str(rec.data.get("agent_id"))
        if _id(rec) not in known.desktop_logs.get(agent, set()):
            counts.note("desktop_missed", f"{agent}: offer {rec.data.get('offer_id')}")
        if known.stream_seen is not None and not _on_stream(rec, agent, known):
            counts.note("stream_missed", f"{agent}: offer {rec.data.get('offer_id')}")


def _on_stream(rec: Rec, agent: str, known: Known) -> bool:
    """Whether the agent's stream delivered the offer, or a snapshot it was sent showed it."""
    assert known.stream_seen is not None
    if _id(rec) in known.stream_seen.get(agent, set()):
        return True
    return str(rec.data.get("offer_id")) in known.stream_snapshot_offers.get(agent, set())


def _id(rec: Rec) -> str:
    return str((rec.event or {}).get("id"))
