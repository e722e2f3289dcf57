"""Callback records in Redis. Every change is one Lua script: it checks that the record
is still the version the decision was made on (and the other guards), then writes the
record, its deadlines, indexes, campaign counters and the outbox, all atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from redis.asyncio import Redis
from switchboard_runtime.atomic import AtomicScript, GenerationSource
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.fields import STORED

from callback.model import CallbackRecord
from callback.transition import Transition

CONSUMER = "callback"

# KEYS[1] the record (hash: doc, version), KEYS[2] outbox, KEYS[3] the callback's
# deadline set, KEYS[4..] further keys, which the plan names by position.
# ARGV[1] the plan (JSON):
#   seen     {key, ttl}: 'duplicate' if the key exists, else it is set
#   claim    {key, member}: a deadline that must still be there ('gone' otherwise); removed
#   version  the record's expected version ('' = the record must not exist)
#   guards   {{key, value}}: GET key must equal value ('' = absent), else 'conflict'
#   doc      the new record (JSON); the version is incremented
#   zadd {{member, score}} (into KEYS[3])  zrem {{key, member}}  set {{key, value, ttl}}
#   unset {{key, value}} (DEL when it still holds value)  hincr {{key, field, delta}}
#   sadd {{key, member}}  outbox {{topic, key, value}}
_COMMIT_LUA = """
local plan = cjson.decode(ARGV[1])
if plan.seen and call('EXISTS', KEYS[plan.seen[1]]) == 1 then return 'duplicate' end
if plan.claim and not call('ZSCORE', KEYS[plan.claim[1]], plan.claim[2]) then return 'gone' end
local version = call('HGET', KEYS[1], 'version') or ''
if version ~= plan.version then return 'conflict' end
for _, g in ipairs(plan.guards) do
  if (call('GET', KEYS[g[1]]) or '') ~= g[2] then return 'conflict' end
end
if plan.claim then write('ZREM', KEYS[plan.claim[1]], plan.claim[2]) end
if plan.seen then write('SET', KEYS[plan.seen[1]], '1', 'EX', plan.seen[2]) end
if plan.doc then
  write('HSET', KEYS[1], 'doc', plan.doc, 'version', tostring((tonumber(version) or 0) + 1))
end
for _, z in ipairs(plan.zadd) do write('ZADD', KEYS[3], z[2], z[1]) end
for _, m in ipairs(plan.zrem) do write('ZREM', KEYS[m[1]], m[2]) end
for _, s in ipairs(plan.set) do
  if s[3] > 0 then write('SET', KEYS[s[1]], s[2], 'EX', s[3])
  else write('SET', KEYS[s[1]], s[2]) end
end
for _, u in ipairs(plan.unset) do
  if call('GET', KEYS[u[1]]) == u[2] then write('DEL', KEYS[u[1]]) end
end
for _, h in ipairs(plan.hincr) do write('HINCRBY', KEYS[h[1]], h[2], h[3]) end
for _, s in ipairs(plan.sadd) do write('SADD', KEYS[s[1]], s[2]) end
for _, e in ipairs(plan.outbox) do outbox_add(KEYS[2], e[1], e[2], e[3]) end
return 'applied'
"""

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


@dataclass
class _Plan:
    keys: list[str]
    body: dict[str, Any] = field(
        default_factory=lambda: {
            name: [] for name in ("guards", "zadd", "zrem", "set", "unset", "hincr", "sadd")
        }
    )

    def key(self, name: str) -> int:
        """The 1-based position of ``name`` in KEYS (added when new)."""
        if name not in self.keys:
            self.keys.append(name)
        return self.keys.index(name) + 1

    def add(self, op: str, *args: Any) -> None:
        self.body[op].append(list(args))


class CallbackStore:
    """Reads and atomic writes of callback records for one tenant."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        generation: GenerationSource,
        *,
        outbox_service: str = "callback",
        partition_of: PartitionOf = lambda _callback_id: None,
    ) -> None:
        """``partition_of``: the partition of callback.commands a callback's commands
        arrive on (None: not known); its deadlines are kept in that partition's set."""
        self._redis = redis
        self._keys = keys
        self._partition_of = partition_of
        self._outbox = keys.outbox(outbox_service)
        self._commit = AtomicScript(redis, _COMMIT_LUA, generation)

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
        """Apply the transition if its conditions still hold."""
        plan = self._plan(commit)
        outcome = await self._commit(plan.keys, [_json(plan.body)])
        return cast(CommitOutcome, outcome.decode())

    def _plan(self, commit: Commit) -> _Plan:
        t, cid = commit.transition, commit.callback_id
        deadlines = self._deadlines(self._partition_of(cid))
        plan = _Plan([self._keys.callback(cid), self._outbox, deadlines])
        plan.body["version"] = commit.version
        if commit.seen is not None:
            event_key, ttl = commit.seen
            plan.body["seen"] = [plan.key(self._keys.seen_event(CONSUMER, event_key)), ttl]
        if commit.claim is not None:
            member, partition = commit.claim
            plan.body["claim"] = [plan.key(self._deadlines(partition)), member]
        if commit.request is not None:
            request_key, answer, ttl = commit.request
            at = plan.key(self._keys.callback_request(request_key))
            plan.add("guards", at, "")
            plan.add("set", at, answer, ttl)
        if t.record is not None:
            plan.body["doc"] = t.record.model_dump_json(exclude_none=True)
            self._plan_record(plan, commit, t.record)
        for member, due in t.add_deadlines:
            plan.add("zadd", member, str(deadline_score(due)))
        # from the single set too: deadlines written before the partitions were known
        homes = {plan.key(deadlines), plan.key(self._keys.callback_deadlines())}
        plan.body["zrem"] = [[at, member] for member in t.remove_deadlines for at in sorted(homes)]
        for wid in t.link_items:
            plan.add("set", plan.key(self._keys.callback_of_item(wid)), cid, 0)
        for campaign_id, name, delta in t.counters:
            plan.add("hincr", plan.key(self._keys.campaign(campaign_id)), name, delta)
        plan.body["outbox"] = [list(event) for event in commit.events]
        return plan

    def _plan_record(self, plan: _Plan, commit: Commit, record: CallbackRecord) -> None:
        """The (queue, phone) index and the campaign's member set."""
        phone = plan.key(self._keys.callback_open(record.queue, record.customer_phone))
        if commit.phone_guard is not None:
            plan.add("guards", phone, commit.phone_guard)
        if commit.transition.claim_phone:
            plan.add("set", phone, record.callback_id, 0)
        if commit.transition.release_phone:
            plan.add("unset", phone, record.callback_id)
        if commit.version == "" and record.campaign_id is not None:
            campaign = plan.key(self._keys.campaign_callbacks(record.campaign_id))
            plan.add("sadd", campaign, record.callback_id)

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


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))
