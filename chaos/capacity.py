"""Agents over capacity: replayed from the item events, and sampled in Redis."""

from __future__ import annotations

import collections

from chaos.counts import Counts, Known, ms
from chaos.events import Rec

RELEASES = {"workitem.offer_rejected", "workitem.offer_expired", "workitem.skipped"}
ENDS = {"workitem.completed", "workitem.cancelled"}


def over_capacity(items: dict[str, list[Rec]], known: Known, counts: Counts) -> None:
    """Agents over capacity in the event replay or in Redis samples, each agent once."""
    over = _replayed_over(items, known, counts) if known.replay_capacity else set()
    for agent, held in sorted(known.sampled_over.items()):
        if agent not in over:
            counts.note("over_capacity", f"{agent}: {held} items in Redis")


def _replayed_over(items: dict[str, list[Rec]], known: Known, counts: Counts) -> set[str]:
    """Replay each agent's holdings over the event times, releases first at a tie; an
    agent is over capacity when the excess lasts ``tolerance_ms`` or more (event times
    are each replica's ``now`` when it called the script: replicas' calls that cross in
    flight can swap a release and an offer by a few hundred milliseconds)."""
    held: collections.Counter[str] = collections.Counter()
    since: dict[str, tuple[int, str]] = {}  # agent -> (over since, which item)
    over: set[str] = set()
    for at, _, agent, delta, wid in sorted(_steps(items)):
        held[agent] += delta
        cap = known.capacity.get(agent, held[agent])
        if held[agent] > cap and agent not in since:
            since[agent] = (at, wid)
        elif held[agent] <= cap and agent in since:
            _lasted(agent, since.pop(agent), at, known, counts, over)
    for agent, start in since.items():
        _lasted(agent, start, known.end_ms, known, counts, over)
    return over


def _lasted(
    agent: str,
    start: tuple[int, str],
    until: int,
    known: Known,
    counts: Counts,
    over: set[str],
) -> None:
    if until - start[0] >= known.tolerance_ms and agent not in over:
        over.add(agent)
        what = f"{agent}: over capacity {known.capacity.get(agent)} from {start[0]}"
        counts.note("over_capacity", f"{what} for {until - start[0]} ms (offer of {start[1]})")


def _steps(items: dict[str, list[Rec]]) -> list[tuple[int, int, str, int, str]]:
    """(ms, 0 release / 1 take, agent, +1/-1, item) for every change of holder."""
    steps = []
    for wid, events in items.items():
        holder: str | None = None
        for rec in events:
            delta, agent = _holding(rec, holder)
            holder = agent if delta > 0 else (None if delta < 0 else holder)
            if delta and agent:
                at = ms(str((rec.event or {}).get("time")))
                steps.append((at, int(delta > 0), agent, delta, wid))
    return steps


def _holding(rec: Rec, holder: str | None) -> tuple[int, str | None]:
    """+1 when ``rec`` gives an agent the item, -1 when it takes it back from ``holder``."""
    if rec.type == "workitem.offered":
        return 1, str(rec.data.get("agent_id"))
    if holder is not None and (rec.type in RELEASES or rec.type in ENDS):
        return -1, holder
    return 0, holder
