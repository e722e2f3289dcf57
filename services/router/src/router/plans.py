"""What the router makes of each event and command it consumes: one script call each.

Planning is plain code over validated payloads (no Redis): the calls are executed
together, a batch at a time, by ``RouterEngine.execute``. ``RouterPlans.tables`` is the
router's one dispatch table, per topic: it also says which types each topic accepts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from switchboard_runtime.dispatch import On, on, table
from switchboard_runtime.pipeline import CommandInvalid
from switchboard_runtime.watermarks import default_partition
from switchboard_schemas.agent import AgentStatusCommand
from switchboard_schemas.agent_events import ItemSummary
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.fields import WireModel
from switchboard_schemas.lifecycle import WorkItemCancelRequested, WorkItemCreated
from switchboard_schemas.registry import AGENT_COMMAND_MODELS
from switchboard_schemas.topics import AGENT_COMMANDS, WORKITEM_EVENTS

from router.routing_config import RoutingConfig, kind_of
from router.scripts import ScriptCall

# how many partitions agent.commands has (None: not known, e.g. before the consumer runs)
PartitionCount = Callable[[], int | None]
Table = dict[str, On[ScriptCall]]

# offer.accept, offer.reject, outbound.dial/skip, item.hold/resume/end/complete
ITEM_COMMANDS = {t: m for t, m in AGENT_COMMAND_MODELS.items() if t != AgentStatusCommand.TYPE}

_SUMMARY_FIELDS = set(ItemSummary.model_fields) - {"queue"}


def summary_of(item: WorkItemCreated, queue: str) -> str:
    """The part of the item an offer shows on the desktop, as JSON."""
    # the item is validated already and ItemSummary's fields are a subset of its own
    fields = item.model_dump(include=_SUMMARY_FIELDS, exclude_none=True, mode="json")
    return json.dumps({**fields, "queue": queue}, separators=(",", ":"))


class RouterPlans:
    """The script call for each consumed event and command."""

    def __init__(
        self,
        config: RoutingConfig,
        *,
        seen_ttl: int,
        skip_limit: int = 3,
        partitions: PartitionCount = lambda: None,
    ) -> None:
        """``partitions``: the partition count of agent.commands. While it is known, each
        agent's deadlines are kept in the set of the partition its commands arrive on
        (Kafka's default partitioner over the agent id), else in the single set."""
        self._config = config
        self._seen_ttl = seen_ttl
        self._skip_limit = skip_limit
        self._partitions = partitions

    def tables(self) -> dict[str, Table]:
        """Per topic: each CloudEvents type the router applies, its model and its plan."""
        item_commands = [on(model, self.command) for model in ITEM_COMMANDS.values()]
        return {
            WORKITEM_EVENTS: table(
                on(WorkItemCreated, self.created), on(WorkItemCancelRequested, self.cancel)
            ),
            AGENT_COMMANDS: table(on(AgentStatusCommand, self.status), *item_commands),
        }

    def _seen(self, event: CloudEvent) -> dict[str, Any]:
        return {"seen": f"{event.source}|{event.id}", "seen_ttl": self._seen_ttl}

    def created(self, event: CloudEvent, item: WorkItemCreated) -> ScriptCall:
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

    def cancel(self, event: CloudEvent, cmd: WorkItemCancelRequested) -> ScriptCall:
        args = {"wid": cmd.work_item_id, "reason": cmd.reason, **self._seen(event)}
        return ScriptCall("cancel", args, event.correlationid)

    def status(self, event: CloudEvent, cmd: AgentStatusCommand) -> ScriptCall:
        requested = {str(kind): slots for kind, slots in (cmd.capacity or {}).items()}
        args = {
            "agent": cmd.agent_id,
            "status": str(cmd.status),
            "queues": list(cmd.queues),
            "skills": list(cmd.skills),
            "capacity": self._config.capacity(cmd.agent_id, requested),
            "part": self.partition_of(cmd.agent_id),
            "reason": cmd.reason,
            **self._seen(event),
        }
        return ScriptCall("agent_status", args, event.correlationid)

    def partition_of(self, agent_id: str) -> int | None:
        """The partition of agent.commands the agent's commands arrive on (keyed by its
        id), or None while the partition count is not known."""
        count = self._partitions()
        return default_partition(agent_id, count) if count else None

    def command(self, event: CloudEvent, cmd: WireModel) -> ScriptCall:
        """An agent's command about one item (its model names the agent and the item)."""
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
