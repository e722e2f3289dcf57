"""The read model in Redis: one Lua script per lifecycle event, and the Inbox look-up.

The script is ``lua/apply_change.lua`` (its header names its arguments and answers),
written as :mod:`switchboard_runtime.lua` describes. It also lets a record that closes
expire after the retention (``RETENTION_DAYS``); open records are kept.
"""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis
from switchboard_runtime.atomic import AtomicScript, GenerationSource
from switchboard_runtime.inbox_read import InboxRead
from switchboard_runtime.lua import lua_files
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.read_model import StoredItem

from workitem.projection import ARCHIVED, ApplyOutcome, Change
from workitem.store import named, read_item


class ReadModelStore:
    """Applies projection changes atomically and reads agents' Inboxes, for one tenant."""

    def __init__(
        self, redis: Redis, keys: Keys, generation: GenerationSource, *, retention_s: int
    ) -> None:
        """``retention_s``: how long a closed (archived or cancelled) record and its
        history stay, in seconds."""
        self._redis = redis
        self._keys = keys
        self._retention_s = retention_s
        self._apply = AtomicScript(
            redis, keys, lua_files("workitem", "apply_change.lua"), generation
        )
        self._inbox = InboxRead(redis, keys)

    async def get(self, work_item_id: str) -> StoredItem | None:
        """The record with its whole history, or None when the id is unknown."""
        return await read_item(self._redis, self._keys, work_item_id)

    async def apply(self, change: Change, seen_ttl: int) -> ApplyOutcome:
        """Apply ``change`` unless its event was seen, the item is unknown or closed, or
        (``stale``) the record's history is no longer as long as ``change`` expects."""
        args = named(
            work_item_id=change.work_item_id,
            event_key=change.event_key,
            seen_ttl=seen_ttl,
            fields=change.fields,
            clear_agent=change.clear_agent,
            agent_id=change.agent_id,
            inbox=change.inbox,
            entered_ms=change.entered_ms,
            history=change.history,
            history_len=change.history_len,
            topic=change.topic,
            archived_event=change.archived_event_json,
            archived_type=ARCHIVED if change.archived_event_json else None,
            retention_s=self._retention_s,
        )
        outcome: bytes = await self._apply(args)
        return cast(ApplyOutcome, outcome.decode())

    async def inbox(self, agent_id: str) -> list[StoredItem]:
        """The records in the agent's Inbox, in the order they entered it (no history):
        the shared read (:class:`switchboard_runtime.inbox_read.InboxRead`)."""
        return await self._inbox.inbox(agent_id)
