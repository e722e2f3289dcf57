"""Invariants of the router's Redis state and event stream, checked after every step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .deadline_sets import deadlines_due
from .routerkit import DEFAULT_DISPOSITION, OPEN, QUEUES, Event, Harness

KINDS = ("voice", "chat", "async")
COMMANDS = ("offer.accept", "offer.reject", "item.hold", "item.resume", "item.end", "item.complete")
OFFER_COMMANDS = ("offer.accept", "offer.reject")
# command -> (status it needs, what the script returns, the workitem event it emits)
OUTCOME = {
    "offer.accept": ("offered", "active", "workitem.accepted"),
    "offer.reject": ("offered", "queued", "workitem.offer_rejected"),
    "item.hold": ("active", "hold", "workitem.held"),
    "item.resume": ("hold", "active", "workitem.resumed"),
    "item.end": ("active hold", "wrap_up", "workitem.wrapup_started"),
    "item.complete": ("wrap_up", "completed", "workitem.completed"),
}
STATUS_OF_STEP = {"held": "hold"}  # path state -> router item status, where they differ
# The lifecycle (docs/architecture.md) as a path: the state after each workitem.* event,
# by the state before it.
PATH: dict[str, dict[str, str]] = {
    "new": {"queued": "queued"},
    "queued": {"offered": "offered", "cancelled": "cancelled"},
    "offered": {
        "accepted": "active",
        "offer_rejected": "queued",
        "offer_expired": "queued",
        "cancelled": "cancelled",
    },
    "active": {"held": "held", "wrapup_started": "wrap_up", "cancelled": "cancelled"},
    "held": {"resumed": "active", "wrapup_started": "wrap_up", "cancelled": "cancelled"},
    "wrap_up": {
        "completed": "completed",
        "wrapup_expired": "wrap_expired",
        "cancelled": "cancelled",
    },
    "wrap_expired": {"completed": "completed"},
    "completed": {},
    "cancelled": {},
}


@dataclass(frozen=True)
class ItemInfo:
    kind: str
    queue: str
    skills: frozenset[str]


@dataclass
class Snapshot:
    """The router's state of one tenant, for the known items and agents."""

    items: dict[str, dict[str, str]]
    rejected: dict[str, set[str]]
    agents: dict[str, dict[str, str]]
    agent_items: dict[str, set[str]]
    agent_queues: dict[str, set[str]]
    agent_skills: dict[str, set[str]]
    queues: dict[str, dict[str, list[tuple[str, float]]]]
    queue_agents: dict[str, dict[str, list[tuple[str, float]]]]
    deadlines: list[tuple[str, float]]
    # the partition whose set holds each deadline ('' for the single set)
    deadline_part: dict[str, str] = field(default_factory=dict)
    agents_by_status: dict[str, str] = field(default_factory=dict)  # the gauge's counts

    def used(self, agent: str, kind: str) -> int:
        return int(self.agents.get(agent, {}).get(f"used_{kind}", 0))

    def cap(self, agent: str, kind: str) -> int:
        return int(self.agents.get(agent, {}).get(f"cap_{kind}", 0))

    def could_take(self, agent: str, info: ItemInfo) -> bool:
        return (
            self.agents.get(agent, {}).get("status") == "available"
            and info.queue in self.agent_queues[agent]
            and info.skills <= self.agent_skills[agent]
            and self.used(agent, info.kind) < self.cap(agent, info.kind)
        )


async def snapshot(h: Harness, wids: list[str], agents: Iterable[str]) -> Snapshot:
    names = list(agents)
    k = h.keys
    async with h.redis.pipeline(transaction=False) as pipe:
        for w in wids:
            pipe.hgetall(k.router_item(w))
            pipe.smembers(k.item_rejected_by(w))
        for a in names:
            pipe.hgetall(k.agent(a))
            pipe.smembers(k.agent_items(a))
            pipe.smembers(k.agent_queues(a))
            pipe.smembers(k.agent_skills(a))
        for q in QUEUES:
            for kind in KINDS:
                pipe.zrange(k.queue(q, kind), 0, -1, withscores=True)
            for kind in KINDS:
                pipe.zrange(k.queue_agents(q, kind), 0, -1, withscores=True)
        pipe.hgetall(k.agents_by_status())
        r: list[Any] = await pipe.execute()
    deadlines = await deadlines_due(h.redis, h.keys)
    n, m = 2 * len(wids), 2 * len(wids) + 4 * len(names)
    return Snapshot(
        items=dict(zip(wids, r[0:n:2], strict=True)),
        rejected=dict(zip(wids, r[1:n:2], strict=True)),
        agents=dict(zip(names, r[n:m:4], strict=True)),
        agent_items=dict(zip(names, r[n + 1 : m : 4], strict=True)),
        agent_queues=dict(zip(names, r[n + 2 : m : 4], strict=True)),
        agent_skills=dict(zip(names, r[n + 3 : m : 4], strict=True)),
        queues={
            q: {kind: r[m + 6 * i + j] for j, kind in enumerate(KINDS)}
            for i, q in enumerate(QUEUES)
        },
        queue_agents={
            q: {kind: r[m + 6 * i + 3 + j] for j, kind in enumerate(KINDS)}
            for i, q in enumerate(QUEUES)
        },
        deadlines=[(member, due) for member, due, _ in deadlines],
        deadline_part={m: "" if p is None else str(p) for m, _, p in deadlines},
        agents_by_status=r[-1],
    )


@dataclass
class Checker:
    """What the tests know besides Redis: item kinds, event paths, missed offers."""

    items: dict[str, ItemInfo] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    missed: set[str] = field(default_factory=set)
    event_ids: set[str] = field(default_factory=set)

    def check(self, before: Snapshot, after: Snapshot, events: list[Event]) -> None:
        self.check_events(before, after, events)
        self.check_state(after)

    def check_events(self, before: Snapshot, after: Snapshot, events: list[Event]) -> None:
        used = {(a, kd): before.used(a, kd) for a in before.agents for kd in KINDS}
        for e in events:
            assert e.id not in self.event_ids, f"event id {e.id} repeated"
            self.event_ids.add(e.id)
            if e.topic == "agent.events":
                assert e.key == e.data["agent_id"], e
                self.agent_event(after, e, used)
            else:
                assert e.topic == "workitem.events", e
                assert e.key == e.subject == e.data["work_item_id"], e
                self.item_event(e, used)
        for (agent, kind), n in used.items():
            assert after.used(agent, kind) == n, f"used_{kind} of {agent}: {after.agents}"

    def agent_event(self, after: Snapshot, e: Event, used: dict[tuple[str, str], int]) -> None:
        agent = e.key
        if e.type == "agent.status_changed":
            if e.data.get("reason") == "missed_offer":
                self.missed.add(agent)
            elif e.data["status"] == "available":
                self.missed.discard(agent)
        if e.type != "offer.made":
            return
        wid = e.data["work_item_id"]
        info = self.items[wid]
        assert agent not in self.missed, f"{agent} missed an offer, was offered {wid}"
        assert after.agents[agent]["status"] == "available", (wid, after.agents[agent])
        assert info.queue in after.agent_queues[agent], (wid, after.agent_queues[agent])
        assert info.skills <= after.agent_skills[agent], (wid, after.agent_skills[agent])
        assert used[agent, info.kind] < after.cap(agent, info.kind), (
            f"offer of {wid} to {agent} beyond capacity {info.kind}: {used} {after.agents}"
        )
        used[agent, info.kind] += 1
        if agent in after.rejected[wid]:  # a fallback: nobody else could take it
            others = set(after.agents) - after.rejected[wid]
            assert not [b for b in others if after.could_take(b, info)], (wid, after.agents)

    def item_event(self, e: Event, used: dict[tuple[str, str], int]) -> None:
        wid = e.subject or ""
        step = e.type.removeprefix("workitem.")
        state = self.paths.get(wid, "new")
        assert step in PATH[state], f"{wid}: {e.type} after {state}"
        self.paths[wid] = PATH[state][step]
        frees = ("offer_rejected", "offer_expired", "completed", "cancelled")
        if step in frees and "agent_id" in e.data:
            used[e.data["agent_id"], self.items[wid].kind] -= 1

    def check_state(self, s: Snapshot) -> None:
        offers: dict[str, list[tuple[str, float]]] = {w: [] for w in s.items}
        wraps: Counter[str] = Counter()
        for member, due in s.deadlines:
            kind, _, rest = member.partition("|")
            if kind == "o":
                offers[rest.split("|")[1]].append((member, due))
            else:
                wraps[rest] += 1
        for wid, item in s.items.items():
            self.check_item(s, wid, item, offers[wid], wraps[wid])
        for agent, hash_ in s.agents.items():
            self.check_agent(s, agent, hash_)
        statuses = Counter(a["status"] for a in s.agents.values() if a)
        counted = {st: int(n) for st, n in s.agents_by_status.items() if int(n)}
        assert counted == dict(statuses), (counted, statuses)
        for q, by_kind in s.queues.items():
            for kind, members in by_kind.items():
                for wid, score in members:
                    item = s.items[wid]
                    assert (item["status"], item["queue"]) == ("queued", q), (wid, item)
                    assert item["kind"] == kind, (wid, item, kind)
                    assert float(item["score"]) == score, (wid, item, score)

    def check_agent(self, s: Snapshot, agent: str, hash_: dict[str, str]) -> None:
        mine = {w for w, i in s.items.items() if i.get("agent") == agent and i["status"] in OPEN}
        assert s.agent_items[agent] == mine, (agent, s.agent_items[agent], mine)
        for kind in KINDS:
            n = sum(1 for w in mine if self.items[w].kind == kind)
            assert s.used(agent, kind) == n, (agent, kind, hash_)
            # listed in a queue's set of a kind exactly while available with a free slot of it
            free = s.used(agent, kind) < int(hash_.get(f"cap_{kind}", 0))
            available = hash_.get("status") == "available" and free
            for q in QUEUES:
                listed = agent in dict(s.queue_agents[q][kind])
                assert listed == (available and q in s.agent_queues[agent]), (agent, q, kind)

    def check_item(
        self, s: Snapshot, wid: str, item: dict[str, str], offers: list[Any], wraps: int
    ) -> None:
        status = item["status"]
        path = self.paths.get(wid, "new")
        assert STATUS_OF_STEP.get(path, path) == status, f"{wid}: events say {path}: {item}"
        self.check_deadline_set(s, wid, item, [m for m, _ in offers] + ["w|" + wid] * wraps)
        if status == "offered":
            member = f"o|{item['offer_id']}|{wid}"
            assert offers == [(member, float(item["offer_expires"]))], (wid, offers, item)
            assert item["agent"] in s.agents, item
        else:
            assert offers == [], (wid, offers, item)
        assert wraps == (status == "wrap_up"), (wid, item, wraps)
        info = self.items[wid]
        in_queue = [
            q
            for q, by_kind in s.queues.items()
            for members in by_kind.values()
            if wid in dict(members)
        ]
        assert in_queue == ([info.queue] if status == "queued" else []), (wid, in_queue, item)
        if status == "queued":  # nobody who could take it is left idle
            idle = [a for a in s.agents if s.could_take(a, info)]
            assert not idle, f"{wid} waits while {idle} could take it: {s.agents}"

    def check_deadline_set(
        self, s: Snapshot, wid: str, item: dict[str, str], members: list[str]
    ) -> None:
        """The item's deadline is in the set its 'dpart' names: its agent's partition
        when the agent had one, else the single set."""
        dpart = item.get("dpart", "")
        for member in members:
            assert s.deadline_part[member] == dpart, (wid, member, s.deadline_part, item)
        if members and dpart:
            assert s.agents[item["agent"]].get("part") == dpart, (wid, item, s.agents)


def should_accept(cmd: str, item: dict[str, str], agent: str, offer_id: str) -> bool:
    """Whether the router must apply ``cmd`` to an item in state ``item``."""
    status = item.get("status", "unknown")
    if cmd in OFFER_COMMANDS and item.get("offer_id") != offer_id:
        return False
    return item.get("agent") == agent and status in OUTCOME[cmd][0].split()


def expect_fired(
    member: str, before: Snapshot, result: str, events: list[Event], after: Snapshot
) -> None:
    """A due deadline fired: the offer expired (agent away), or wrap-up auto-completed."""
    if member.startswith("o|"):
        agent = before.items[member.split("|")[2]]["agent"]
        assert result == "offer_expired"
        assert [e.type for e in events[:3]] == [
            "offer.revoked",
            "workitem.offer_expired",
            "agent.status_changed",
        ]
        assert events[2].data == {"agent_id": agent, "status": "away", "reason": "missed_offer"}
        assert after.agents[agent]["status"] == "away"
        return
    assert result == "wrapup_expired"
    assert [e.type for e in events[:2]] == ["workitem.wrapup_expired", "workitem.completed"]
    assert events[1].data["disposition_code"] == DEFAULT_DISPOSITION
    assert events[1].data["auto"] is True
