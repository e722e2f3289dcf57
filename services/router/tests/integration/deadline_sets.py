"""The router's deadlines, wherever they are: in the single set (agents without a known
partition) or in the set of a partition of agent.commands."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis
from switchboard_runtime.redis_keys import Keys

MOST_PARTITIONS = 8  # the partition sets looked at: 0..7
# (member, due epoch ms, partition or None for the single set)
Deadline = tuple[str, float, int | None]


def deadline_sets(keys: Keys) -> list[tuple[str, int | None]]:
    """Every sorted set a deadline may be in, with its partition (None: the single)."""
    parts = [(keys.deadlines_of(p), p) for p in range(MOST_PARTITIONS)]
    return [(keys.deadlines(), None), *parts]


async def deadlines_due(redis: Redis, keys: Keys, upto: float | str = "+inf") -> list[Deadline]:
    """Every deadline due by ``upto``, of every set, by due time."""
    found: list[Deadline] = []
    for key, part in deadline_sets(keys):
        rows = await redis.zrangebyscore(key, "-inf", upto, withscores=True)
        found += [(member, score, part) for member, score in cast(list[tuple[str, float]], rows)]
    return sorted(found, key=lambda d: (d[1], d[0]))
