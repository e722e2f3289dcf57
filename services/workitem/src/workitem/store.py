"""Work item records in Redis; every change is one Lua script that also fills the outbox.

The scripts are ``lua/create_item.lua`` and ``lua/request_cancel.lua`` (their headers
name their arguments and answers), written as :mod:`switchboard_runtime.lua` describes.
The record type and its decoding (``StoredItem``, ``stored_item``) are the read model's
contract, :mod:`switchboard_schemas.read_model`, shared with the desktop gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from redis.asyncio import Redis
from switchboard_runtime.atomic import AtomicScript, GenerationSource
from switchboard_runtime.lua import lua_files
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.read_model import StoredItem, stored_item

__all__ = [
    "CancelOutcome",
    "CreateOutcome",
    "NewItem",
    "StoredItem",
    "WorkItemStore",
    "named",
    "read_item",
    "stored_item",
]

CreateOutcome = Literal["created", "duplicate", "conflict"]
CancelOutcome = Literal["requested", "duplicate", "unknown", "closed"]


def named(**args: Any) -> dict[str, Any]:
    """A script's named arguments: those that are None are left out (absent in Lua)."""
    return {name: value for name, value in args.items() if value is not None}


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

    def __init__(self, redis: Redis, keys: Keys, generation: GenerationSource) -> None:
        self._redis = redis
        self._keys = keys
        self._create = AtomicScript(
            redis, keys, lua_files("workitem", "create_item.lua"), generation
        )
        self._cancel = AtomicScript(
            redis, keys, lua_files("workitem", "request_cancel.lua"), generation
        )

    async def create(
        self, new: NewItem, request_key: str | None, request_ttl: int, *, emit: bool = True
    ) -> tuple[CreateOutcome, str]:
        """Create the item and queue its event, unless the request or id was seen before."""
        args = named(
            work_item_id=new.work_item_id,
            fingerprint=new.fingerprint,
            item=new.item_json,
            now=new.now,
            history_entry=new.history_entry,
            request_key=request_key or None,
            request_ttl=request_ttl,
            topic=new.topic,
            event=new.event_json if emit else None,
        )
        outcome, work_item_id = await self._create(args)
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
        args = named(
            work_item_id=work_item_id,
            request_key=request_key,
            request_ttl=request_ttl,
            now=now,
            history_entry=history_entry,
            topic=topic,
            event=event_json,
        )
        outcome: bytes = await self._cancel(args)
        return cast(CancelOutcome, outcome.decode())

    async def get(self, work_item_id: str) -> StoredItem | None:
        """The record, or None when the id is unknown."""
        return await read_item(self._redis, self._keys, work_item_id)


async def read_item(redis: Redis, keys: Keys, work_item_id: str) -> StoredItem | None:
    """The record and its whole history, or None when the id is unknown: one consistent
    snapshot (MULTI/EXEC: no script runs between the two reads)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hgetall(keys.work_item(work_item_id))
        pipe.lrange(keys.work_item_history(work_item_id), 0, -1)
        fields, history = await pipe.execute()
    return stored_item(fields, history)
