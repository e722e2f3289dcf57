"""The read model in Redis: one Lua script per lifecycle event, and the Inbox look-up."""

from __future__ import annotations

import json
from typing import cast

from redis.asyncio import Redis
from switchboard_runtime.atomic import AtomicScript, GenerationSource
from switchboard_runtime.redis_keys import Keys

from workitem.projection import ApplyOutcome, Change
from workitem.store import StoredItem, stored_item

CONSUMER = "workitem"

# Checks the event was not seen, that the record exists and is open; then sets the
# record's fields, moves the item between agent Inboxes, appends the history entries
# and, for a completion, queues workitem.archived -- all in one atomic step.
# KEYS: seen, item, history, outbox, inbox prefix (the agent id is appended)
# ARGV: seen_ttl, id, fields (JSON object), clear_agent ('1'/'0'), agent ('' for none),
#       inbox (enter/leave/stay), entered_ms, history (JSON array of JSON strings),
#       topic, archived event ('' for none)
_APPLY_LUA = """
if call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
local status = call('HGET', KEYS[2], 'status')
if not status then return 'unknown' end
write('SET', KEYS[1], '1', 'EX', ARGV[1])
if status == 'archived' or status == 'cancelled' or status == 'completed' then
  return 'closed'
end
local id, agent, inbox = ARGV[2], ARGV[5], ARGV[6]
local prior = call('HGET', KEYS[2], 'agent_id')
if prior and (inbox == 'leave' or prior ~= agent) then
  write('ZREM', KEYS[5] .. prior, id)
end
if agent ~= '' and inbox == 'leave' then write('ZREM', KEYS[5] .. agent, id) end
if agent ~= '' and inbox ~= 'leave' then
  write('ZADD', KEYS[5] .. agent, 'NX', ARGV[7], id)
end
if ARGV[4] == '1' then write('HDEL', KEYS[2], 'agent_id') end
for name, value in pairs(cjson.decode(ARGV[3])) do write('HSET', KEYS[2], name, value) end
for _, entry in ipairs(cjson.decode(ARGV[8])) do write('RPUSH', KEYS[3], entry) end
if ARGV[10] ~= '' then outbox_add(KEYS[4], ARGV[9], id, ARGV[10]) end
return 'applied'
"""


class ReadModelStore:
    """Applies projection changes atomically and reads agents' Inboxes, for one tenant."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        generation: GenerationSource,
        *,
        outbox_service: str = "workitem",
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._outbox = keys.outbox(outbox_service)
        self._apply = AtomicScript(redis, _APPLY_LUA, generation)

    async def apply(self, change: Change, seen_ttl: int) -> ApplyOutcome:
        """Apply ``change`` unless its event was seen, the item is unknown or closed."""
        wid = change.work_item_id
        keys = [
            self._keys.seen_event(CONSUMER, change.event_key),
            self._keys.work_item(wid),
            self._keys.work_item_history(wid),
            self._outbox,
            self._keys.agent_inbox_prefix(),
        ]
        args: list[str | int] = [
            seen_ttl,
            wid,
            json.dumps(change.fields),
            "1" if change.clear_agent else "0",
            change.agent_id or "",
            change.inbox,
            change.entered_ms,
            json.dumps(change.history),
            change.topic,
            change.archived_event_json or "",
        ]
        outcome: bytes = await self._apply(keys, args)
        return cast(ApplyOutcome, outcome.decode())

    async def inbox(self, agent_id: str) -> list[StoredItem]:
        """The records in the agent's Inbox, in the order they entered it (no history)."""
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
