"""Each agent's desktop log: every event addressed to the agent, appended once, kept for
the resume window (docs/desktop.md).

The gateway's consumer reads ``agent.events`` (everything there is addressed to an agent)
and the lifecycle events on ``workitem.events`` that name the agent holding the item,
which is how the Inbox changes reach the page. Records come in batches: each event is
appended to its agent's stream in Redis by one script (seen once, then XADD), and in the
same round trip the streams that grew are trimmed to the resume window and their agents
published in one message, so every replica's open streams of those agents read on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from switchboard_runtime.atomic import PIPELINE_CALLS, AtomicScript, GenerationSource, executed
from switchboard_runtime.clock import ClockMs
from switchboard_runtime.dispatch import On
from switchboard_runtime.lua import lua_files
from switchboard_runtime.redis_client import is_cluster
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.registry import (
    AGENT_EVENT_MODELS,
    AGENT_ITEM_STEPS,
    WORKITEM_EVENT_MODELS,
)
from switchboard_schemas.topics import AGENT_EVENTS, WORKITEM_EVENTS

from desktop.hub import NEWS_SEPARATOR

NOT_FOR_AN_AGENT = "not_for_an_agent"


@dataclass(frozen=True)
class Append:
    """What one record becomes: an append to ``agent``'s log (None: nobody's)."""

    agent: str | None
    args: Mapping[str, Any]


class DesktopLog:
    """Appends events to agents' logs and tells the replicas."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        generation: GenerationSource,
        *,
        seen_ttl: int,
        resume_ms: int,
        max_entries: int,
        clock_ms: ClockMs,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._seen_ttl = seen_ttl
        self._resume_ms = resume_ms
        self._max_entries = max_entries
        self._clock_ms = clock_ms
        self._append = AtomicScript(redis, keys, lua_files("desktop", "append_log.lua"), generation)

    def plans(self) -> Mapping[str, Mapping[str, On[Append]]]:
        """What the gateway's consumer makes of each topic's types (others it skips)."""
        agent = {t: On(model, self.plan) for t, model in AGENT_EVENT_MODELS.items()}
        items = {t: On(WORKITEM_EVENT_MODELS[t], self.plan) for t in AGENT_ITEM_STEPS}
        return {AGENT_EVENTS: agent, WORKITEM_EVENTS: items}

    def plan(self, event: CloudEvent, payload: BaseModel) -> Append:
        """The append of ``event`` to the log of the agent it names (an item event of an
        item nobody held names none)."""
        agent = getattr(payload, "agent_id", None)
        args = {
            "agent_id": agent,
            "event_key": f"{event.source}|{event.id}",
            "seen_ttl": self._seen_ttl,
            "type": event.type,
            "event": event.model_dump_json(exclude_none=True),
        }
        return Append(agent if isinstance(agent, str) else None, args)

    async def execute(self, appends: Sequence[Append]) -> list[str]:
        """Apply ``appends`` in order, ``PIPELINE_CALLS`` to a round trip; one outcome
        each: appended, duplicate or not_for_an_agent."""
        outcomes: list[str] = []
        for start in range(0, len(appends), PIPELINE_CALLS):
            outcomes += await self._execute_slice(appends[start : start + PIPELINE_CALLS])
        return outcomes

    async def _execute_slice(self, appends: Sequence[Append]) -> list[str]:
        mine = [a for a in appends if a.agent is not None]
        if not mine:
            return [NOT_FOR_AN_AGENT] * len(appends)
        async with self._redis.pipeline(transaction=False) as pipe:
            for append in mine:
                await self._append.queue(pipe, append.args)
            self._trim_and_tell(pipe, list(dict.fromkeys(a.agent for a in mine if a.agent)))
            results = iter((await executed(pipe))[: len(mine)])
        outcomes = []
        for append in appends:
            if append.agent is None:
                outcomes.append(NOT_FOR_AN_AGENT)
            else:
                outcomes.append("duplicate" if next(results) == b"duplicate" else "appended")
        return outcomes

    def _trim_and_tell(self, pipe: Pipeline, agents: Sequence[str]) -> None:
        """Queue, after the appends: each log trimmed to the resume window and to its
        most entries, kept while in use, and one news message naming them all. (An XADD
        that trims cannot be undone by a failing script, so trimming is not in it.)"""
        oldest_kept = max(0, self._clock_ms() - self._resume_ms)
        for agent in agents:
            log = self._keys.desktop_log(agent)
            pipe.xtrim(log, minid=str(oldest_kept), approximate=False)
            pipe.xtrim(log, maxlen=self._max_entries, approximate=True)
            pipe.pexpire(log, self._resume_ms * 2)  # an agent gone quiet leaves no log
        news = NEWS_SEPARATOR.join(agents)
        if is_cluster(pipe):  # sharded: to the master of the tenant's slot (see hub.py)
            pipe.execute_command("SPUBLISH", self._keys.desktop_channel(), news)
        else:
            pipe.publish(self._keys.desktop_channel(), news)
