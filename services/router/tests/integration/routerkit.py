"""Drive the router's Lua scripts through RouterEngine against a real Redis, fake clock.

Every harness works in its own tenant (``Keys(f"t{uuid}")``), so tests share the Redis
server without flushing it. The clock is ``Harness.now`` (epoch ms), moved by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import BaseModel
from redis.asyncio import Redis
from router.engine import RouterEngine
from router.plans import ITEM_COMMANDS, RouterPlans
from router.routing_config import RoutingConfig
from router.scripts import RouterScripts, Timing
from switchboard_runtime.generation import Generation
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.agent import AgentStatusCommand
from switchboard_schemas.envelope import CloudEvent, new_event
from switchboard_schemas.lifecycle import WorkItemCancelRequested, WorkItemCreated
from switchboard_schemas.registry import MODELS_BY_TOPIC

from .deadline_sets import MOST_PARTITIONS, deadlines_due

START_MS = 1_800_000_000_000
OFFER_MS = 2_000
WRAPUP_MS = 5_000
DEFAULT_DISPOSITION = "wrapup_timeout"
QUEUES = ("chat", "call", "task", "callback", "review", "approval", "email")
OPEN = frozenset({"offered", "active", "hold", "wrap_up"})
SOURCE = "switchboard/tests"


async def _new_deployment() -> bool:
    return True


def iso(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, as the router writes it."""
    return at(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def strategies_config(strategies: Mapping[str, str]) -> RoutingConfig:
    """The default queues, with the given strategy per queue."""
    queues = {q: {"strategy": strategies[q]} if q in strategies else {} for q in QUEUES}
    return RoutingConfig.model_validate({"queues": queues})


@dataclass(frozen=True)
class Event:
    """One outbox entry: Kafka topic and key, and the CloudEvent it carries."""

    topic: str
    key: str
    id: str
    type: str
    subject: str | None
    data: dict[str, Any]


class Harness:
    """One tenant's router: the engine, its clock and readers of the Redis state.
    ``partitions``: of agent.commands, as the engine knows it (None: every deadline in
    the single set, as before per-partition sets); a test may change it (an upgrade)."""

    def __init__(
        self, redis: Redis, config: RoutingConfig | None = None, partitions: int | None = None
    ) -> None:
        assert partitions is None or 0 < partitions <= MOST_PARTITIONS, partitions
        self.redis = redis
        self.partitions = partitions
        self.keys = Keys(f"t{uuid.uuid4().hex}")
        self.now = START_MS
        self.config = config or RoutingConfig.load()
        timing = Timing(offer_timeout_ms=OFFER_MS, wrapup_timeout_ms=WRAPUP_MS)
        self.generation = Generation(redis, self.keys)
        self.scripts = RouterScripts(redis, self.keys, timing, lambda: self.now, self.generation)
        self.engine = RouterEngine(self.scripts, default_disposition=DEFAULT_DISPOSITION)
        self.plans = RouterPlans(self.config, seen_ttl=3600, partitions=lambda: self.partitions)
        tables = self.plans.tables()
        self._plans = {ce_type: e for entries in tables.values() for ce_type, e in entries.items()}
        self._cursor = "-"

    async def setup(self) -> Harness:
        assert await self.generation.establish(_new_deployment)
        await self.scripts.publish_queue_strategies(self.config)
        return self

    async def cleanup(self) -> None:
        keys = [k async for k in self.redis.scan_iter(match=f"{self.keys.tag}:*", count=500)]
        if keys:
            await self.redis.unlink(*keys)

    # -- sending ---------------------------------------------------------------------

    def event(self, ce_type: str, data: BaseModel, subject: str | None) -> CloudEvent:
        return new_event(ce_type, data, source=SOURCE, subject=subject, tenantid=self.keys.tenant)

    async def send(self, event: CloudEvent) -> str:
        """Plan ``event`` with the router's table and execute the call, as the batch path
        does for each record (also used for replays)."""
        entry = self._plans[event.type]
        [outcome] = await self.engine.execute(
            [entry.run(event, entry.model.model_validate(event.data))]
        )
        return outcome

    async def create(
        self,
        wid: str,
        type: str = "task",
        priority: int = 5,
        *,
        created_ms: int | None = None,
        skills: Iterable[str] = (),
        description: str | None = None,
        queue: str | None = None,
    ) -> str:
        return await self.send(
            self.created_event(wid, type, priority, created_ms, skills, description, queue)
        )

    def created_event(
        self,
        wid: str,
        type: str = "task",
        priority: int = 5,
        created_ms: int | None = None,
        skills: Iterable[str] = (),
        description: str | None = None,
        queue: str | None = None,
    ) -> CloudEvent:
        item = WorkItemCreated.model_validate(
            {
                "work_item_id": wid,
                "type": type,
                "priority": priority,
                "created_at": at(self.now if created_ms is None else created_ms),
                "skills": list(skills),
                "description": description,
                "queue": queue,
            }
        )
        return self.event("workitem.created", item, wid)

    async def status(
        self,
        agent: str,
        status: str = "available",
        queues: Iterable[str] = ("task",),
        skills: Iterable[str] = (),
        capacity: Mapping[str, int] | None = None,
    ) -> str:
        return await self.send(self.status_event(agent, status, queues, skills, capacity))

    def status_event(
        self,
        agent: str,
        status: str = "available",
        queues: Iterable[str] = ("task",),
        skills: Iterable[str] = (),
        capacity: Mapping[str, int] | None = None,
    ) -> CloudEvent:
        cmd = AgentStatusCommand.model_validate(
            {
                "agent_id": agent,
                "status": status,
                "queues": list(queues),
                "skills": list(skills),
                "capacity": None if capacity is None else dict(capacity),
            }
        )
        return self.event("agent.status", cmd, None)

    def command_event(
        self, ce_type: str, agent: str, wid: str, offer_id: str | None = None, **extra: str
    ) -> CloudEvent:
        data: dict[str, Any] = {"agent_id": agent, "work_item_id": wid, **extra}
        if ce_type in ("offer.accept", "offer.reject", "outbound.dial", "outbound.skip"):
            data["offer_id"] = offer_id or "of-none"
        if ce_type == "item.complete":
            data.setdefault("disposition_code", "resolved")
        return self.event(ce_type, ITEM_COMMANDS[ce_type].model_validate(data), wid)

    async def command(
        self, ce_type: str, agent: str, wid: str, offer_id: str | None = None, **extra: str
    ) -> str:
        return await self.send(self.command_event(ce_type, agent, wid, offer_id, **extra))

    async def answer(self, ce_type: str, agent: str, wid: str, **extra: str) -> str:
        """Accept or reject the item's current offer."""
        return await self.command(ce_type, agent, wid, await self.offer_id(wid), **extra)

    async def cancel(self, wid: str, reason: str | None = None) -> str:
        return await self.send(self.cancel_event(wid, reason))

    def cancel_event(self, wid: str, reason: str | None = None) -> CloudEvent:
        cmd = WorkItemCancelRequested(work_item_id=wid, reason=reason)
        return self.event("workitem.cancel_requested", cmd, wid)

    async def due_parts(self) -> list[tuple[str, int | None]]:
        """Each due deadline, and the partition of its set (None: the single set)."""
        return [(m, part) for m, _, part in await deadlines_due(self.redis, self.keys, self.now)]

    async def due(self) -> list[str]:
        return [member for member, _ in await self.due_parts()]

    async def fire_due(self) -> list[tuple[str, str]]:
        """Fire every due deadline from its own set, as the owning replica's timer would."""
        return [(m, await self.engine.fire(m, self.now, p)) for m, p in await self.due_parts()]

    # -- reading ---------------------------------------------------------------------

    async def new_events(self) -> list[Event]:
        """Outbox entries appended since the previous call, oldest first."""
        entries = cast(
            list[tuple[str, dict[str, str]]],
            await self.redis.xrange(self.keys.outbox("router"), self._cursor, "+"),
        )
        if entries:
            self._cursor = "(" + entries[-1][0]
        return [parse(fields) for _, fields in entries]

    async def item(self, wid: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(self.keys.router_item(wid)))

    async def offer_id(self, wid: str) -> str:
        return (await self.item(wid)).get("offer_id", "of-none")

    async def agent(self, agent: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(self.keys.agent(agent)))

    async def agent_items(self, agent: str) -> set[str]:
        return cast(set[str], await self.redis.smembers(self.keys.agent_items(agent)))

    async def queued(self, queue: str) -> list[tuple[str, float]]:
        """The queue's waiting items of every kind, in routing order."""
        members: list[tuple[str, float]] = []
        for kind in ("voice", "chat", "async"):
            key = self.keys.queue(queue, kind)
            members += cast(
                list[tuple[str, float]], await self.redis.zrange(key, 0, -1, withscores=True)
            )
        return sorted(members, key=lambda m: (m[1], m[0]))

    async def deadlines(self) -> list[tuple[str, float]]:
        """Every deadline, whichever set it is in, by due time."""
        return [(m, score) for m, score, _ in await deadlines_due(self.redis, self.keys)]


def parse(fields: Mapping[str, str]) -> Event:
    """An outbox entry, checked against the wire contract: a CloudEvent whose data is
    the payload model of its type on its topic."""
    ce = CloudEvent.model_validate_json(fields["v"])
    data = ce.data or {}
    MODELS_BY_TOPIC[fields["t"]][ce.type].model_validate(data)
    return Event(fields["t"], fields["k"], ce.id, ce.type, ce.subject, data)


def types(events: Iterable[Event]) -> list[str]:
    return [e.type for e in events]


def of_type(events: Iterable[Event], ce_type: str) -> list[Event]:
    return [e for e in events if e.type == ce_type]


def only(events: Iterable[Event], ce_type: str) -> Event:
    found = of_type(events, ce_type)
    assert len(found) == 1, f"expected one {ce_type}, got {found}"
    return found[0]


async def offered_to(h: Harness, agent: str) -> list[str]:
    """Items offered to ``agent`` by the events since the last read."""
    return [
        e.data["work_item_id"]
        for e in of_type(await h.new_events(), "offer.made")
        if e.key == agent
    ]


async def finish(h: Harness, agent: str, wid: str) -> None:
    assert await h.answer("offer.accept", agent, wid) == "active"
    assert await h.command("item.end", agent, wid) == "wrap_up"
    assert await h.command("item.complete", agent, wid) == "completed"
