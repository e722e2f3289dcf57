"""Each agent's desktop log: every event addressed to the agent, appended once, kept for
the resume window (docs/desktop.md).

The gateway's consumer reads ``agent.events`` (everything there is addressed to an agent)
and the lifecycle events on ``workitem.events`` that name the agent holding the item,
which is how the Inbox changes reach the page. Each is appended to the agent's stream in
Redis by one script (seen once, then XADD); the stream is then trimmed to the resume
window and its news published, so every replica's open streams of that agent read on.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel
from redis.asyncio import Redis
from switchboard_runtime.atomic import AtomicScript, GenerationSource
from switchboard_runtime.clock import ClockMs
from switchboard_runtime.dispatch import Handlers, On
from switchboard_runtime.lua import lua_files
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.registry import AGENT_EVENT_MODELS, WORKITEM_EVENT_MODELS
from switchboard_schemas.topics import AGENT_EVENTS, WORKITEM_EVENTS

# the item steps an agent's page follows: its Inbox rows come and go and change status
ITEM_STEPS = (
    "workitem.accepted",
    "workitem.dialed",
    "workitem.offer_rejected",
    "workitem.skipped",
    "workitem.held",
    "workitem.resumed",
    "workitem.wrapup_started",
    "workitem.wrapup_expired",
    "workitem.completed",
    "workitem.cancelled",
)


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

    def handlers(self) -> Mapping[str, Handlers]:
        """What the gateway's consumer does with each topic's types (others it skips)."""
        agent: Handlers = {t: On(model, self.append) for t, model in AGENT_EVENT_MODELS.items()}
        items: Handlers = {t: On(WORKITEM_EVENT_MODELS[t], self.append) for t in ITEM_STEPS}
        return {AGENT_EVENTS: agent, WORKITEM_EVENTS: items}

    async def append(self, event: CloudEvent, payload: BaseModel) -> str:
        """Append ``event`` to the log of the agent it names; appended, duplicate or
        not_for_an_agent (an item event of an item nobody held)."""
        agent = getattr(payload, "agent_id", None)
        if not isinstance(agent, str):
            return "not_for_an_agent"
        entry = await self._append(
            {
                "agent_id": agent,
                "event_key": f"{event.source}|{event.id}",
                "seen_ttl": self._seen_ttl,
                "type": event.type,
                "event": event.model_dump_json(exclude_none=True),
            }
        )
        if entry == b"duplicate":
            return "duplicate"
        await self._trim_and_tell(agent)
        return "appended"

    async def _trim_and_tell(self, agent: str) -> None:
        log = self._keys.desktop_log(agent)
        oldest_kept = max(0, self._clock_ms() - self._resume_ms)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xtrim(log, minid=str(oldest_kept), approximate=False)
            pipe.xtrim(log, maxlen=self._max_entries, approximate=True)
            pipe.pexpire(log, self._resume_ms * 2)  # an agent gone quiet leaves no log
            pipe.publish(self._keys.desktop_channel(), agent)
            await pipe.execute()
