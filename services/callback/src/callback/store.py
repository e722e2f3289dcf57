"""Callback records in Redis. Every change is one Lua script (``lua/commit.lua``): it
checks that the record is still the version the decision was made on (and the other
guards), then writes the record, its deadlines, indexes, campaign counters and the outbox,
all atomically. A closed callback's record and the links of its work items expire after
the retention (RETENTION_DAYS); open ones never do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from redis.asyncio import Redis
from switchboard_runtime.atomic import AtomicScript, GenerationSource
from switchboard_runtime.lua import lua_files
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.fields import STORED

from callback.model import OPEN, CallbackRecord
from callback.transition import Transition

PartitionOf = Callable[[str], int | None]
CommitOutcome = Literal["applied", "duplicate", "conflict", "gone"]
Outgoing = tuple[str, str, str]  # topic, Kafka key, CloudEvent JSON


@dataclass(frozen=True)
class Loaded:
    """A record as read, with the version a change must still find to apply."""

    record: CallbackRecord | None
    version: str = ""


@dataclass(frozen=True)
class Commit:
    """One transition of one callback, with the conditions it was decided under."""

    callback_id: str
    version: str
    transition: Transition
    events: Sequence[Outgoing] = ()
    seen: tuple[str, int] | None = None  # event key ("<source>|<id>"), ttl
    claim: tuple[str, int | None] | None = None  # deadline being fired, its set's partition
    phone_guard: str | None = None  # what the (queue, phone) index must hold ('' = nothing)
    request: tuple[str, str, int] | None = None  # request key, its answer, ttl


def epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch, rounded down (what the timer's clock reads)."""
    return int(moment.timestamp() * 1000)


def deadline_score(due: datetime) -> int:
    """A deadline's score, rounded up: it never fires before ``due``."""
    return math.ceil(due.timestamp() * 1000)


class CallbackStore:
    """Reads and atomic writes of callback records for one tenant."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        generation: GenerationSource,
        *,
        retention_seconds: int,
        partition_of: PartitionOf = lambda _callback_id: None,
    ) -> None:
        """``partition_of``: the partition of callback.commands a callback's commands
        arrive on (None: not known); its deadlines are kept in that partition's set.
        ``retention_seconds``: how long a closed callback's record and the links of its
        work items are kept (open ones never expire)."""
        self._redis = redis
        self._keys = keys
        self._partition_of = partition_of
        self._retention = retention_seconds
        self._commit = AtomicScript(redis, keys, lua_files("callback", "commit.lua"), generation)

    async def load(self, callback_id: str) -> Loaded:
        found = await self._redis.hmget(self._keys.callback(callback_id), "doc", "version")
        doc, version = cast(list[bytes | None], found)
        if doc is None or version is None:
            return Loaded(None)
        record = CallbackRecord.model_validate_json(doc, context=STORED)
        return Loaded(record, version.decode())

    async def open_callback(self, queue: str, phone: str) -> str | None:
        """The open callback for this number in this queue, if there is one."""
        return await self._get(self._keys.callback_open(queue, phone))

    async def callback_of_item(self, work_item_id: str) -> str | None:
        return await self._get(self._keys.callback_of_item(work_item_id))

    async def request_answer(self, request_key: str) -> tuple[str, str] | None:
        """What an earlier delivery of this request got: (outcome, callback id)."""
        answer = await self._get(self._keys.callback_request(request_key))
        if answer is None:
            return None
        outcome, _, callback_id = answer.partition(":")
        return outcome, callback_id

    async def _get(self, key: str) -> str | None:
        value = await self._redis.get(key)
        return None if value is None else cast(bytes, value).decode()

    async def commit(self, commit: Commit) -> CommitOutcome:
        """Apply the transition if its conditions still hold (``lua/commit.lua``)."""
        outcome = await self._commit(self.commit_args(commit))
        return cast(CommitOutcome, outcome.decode())

    def commit_args(self, commit: Commit) -> dict[str, Any]:
        """The commit script's named arguments (absent ones are left out, never null)."""
        t, cid = commit.transition, commit.callback_id
        args: dict[str, Any] = {
            "callback_id": cid,
            "version": commit.version,
            "add_deadlines": [[m, str(deadline_score(due))] for m, due in t.add_deadlines],
            "remove_deadlines": list(t.remove_deadlines),
            "link_items": list(t.link_items),
            "counters": [list(counter) for counter in t.counters],
            "events": [list(event) for event in commit.events],
        }
        partition = self._partition_of(cid)
        if partition is not None:
            args["partition"] = partition
        if commit.seen is not None:
            event_key, ttl = commit.seen
            args["seen"] = {"event_key": event_key, "ttl": ttl}
        if commit.claim is not None:
            member, claim_partition = commit.claim
            args["claim"] = _present(member=member, partition=claim_partition)
        if commit.request is not None:
            request_key, answer, ttl = commit.request
            # remembered no longer than a closed record is: a replay after that is new
            ttl = min(ttl, self._retention)
            args["request"] = {"key": request_key, "answer": answer, "ttl": ttl}
        if t.record is not None:
            args.update(self._record_args(commit, t.record))
        return args

    def _record_args(self, commit: Commit, record: CallbackRecord) -> dict[str, Any]:
        """The new record, the (queue, phone) index, the campaign's member set and, once
        it is closed, its retention."""
        t = commit.transition
        args: dict[str, Any] = {
            "doc": record.model_dump_json(exclude_none=True),
            "status": str(record.status),
            "open_statuses": sorted(OPEN),
        }
        args["phone"] = _present(
            queue=record.queue,
            phone=record.customer_phone,
            guard=commit.phone_guard,
            claim=t.claim_phone,
            release=t.release_phone,
        )
        if commit.version == "" and record.campaign_id is not None:
            args["campaign_member"] = record.campaign_id
        if not record.is_open:
            items = [a.work_item_id for a in record.attempts if a.work_item_id is not None]
            links = list(dict.fromkeys([*items, *t.link_items]))
            args["retain"] = {"ttl": self._retention, "items": links}
        return args

    def _deadlines(self, partition: int | None) -> str:
        if partition is None:
            return self._keys.callback_deadlines()
        return self._keys.callback_deadlines_of(partition)

    async def postpone(self, member: str, partition: int | None, due_ms: int) -> None:
        """Move a deadline (of ``partition``'s set) that could not be fired to a later
        time, if it is still there."""
        await self._redis.zadd(self._deadlines(partition), {member: due_ms}, xx=True)

    async def open_campaign(self, campaign_id: str, queue: str, now: str) -> None:
        """Create the campaign's record on its first upload; note the latest upload."""
        key = self._keys.campaign(campaign_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "created_at", now)
            pipe.hsetnx(key, "queue", queue)
            pipe.hset(key, "updated_at", now)
            await pipe.execute()

    async def count_rejected(self, campaign_id: str, rejected: int) -> None:
        await self._redis.hincrby(self._keys.campaign(campaign_id), "rejected", rejected)

    async def campaign(self, campaign_id: str) -> dict[str, str] | None:
        fields = cast(
            dict[bytes, bytes], await self._redis.hgetall(self._keys.campaign(campaign_id))
        )
        if not fields:
            return None
        return {k.decode(): v.decode() for k, v in fields.items()}


def _present(**fields: Any) -> dict[str, Any]:
    """``fields`` without the ones that are None (JSON null is truthy in Lua)."""
    return {name: value for name, value in fields.items() if value is not None}
