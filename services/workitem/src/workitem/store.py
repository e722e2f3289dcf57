"""Work item records in Redis; every change is one Lua script that also fills the outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, cast

from redis.asyncio import Redis
from switchboard_runtime.atomic import AtomicScript, GenerationSource
from switchboard_runtime.redis_keys import Keys

# KEYS: request, item, history, outbox
# ARGV: has_request, id, fingerprint, item_json, now, history_entry, event_json, topic, ttl,
#       emit ('1': append the event to the outbox)
_CREATE_LUA = """
if ARGV[1] == '1' then
  local prior = call('HMGET', KEYS[1], 'work_item_id', 'fingerprint')
  if prior[1] then
    if prior[2] ~= ARGV[3] then return {'conflict', prior[1]} end
    return {'duplicate', prior[1]}
  end
end
local existing = call('HGET', KEYS[2], 'fingerprint')
if existing then
  if existing ~= ARGV[3] then return {'conflict', ARGV[2]} end
  return {'duplicate', ARGV[2]}
end
write('HSET', KEYS[2], 'item', ARGV[4], 'status', 'created', 'fingerprint', ARGV[3],
           'created_at', ARGV[5], 'updated_at', ARGV[5])
write('RPUSH', KEYS[3], ARGV[6])
if ARGV[1] == '1' then
  write('HSET', KEYS[1], 'work_item_id', ARGV[2], 'fingerprint', ARGV[3])
  write('EXPIRE', KEYS[1], ARGV[9])
end
if ARGV[10] == '1' then outbox_add(KEYS[4], ARGV[8], ARGV[2], ARGV[7]) end
return {'created', ARGV[2]}
"""

# KEYS: request, item, history, outbox
# ARGV: id, now, history_entry, event_json, topic, ttl
_CANCEL_LUA = """
if call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
local status = call('HGET', KEYS[2], 'status')
if not status then return 'unknown' end
write('SET', KEYS[1], '1', 'EX', ARGV[6])
if status == 'completed' or status == 'cancelled' or status == 'archived' then
  return 'closed'
end
write('HSET', KEYS[2], 'cancel_requested_at', ARGV[2], 'updated_at', ARGV[2])
write('RPUSH', KEYS[3], ARGV[3])
outbox_add(KEYS[4], ARGV[5], ARGV[1], ARGV[4])
return 'requested'
"""

CreateOutcome = Literal["created", "duplicate", "conflict"]
CancelOutcome = Literal["requested", "duplicate", "unknown", "closed"]


@dataclass(frozen=True)
class StoredItem:
    """A work item record as kept in Redis."""

    item: dict[str, Any]
    status: str
    created_at: str
    updated_at: str
    cancel_requested_at: str | None
    history: list[dict[str, Any]]
    agent_id: str | None = None
    disposition_code: str | None = None
    notes: str | None = None
    archived_at: str | None = None


def stored_item(fields: dict[bytes, bytes], history: list[bytes]) -> StoredItem | None:
    """A record from its Redis hash and history list; None when the hash is empty."""
    if not fields:
        return None
    text = {k.decode(): v.decode() for k, v in fields.items()}
    return StoredItem(
        item=json.loads(text["item"]),
        status=text["status"],
        created_at=text["created_at"],
        updated_at=text["updated_at"],
        cancel_requested_at=text.get("cancel_requested_at"),
        history=[json.loads(entry) for entry in history],
        agent_id=text.get("agent_id"),
        disposition_code=text.get("disposition_code"),
        notes=text.get("notes"),
        archived_at=text.get("archived_at"),
    )


@dataclass(frozen=True)
class NewItem:
    """Everything the create script writes for one new item."""

    work_item_id: str
    fingerprint: str
    item_json: str
    now: str
    history_entry: str
    event_json: str
    topic: str


class WorkItemStore:
    """Reads and atomic writes of work item records for one tenant."""

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
        self._create = AtomicScript(redis, _CREATE_LUA, generation)
        self._cancel = AtomicScript(redis, _CANCEL_LUA, generation)

    async def create(
        self, new: NewItem, request_key: str | None, request_ttl: int, *, emit: bool = True
    ) -> tuple[CreateOutcome, str]:
        """Create the item and queue its event, unless the request or id was seen before."""
        keys = [
            self._keys.request("create", request_key or "-"),
            self._keys.work_item(new.work_item_id),
            self._keys.work_item_history(new.work_item_id),
            self._outbox,
        ]
        args: list[str | int] = [
            "1" if request_key else "0",
            new.work_item_id,
            new.fingerprint,
            new.item_json,
            new.now,
            new.history_entry,
            new.event_json,
            new.topic,
            request_ttl,
            "1" if emit else "0",
        ]
        outcome, work_item_id = await self._create(keys, args)
        return cast(CreateOutcome, outcome.decode()), work_item_id.decode()

    async def request_cancel(
        self,
        work_item_id: str,
        *,
        request_key: str,
        now: str,
        history_entry: str,
        event_json: str,
        topic: str,
        request_ttl: int,
    ) -> CancelOutcome:
        """Record a cancellation request and queue its event (the router does the cancelling)."""
        keys = [
            self._keys.request("cancel", request_key),
            self._keys.work_item(work_item_id),
            self._keys.work_item_history(work_item_id),
            self._outbox,
        ]
        args: list[str | int] = [work_item_id, now, history_entry, event_json, topic, request_ttl]
        outcome: bytes = await self._cancel(keys, args)
        return cast(CancelOutcome, outcome.decode())

    async def get(self, work_item_id: str) -> StoredItem | None:
        """The record, or None when the id is unknown."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._keys.work_item(work_item_id))
            pipe.lrange(self._keys.work_item_history(work_item_id), 0, -1)
            fields, history = await pipe.execute()
        return stored_item(fields, history)
