"""Reading an agent's Inbox records from the work item read model, read-only.

The work item service writes the read model (:mod:`switchboard_schemas.read_model`);
its Inbox API and the desktop gateway's snapshot read it here, and shape it with
:func:`switchboard_schemas.inbox.build_inbox`.
"""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis
from switchboard_schemas.read_model import StoredItem, stored_item

from switchboard_runtime.redis_keys import Keys


class InboxRead:
    """The records in agents' Inboxes, for one tenant."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def inbox(self, agent_id: str) -> list[StoredItem]:
        """The records in the agent's Inbox, in the order they entered it (no history).

        The index, then every record's hash in one pipeline: a record that changed in
        between is read as it is now, and one gone since is left out; ``build_inbox``
        drops those no longer in this agent's Inbox."""
        key = self._keys.agent_inbox(agent_id)
        ids = cast(list[bytes], await self._redis.zrange(key, 0, -1))
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for work_item_id in ids:
                pipe.hgetall(self._keys.work_item(work_item_id.decode()))
            found = await pipe.execute()
        records = [stored_item(fields, []) for fields in found]
        return [record for record in records if record is not None]
