"""This replica's open streams, woken when their agent's log grows.

One subscription per replica to the tenant's news channel (each message: the agent ids
whose log grew, one per line; on a Redis Cluster a sharded one, SSUBSCRIBE, served by
the master of the tenant's slot); each open stream waits on a flag of its own and, when
woken, reads its agent's log from where it left off. The log is in Redis, so a lost
notification (the subscription reconnecting) costs only latency: every stream reads its
log again at each heartbeat, and all of them are woken when the subscription comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterator

import structlog
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterPubSub
from redis.exceptions import RedisClusterException, RedisError
from switchboard_runtime.waiting import wait_at_most

log = structlog.get_logger(__name__)

RETRY_S = 1.0
NEWS_SEPARATOR = "\n"  # between the agent ids of one news message (ids have no newline)


class Hub:
    """Wakes the open streams of an agent when the channel names it."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._open: defaultdict[str, set[asyncio.Event]] = defaultdict(set)
        self._stopping = asyncio.Event()

    @contextlib.contextmanager
    def listening(self, agent: str) -> Iterator[asyncio.Event]:
        """A flag set whenever ``agent``'s log may have grown, while the block runs."""
        flag = asyncio.Event()
        self._open[agent].add(flag)
        try:
            yield flag
        finally:
            self._open[agent].discard(flag)
            if not self._open[agent]:
                del self._open[agent]

    @property
    def streams(self) -> int:
        return sum(len(flags) for flags in self._open.values())

    def streams_of(self, agent: str) -> int:
        """The streams of ``agent`` open on this replica."""
        return len(self._open.get(agent, ()))

    def wake(self, agent: str) -> None:
        for flag in self._open.get(agent, ()):
            flag.set()

    def wake_all(self) -> None:
        for agent in list(self._open):
            self.wake(agent)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._listen()
            except (RedisError, RedisClusterException, OSError) as exc:
                log.warning("desktop_news_unavailable", error=repr(exc))
                await wait_at_most(self._stopping, RETRY_S)

    async def _listen(self) -> None:
        async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            if isinstance(pubsub, ClusterPubSub):  # sharded: on the tenant's master
                await pubsub.ssubscribe(self._channel)
                get_message = pubsub.get_sharded_message
            else:
                await pubsub.subscribe(self._channel)
                get_message = pubsub.get_message
            self.wake_all()  # whatever was published while not subscribed
            while not self._stopping.is_set():
                message = await get_message(timeout=1.0)
                if message is not None and message.get("type") in ("message", "smessage"):
                    self._wake_named(message["data"])

    def _wake_named(self, data: object) -> None:
        text = data.decode() if isinstance(data, bytes) else str(data)
        for agent in text.split(NEWS_SEPARATOR):
            self.wake(agent)

    def stop(self) -> None:
        self._stopping.set()
