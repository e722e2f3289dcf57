"""What the router does with each command and event (plain code over the Lua scripts)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from switchboard_runtime.batch import Planner
from switchboard_runtime.pipeline import CommandInvalid, Handler
from switchboard_runtime.watermarks import default_partition
from switchboard_schemas.agent import AgentStatusCommand
from switchboard_schemas.agent_events import ItemSummary
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.lifecycle import WorkItemCancelRequested, WorkItemCreated
from switchboard_schemas.registry import AGENT_COMMAND_MODELS

from router.routing_config import RoutingConfig, kind_of
from router.scripts import RouterScripts, ScriptCall

# deadlines applied by one script call: fewer calls, but each call holds Redis longer
FIRE_PER_CALL = 25

# how many partitions agent.commands has (None: not known, e.g. before the consumer runs)
PartitionCount = Callable[[], int | None]

# offer.accept, offer.reject, outbound.dial/skip, item.hold/resume/end/complete
ITEM_COMMANDS = {t: m for t, m in AGENT_COMMAND_MODELS.items() if t != AgentStatusCommand.TYPE}


_SUMMARY_FIELDS = set(ItemSummary.model_fields) - {"queue"}


def summary_of(item: WorkItemCreated, queue: str) -> str:
    """The part of the item an offer shows on the desktop, as JSON."""
    # the item is validated already and ItemSummary's fields are a subset of its own
    fields = item.model_dump(include=_SUMMARY_FIELDS, exclude_none=True, mode="json")
    return json.dumps({**fields, "queue": queue}, separators=(",", ":"))


class RouterEngine:
    """Routes items to agents; every change is one atomic script."""

    def __init__(
        self,
        scripts: RouterScripts,
        config: RoutingConfig,
        *,
        seen_ttl: int,
        default_disposition: str,
        skip_limit: int = 3,
        partitions: PartitionCount = lambda: None,
    ) -> None:
        """``partitions``: the partition count of agent.commands. While it is known, each
        agent's deadlines are kept in the set of the partition its commands arrive on
        (Kafka's default partitioner over the agent id), else in the single set."""
        self._scripts = scripts
        self._config = config
        self._seen_ttl = seen_ttl
        self._default_disposition = default_disposition
        self._skip_limit = skip_limit
        self._partitions = partitions

    def _seen(self, event: CloudEvent) -> dict[str, Any]:
        return {"seen": f"{event.source}|{event.id}", "seen_ttl": self._seen_ttl}

    def plan_created(self, event: CloudEvent, item: BaseModel) -> ScriptCall:
        assert isinstance(item, WorkItemCreated)
        queue, note = self._config.queue_for(item)
        if queue is None:
            raise CommandInvalid("unknown_queue", f"queue {item.queue!r} is not configured")
        args = {
            "wid": item.work_item_id,
            "queue": queue,
            "priority": int(item.priority),
            "created_ms": int(item.created_at.timestamp() * 1000),
            "kind": kind_of(item),
            "skills": list(item.skills),
            "summary": summary_of(item, queue),
            "outbound": item.outbound,
            "note": note,
        }
        return ScriptCall("enqueue", args, event.correlationid)

    def plan_cancel(self, event: CloudEvent, cmd: BaseModel) -> ScriptCall:
        assert isinstance(cmd, WorkItemCancelRequested)
        args = {"wid": cmd.work_item_id, "reason": cmd.reason, **self._seen(event)}
        return ScriptCall("cancel", args, event.correlationid)

    def plan_status(self, event: CloudEvent, cmd: BaseModel) -> ScriptCall:
        assert isinstance(cmd, AgentStatusCommand)
        requested = {str(kind): slots for kind, slots in (cmd.capacity or {}).items()}
        args = {
            "agent": cmd.agent_id,
            "status": str(cmd.status),
            "queues": list(cmd.queues),
            "skills": list(cmd.skills),
            "capacity": self._config.capacity(cmd.agent_id, requested),
            "part": self.partition_of(cmd.agent_id),
            **self._seen(event),
        }
        return ScriptCall("agent_status", args, event.correlationid)

    def partition_of(self, agent_id: str) -> int | None:
        """The partition of agent.commands the agent's commands arrive on (keyed by its
        id), or None while the partition count is not known."""
        count = self._partitions()
        return default_partition(agent_id, count) if count else None

    def plan_command(self, event: CloudEvent, cmd: BaseModel) -> ScriptCall:
        data = cmd.model_dump(mode="json", exclude_none=True)
        args = {
            "cmd": event.type,
            "command_id": event.id,
            "agent": data.pop("agent_id"),
            "wid": data.pop("work_item_id"),
            "skip_limit": self._skip_limit,
            **data,
            **self._seen(event),
        }
        return ScriptCall("command", args, event.correlationid)

    def planners(self) -> Mapping[str, Planner[ScriptCall]]:
        """A plan for every type the router applies, on both of its topics."""
        plans: dict[str, Planner[ScriptCall]] = {
            "workitem.created": self.plan_created,
            "workitem.cancel_requested": self.plan_cancel,
            "agent.status": self.plan_status,
        }
        return {**plans, **dict.fromkeys(ITEM_COMMANDS, self.plan_command)}

    async def execute(self, calls: Sequence[ScriptCall]) -> list[str]:
        """Run planned calls in order, pipelined."""
        return await self._scripts.run_calls(calls)

    async def _one(self, call: ScriptCall) -> str:
        [outcome] = await self._scripts.run_calls([call])
        return outcome

    async def item_created(self, event: CloudEvent, item: BaseModel) -> str:
        return await self._one(self.plan_created(event, item))

    async def cancel_requested(self, event: CloudEvent, cmd: BaseModel) -> str:
        return await self._one(self.plan_cancel(event, cmd))

    async def agent_status(self, event: CloudEvent, cmd: BaseModel) -> str:
        return await self._one(self.plan_status(event, cmd))

    async def item_command(self, event: CloudEvent, cmd: BaseModel) -> str:
        return await self._one(self.plan_command(event, cmd))

    def _fire_call(
        self, members: Sequence[str], now_ms: int | None, part: int | None
    ) -> ScriptCall:
        args = {
            "members": list(members),
            "part": part,
            "default_disposition": self._default_disposition,
        }
        return ScriptCall("fire", args, now_ms=now_ms)

    async def fire(self, member: str, now_ms: int | None = None, part: int | None = None) -> str:
        """Apply one due deadline of partition ``part``'s set (None: the single set); a
        no-op if another replica already did."""
        [outcome] = (await self._one(self._fire_call([member], now_ms, part))).split()
        return outcome

    async def fire_many(
        self, members: Sequence[str], now_ms: int, part: int | None = None
    ) -> list[str]:
        """Apply due deadlines of partition ``part``'s set (None: the single set),
        ``FIRE_PER_CALL`` per script call, all in one round trip; one outcome per
        member, in order."""
        [outcomes] = await self.fire_sets([(part, members)], now_ms)
        return outcomes

    async def fire_sets(
        self, sets: Sequence[tuple[int | None, Sequence[str]]], now_ms: int
    ) -> list[list[str]]:
        """``fire_many`` for the due members of several sets, all in one round trip;
        the outcomes per set."""
        calls, sizes = [], []
        for part, members in sets:
            chunks = [members[i : i + FIRE_PER_CALL] for i in range(0, len(members), FIRE_PER_CALL)]
            calls += [self._fire_call(chunk, now_ms, part) for chunk in chunks]
            sizes.append(len(chunks))
        outcomes = iter(await self._scripts.run_calls(calls))
        return [[o for _ in range(n) for o in next(outcomes).split()] for n in sizes]

    def workitem_event_handlers(self) -> Mapping[str, tuple[type[BaseModel], Handler]]:
        return {
            "workitem.created": (WorkItemCreated, self.item_created),
            "workitem.cancel_requested": (WorkItemCancelRequested, self.cancel_requested),
        }

    def agent_command_handlers(self) -> Mapping[str, tuple[type[BaseModel], Handler]]:
        handlers: dict[str, tuple[type[BaseModel], Handler]] = {
            "agent.status": (AgentStatusCommand, self.agent_status)
        }
        for ce_type, model in ITEM_COMMANDS.items():
            handlers[ce_type] = (model, self.item_command)
        return handlers
