"""Transactional outbox on a Redis stream, and the relay that drains it into Kafka.

A service's Lua script changes state and appends the resulting events to the outbox
stream in one atomic step (``outbox_add`` of ``lua/outbox.lua``, in every state-changing
script). The relay publishes the stream to Kafka and deletes entries only after Kafka
acknowledged them, so an event is never lost; after a crash it may be published twice, and
every consumer de-duplicates by CloudEvents ``id``.

One replica at a time holds a lease on the stream and relays it, which keeps the
stream's order on each Kafka partition. What waits in the stream is read at scrape time
(switchboard_runtime.live_metrics.OutboxGauges), so it reads 0 once drained, whichever
replica drained it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any, cast

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder
from redis.asyncio import Redis
from redis.exceptions import RedisClusterException, RedisError

from switchboard_runtime.logs import ids_of
from switchboard_runtime.metrics import outbox_metrics
from switchboard_runtime.waiting import wait_at_most

log = structlog.get_logger(__name__)

BLOCK_MS = 1000  # longest a relay's read waits for new entries (a third of the lease at most)
CONTENT_TYPE_HEADER = ("content-type", b"application/cloudevents+json")
# The event's CloudEvents type, when the outbox entry names it (field "y"): consumers
# skip the types they don't follow without parsing the JSON (see pipeline.py).
TYPE_HEADER = "sb-type"

_LEASE_LUA = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

Entry = tuple[bytes, dict[bytes, bytes]]


class KeyHashes:
    """Kafka's default partitioner hashes a key with murmur2 (the partition is the hash
    modulo the partition count). aiokafka computes it in pure Python, and the relay sends
    each item's and agent's key many times, so recent keys' hashes are remembered."""

    def __init__(self, remember: int = 100_000) -> None:
        self._hashes: dict[bytes, int] = {}
        self._remember = remember

    def __call__(self, key: bytes) -> int:
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self._remember:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return hashed


def published_fields(value: bytes) -> dict[str, Any]:
    """What the line of a published event says: its type and id, the ids of what it is
    about (work item, agent, offer, callback) and its correlation id."""
    try:
        event = json.loads(value)
    except ValueError:
        return {}
    if not isinstance(event, dict):
        return {}
    data = event.get("data")
    return {
        "ce_type": event.get("type"),
        "ce_id": event.get("id"),
        "correlation_id": event.get("correlationid") or event.get("id"),
        **(ids_of(data) if isinstance(data, dict) else {}),
    }


class OutboxRelay:
    """Publishes one outbox stream to Kafka, in order, acknowledging only what Kafka took."""

    def __init__(
        self,
        redis: Redis,
        producer: AIOKafkaProducer,
        *,
        stream: str,
        lease_key: str,
        service: str,
        batch_size: int = 500,
        lease_ms: int = 3000,
        log_events: bool = True,
    ) -> None:
        """``log_events``: one INFO line per published event (else DEBUG)."""
        self._redis = redis
        self._producer = producer
        self._stream = stream
        self._lease_key = lease_key
        self._service = service
        self._batch_size = batch_size
        self._lease_ms = lease_ms
        self._block_ms = min(BLOCK_MS, lease_ms // 3)
        self._me = f"{service}-{uuid.uuid4().hex[:10]}"
        self._lease = redis.register_script(_LEASE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)
        self._stopping = asyncio.Event()
        self._hash = KeyHashes()
        self._renew_at = 0.0  # monotonic time at which the lease is renewed next
        self._metrics = outbox_metrics(service)
        self._acked: list[bytes] = []  # published and acknowledged, deleted next round
        self._event_level = logging.INFO if log_events else logging.DEBUG
        self.published = 0

    async def run(self) -> None:
        """Relay until ``stop()``; Redis or Kafka failures are retried with back-off."""
        last_id = b"0-0"
        backoff = 0.05
        while not self._stopping.is_set():
            try:
                if not await self._hold_lease():
                    await self._pause(self._lease_ms / 3000)
                    continue
                last_id = await self._relay_once(last_id)
                backoff = 0.05
            except (TimeoutError, RedisError, RedisClusterException, OSError) as exc:
                self._renew_at = 0.0  # the lease may have lapsed meanwhile: check it again
                log.warning("outbox_relay_retrying", error=repr(exc), backoff_s=backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception as exc:
                log.warning("outbox_publish_failed", error=repr(exc), backoff_s=backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, 2.0)
        if self._acked:  # what is left would only be published again by the next holder
            with contextlib.suppress(RedisError, RedisClusterException):
                await self._redis.xdel(self._stream, *self._acked)

    async def _hold_lease(self) -> bool:
        """Take or renew the lease; a holder renews once a third of it has passed, not every
        round, which saves a Redis round trip per round at high rates."""
        now = time.monotonic()
        if now < self._renew_at:
            return True
        if await self._lease(keys=[self._lease_key], args=[self._me, self._lease_ms]):
            self._renew_at = now + self._lease_ms / 3000
            return True
        self._renew_at = 0.0
        return False

    async def _relay_once(self, last_id: bytes) -> bytes:
        entries = await self._delete_acked_and_read()
        if not entries:
            # The stream is empty: block until something newer than what we last relayed
            # is appended, and relay that at once (no second read, no added wait).
            entries = await self._read_new(last_id)
            if not entries:
                return last_id
        await self._publish(entries)
        self._acked = [entry_id for entry_id, _ in entries]
        self.published += len(entries)
        self._metrics.published.inc(len(entries))
        return self._acked[-1]

    async def _delete_acked_and_read(self) -> list[Entry]:
        """Delete what Kafka acknowledged last round and read the next entries, in one
        round trip (a round trip can wait behind other clients' scripts in Redis)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            if self._acked:
                pipe.xdel(self._stream, *self._acked)
            pipe.xrange(self._stream, count=self._batch_size)
            results = await pipe.execute()
        self._acked = []
        return cast(list[Entry], results[-1])

    async def _read_new(self, last_id: bytes) -> list[Entry]:
        """Entries after ``last_id``, waiting up to the block time for the first."""
        found = await self._redis.xread(
            {self._stream: last_id}, count=self._batch_size, block=self._block_ms
        )
        streams = cast(list[tuple[bytes, list[Entry]]], found or [])
        return [entry for _, entries in streams for entry in entries]

    async def _publish(self, entries: Sequence[Entry]) -> None:
        """Publish ``entries`` as one record batch per partition (several if they overflow),
        keeping their order within each partition; wait for Kafka to acknowledge all."""
        open_batches: dict[tuple[str, int], BatchBuilder] = {}
        futures: list[asyncio.Future[object]] = []
        partitions: dict[str, list[int]] = {}
        for _, fields in entries:
            topic, key, value = fields[b"t"].decode(), fields[b"k"], fields[b"v"]
            headers = [CONTENT_TYPE_HEADER]
            if b"y" in fields:
                headers.append((TYPE_HEADER, fields[b"y"]))
            if topic not in partitions:
                partitions[topic] = sorted(await self._producer.partitions_for(topic))
            where = (topic, partitions[topic][self._hash(key) % len(partitions[topic])])
            batch = open_batches.get(where) or self._producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                futures.append(await self._send(batch, where))  # full: send, start another
                batch = self._producer.create_batch()
                batch.append(key=key, value=value, timestamp=None, headers=headers)
            open_batches[where] = batch
        for where, batch in open_batches.items():
            futures.append(await self._send(batch, where))
        await asyncio.gather(*futures)
        if log.is_enabled_for(self._event_level):
            for _, fields in entries:
                log.log(self._event_level, "event_published", **published_fields(fields[b"v"]))

    async def _send(self, batch: BatchBuilder, where: tuple[str, int]) -> asyncio.Future[object]:
        topic, partition = where
        batch.close()  # complete: sent at once, without waiting out the producer's linger
        future: asyncio.Future[object] = await self._producer.send_batch(
            batch, topic, partition=partition
        )
        return future

    async def _pause(self, seconds: float) -> None:
        await wait_at_most(self._stopping, seconds)

    async def stop(self) -> None:
        self._stopping.set()
        try:
            await self._release(keys=[self._lease_key], args=[self._me])
        except (RedisError, RedisClusterException):
            log.warning("outbox_lease_release_failed")
