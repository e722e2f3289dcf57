"""Random sequences of router operations against the real Lua scripts and a real Redis.

A hypothesis state machine creates items, moves agents between statuses, answers offers
(with the right or a wrong agent, the current or a stale offer), cancels, replays earlier
commands and moves a fake clock, firing due deadlines. After every step the invariants
of ``invariants.py`` are checked against Redis and the events the step appended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from router.routing_config import kind_of
from switchboard_devtools.testing import Brokers
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.lifecycle import WorkItemCreated

from .invariants import (
    COMMANDS,
    OUTCOME,
    Checker,
    ItemInfo,
    Snapshot,
    expect_fired,
    should_accept,
    snapshot,
)
from .routerkit import OPEN, QUEUES, Event, Harness, strategies_config

pytestmark = pytest.mark.integration
T = TypeVar("T")

AGENTS = ("a1", "a2", "a3")
SKILLS = ("en", "fr", "billing")
NONE: frozenset[str] = frozenset()
ALL = frozenset({"task", "chat", "call", "email"})
slots = st.integers(0, 1)
capacities = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["voice", "chat", "async"]), slots),
    st.fixed_dictionaries({"voice": slots, "chat": slots, "async": st.integers(1, 2)}),
)


class RouterMachine(RuleBasedStateMachine):
    brokers: ClassVar[Brokers]
    items = Bundle("items")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.redis = self.brokers.redis(decode_responses=True)
        self.h = Harness(self.redis)
        self.checker = Checker()
        self.snap: Snapshot | None = None
        self.sent: list[CloudEvent] = []
        self.fired: list[tuple[str, int | None]] = []
        self.offers: dict[str, list[str]] = {}

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def read(self) -> Snapshot:
        return self.run(snapshot(self.h, list(self.checker.items), AGENTS))

    def step(self, coro: Coroutine[Any, Any, str]) -> tuple[Snapshot, str, list[Event], Snapshot]:
        before = self.snap or self.read()
        result = self.run(coro)
        events = self.run(self.h.new_events())
        after = self.snap = self.read()
        self.checker.check(before, after, events)
        for e in events:
            if e.type == "offer.made":
                self.offers.setdefault(e.data["work_item_id"], []).append(e.data["offer_id"])
        return before, result, events, after

    def teardown(self) -> None:
        try:
            self.run(self.h.cleanup())
            self.run(self.redis.aclose())
        finally:
            self.loop.close()

    @initialize(
        strategies=st.dictionaries(
            st.sampled_from(QUEUES), st.sampled_from(["longest_idle", "least_busy", "round_robin"])
        )
    )
    def configure(self, strategies: dict[str, str]) -> None:
        self.h = Harness(self.redis, strategies_config(strategies))
        self.run(self.h.setup())

    @rule(
        target=items,
        type=st.sampled_from(["task", "chat", "call", "email"]),
        priority=st.sampled_from([1, 2, 3, 5, 8]),
        skills=st.sampled_from([NONE, NONE, NONE, frozenset({"en"}), frozenset({"fr", "billing"})]),
        age=st.integers(0, 3000),
    )
    def create(self, type: str, priority: int, skills: frozenset[str], age: int) -> str:
        wid = f"w{len(self.checker.items)}"
        event = self.h.created_event(wid, type, priority, self.h.now - age, sorted(skills))
        item = WorkItemCreated.model_validate(event.data)
        self.checker.items[wid] = ItemInfo(kind_of(item), type, skills)
        _, result, events, _ = self.step(self.h.send(event))
        assert result == "queued"
        assert events[0].data == {"work_item_id": wid, "queue": type, "priority": priority}
        self.sent.append(event)
        return wid

    @rule(
        agent=st.sampled_from(AGENTS),
        status=st.sampled_from([*["available"] * 4, "away", "offline"]),
        queues=st.sampled_from(
            [
                ALL,
                ALL,
                frozenset({"task", "email"}),
                frozenset({"chat"}),
                frozenset({"call", "review"}),
            ]
        ),
        skills=st.sampled_from([frozenset(SKILLS), frozenset(SKILLS), frozenset({"en"}), NONE]),
        capacity=capacities,
    )
    def agent_status(
        self,
        agent: str,
        status: str,
        queues: frozenset[str],
        skills: frozenset[str],
        capacity: dict[str, int] | None,
    ) -> None:
        event = self.h.status_event(agent, status, sorted(queues), sorted(skills), capacity)
        before, result, events, after = self.step(self.h.send(event))
        self.sent.append(event)
        assert result == status
        assert events[0].type == "agent.status_changed"
        assert events[0].data == {"agent_id": agent, "status": status}
        caps = self.h.config.capacity(agent, capacity)
        assert all(after.cap(agent, k) == caps[k] for k in caps)
        if status == "away":
            assert len(events) == 1
        if status == "offline":
            pending = {
                w
                for w, i in before.items.items()
                if i["status"] == "offered" and i["agent"] == agent
            }
            revoked = {e.data["work_item_id"] for e in events if e.type == "offer.revoked"}
            assert revoked == pending
            assert not after.agent_items[agent] & pending

    def command(self, wid: str, cmd: str, agent: str, offer_id: str) -> None:
        extra = {"reason": "busy"} if cmd == "offer.reject" else {}
        event = self.h.command_event(cmd, agent, wid, offer_id, **extra)
        item = (self.snap or self.read()).items.get(wid, {})
        before, result, events, after = self.step(self.h.send(event))
        self.sent.append(event)
        if should_accept(cmd, item, agent, offer_id):
            _, returns, ce_type = OUTCOME[cmd]
            assert (result, events[0].type) == (returns, ce_type)
            return
        assert result.startswith("rejected:")
        assert [(e.type, e.key) for e in events] == [("command.rejected", agent)]
        assert events[0].data["command_id"] == event.id
        assert after == before

    def offer_of(self, wid: str, item: dict[str, str], which: str) -> str:
        """The item's current offer id, an earlier one, or another item's."""
        if which == "stale":
            mine = self.offers.get(wid, [])
            return next((o for o in mine if o != item.get("offer_id")), "of-stale")
        if which == "foreign":
            theirs = (o for w, offers in self.offers.items() if w != wid for o in offers)
            return next(theirs, "of-foreign")
        return item.get("offer_id", "of-none")

    @rule(
        wid=items,
        cmd=st.sampled_from([*COMMANDS, "cancel"]),
        agent=st.sampled_from(AGENTS),
        which=st.sampled_from(["current", "stale", "foreign"]),
        ghost=st.integers(0, 9),
    )
    def answer(self, wid: str, cmd: str, agent: str, which: str, ghost: int) -> None:
        """Any command on any item (or an unknown one), by any agent, with any offer;
        or a cancel request from upstream."""
        if cmd == "cancel":
            self.cancel(wid, "duplicate" if ghost % 2 else None)
            return
        wid = "ghost" if ghost == 0 else wid
        item = (self.snap or self.read()).items.get(wid, {})
        self.command(wid, cmd, agent, self.offer_of(wid, item, which))

    def open_items(self) -> list[str]:
        items = self.snap.items if self.snap else {}
        return [w for w, item in items.items() if item["status"] in OPEN]

    def next_step(self, wid: str, n: int, twist: str) -> bool:
        """The next step of an open item's lifecycle by its agent, or that with a twist:
        another agent, a stale or another item's offer id, or another command."""
        item = (self.snap or self.read()).items[wid]
        if item["status"] not in OPEN:
            return False
        cmd = {
            "offered": "offer.reject" if n % 5 == 0 else "offer.accept",
            "active": "item.hold" if n % 3 == 0 else "item.end",
            "hold": "item.resume" if n % 2 == 0 else "item.end",
            "wrap_up": "item.complete",
        }[item["status"]]
        agent = item["agent"]
        if twist == "agent":
            agent = AGENTS[(AGENTS.index(agent) + 1 + n % 2) % len(AGENTS)]
        if twist == "command":
            cmd = [c for c in COMMANDS if c != cmd][n % (len(COMMANDS) - 1)]
        self.command(wid, cmd, agent, self.offer_of(wid, item, twist))
        return True

    @precondition(lambda self: self.open_items())
    @rule(
        n=st.integers(0, 10_000),
        steps=st.integers(1, 4),
        twist=st.sampled_from([*["none"] * 3, "agent", "stale", "foreign", "command"]),
    )
    def progress(self, n: int, steps: int, twist: str) -> None:
        """Move an open item on by up to ``steps`` steps, the first with ``twist``."""
        wid = self.open_items()[n % len(self.open_items())]
        for i in range(steps):
            if not self.next_step(wid, n + i, twist if i == 0 else "none"):
                return

    def cancel(self, wid: str, reason: str | None) -> None:
        event = self.h.cancel_event(wid, reason)
        before, result, events, after = self.step(self.h.send(event))
        self.sent.append(event)
        status = before.items[wid]["status"]
        if status in ("completed", "cancelled"):
            assert (result, events, after) == ("closed", [], before)
            return
        assert result == "cancelled"
        first = {"queued": [], "offered": ["offer.revoked"]}.get(status, ["item.cancelled"])
        assert [e.type for e in events[: len(first) + 1]] == [*first, "workitem.cancelled"]
        assert after.items[wid]["status"] == "cancelled"

    @rule(ms=st.integers(0, 6000), fire=st.booleans())
    def clock(self, ms: int, fire: bool) -> None:
        """Time passes; a timer fires every due deadline, or is late (commands race it)."""
        self.h.now += ms
        if not fire:
            return
        for member, part in self.run(self.h.due_parts()):
            firing = self.h.engine.fire(member, self.h.now, part)
            before, result, events, after = self.step(firing)
            self.fired.append((member, part))
            expect_fired(member, before, result, events, after)

    @precondition(lambda self: self.sent)
    @rule(n=st.integers(0, 10_000), deadline=st.booleans())
    def repeat(self, n: int, deadline: bool) -> None:
        """Redeliver an earlier command or event (same id), or fire a fired deadline again."""
        if deadline and self.fired:
            member, part = self.fired[n % len(self.fired)]
            before, result, events, after = self.step(self.h.engine.fire(member, self.h.now, part))
            assert (result, events, after) == ("gone", [], before)
            return
        event = self.sent[n % len(self.sent)]
        before, result, events, after = self.step(self.h.send(event))
        assert (result, events, after) == ("duplicate", [], before)


def test_router_state_machine(brokers: Brokers) -> None:
    RouterMachine.brokers = brokers
    run_state_machine_as_test(
        RouterMachine,
        settings=settings(
            max_examples=100,
            stateful_step_count=50,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
