"""A router script that fails half-way leaves nothing behind (issue 9, part 2).

For each step of an item's life, the test first learns which keys the step writes, then
plants a key of the wrong type at each of them in turn — the error strikes at that
write, after whatever the script wrote before it — and checks that the script failed,
that every other key is exactly as before, and that the command is not remembered as
seen: applied once the key is repaired, never answered ``duplicate``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from switchboard_runtime.atomic import ScriptFailed

from .routerkit import Harness

pytestmark = pytest.mark.integration

Step = Callable[[], Awaitable[str]]
FAILED = "^SB_SCRIPT_FAILED .*(WRONGTYPE|not an integer)"


class Snapshot(dict[str, tuple[Any, int]]):
    """Every key of a tenant: its content and whether it expires; ``dumps`` to restore."""

    dumps: dict[str, bytes]


async def snapshot(redis: Redis, harness: Harness) -> Snapshot:
    """Compared by what readers see: an entry added to a stream and deleted again leaves
    only the stream's last-id counter moved on, a field set and unset its place in the
    hash's encoding, and no reader can tell either."""
    taken = Snapshot()
    taken.dumps = {}
    async for key in redis.scan_iter(match=f"{harness.keys.tag}:*", count=1000):
        dumped = await redis.dump(key)
        if dumped is None:
            continue
        taken[key] = (await content(redis, key), 1 if await redis.pttl(key) > 0 else -1)
        taken.dumps[key] = dumped
    return taken


async def content(redis: Redis, key: str) -> Any:
    """What a reader of ``key`` sees (a serialised dump would also tell field order)."""
    kind = await redis.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    if kind == "hash":
        return await redis.hgetall(key)
    if kind == "set":
        return await redis.smembers(key)
    if kind == "zset":
        return await redis.zrange(key, 0, -1, withscores=True)
    if kind == "list":
        return await redis.lrange(key, 0, -1)
    if kind == "stream":
        return await redis.xrange(key)
    return await redis.get(key)


async def restore(redis: Redis, harness: Harness, to: Snapshot) -> None:
    async for key in redis.scan_iter(match=f"{harness.keys.tag}:*", count=1000):
        if key not in to:
            await redis.delete(key)
    for key, (_, ttl) in to.items():
        await redis.restore(key, 3_600_000 if ttl > 0 else 0, to.dumps[key], replace=True)


async def plant_wrong_type(redis: Redis, key: str) -> None:
    kind = await redis.type(key)
    await redis.delete(key)
    if kind in ("string", b"string"):
        await redis.rpush(key, "planted")
    else:
        await redis.set(key, "planted")


async def written_by(redis: Redis, harness: Harness, step: Step) -> list[str]:
    """The keys ``step`` changes (it is run, then undone by restoring the snapshot)."""
    before = await snapshot(redis, harness)
    await step()
    after = await snapshot(redis, harness)
    await restore(redis, harness, before)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return sorted(changed)


async def assert_all_or_nothing(redis: Redis, harness: Harness, step: Step) -> str:
    """Fail ``step`` at each key it writes; then run it for real and return its outcome."""
    # any key at a command's "seen" marker means "seen": planting one is a replay
    keys = [k for k in await written_by(redis, harness, step) if ":seen:" not in k]
    assert keys, "the step writes nothing: nothing to test"
    for key in keys:
        before = await snapshot(redis, harness)
        await plant_wrong_type(redis, key)
        planted = await snapshot(redis, harness)
        with pytest.raises(ScriptFailed, match=FAILED) as failed:
            await step()
        assert failed.value is not None
        assert await snapshot(redis, harness) == planted, f"failing at {key} left a trace"
        await restore(redis, harness, before)
    return await step()


async def test_each_step_of_an_item_fails_whole_at_every_key_it_writes(
    redis: Redis, router: Harness
) -> None:
    r = router
    await r.status("a1", capacity={"async": 2})
    created = r.created_event("w1")
    steps: list[tuple[Step, str]] = [
        (lambda: r.send(created), "queued"),
        (lambda: r.status("a2"), "available"),
    ]
    for step, outcome in steps:
        assert await assert_all_or_nothing(redis, r, step) == outcome
    offer_id = await r.offer_id("w1")
    accept = r.command_event("offer.accept", "a1", "w1", offer_id)
    for event, outcome in [
        (accept, "active"),
        (r.command_event("item.hold", "a1", "w1"), "hold"),
        (r.command_event("item.end", "a1", "w1"), "wrap_up"),
        (r.command_event("item.complete", "a1", "w1"), "completed"),
    ]:
        assert await assert_all_or_nothing(redis, r, _sender(r, event)) == outcome
    assert await r.send(accept) == "duplicate"  # completed steps are remembered


async def test_deadlines_cancels_and_offline_fail_whole_too(redis: Redis, router: Harness) -> None:
    r = router
    await r.status("a1", capacity={"async": 1})
    await r.create("w1")
    await r.create("w2")
    r.now += 60_000  # the offer of w1 has expired
    [member] = await r.due()
    assert await assert_all_or_nothing(redis, r, lambda: r.engine.fire(member, r.now)) == (
        "offer_expired"
    )
    await r.status("a1", capacity={"async": 1})  # back; w1 or w2 is offered again
    cancel = r.cancel_event("w2")
    assert await assert_all_or_nothing(redis, r, _sender(r, cancel)) == "cancelled"
    offline = r.status_event("a1", "offline")
    assert await assert_all_or_nothing(redis, r, _sender(r, offline)) == "offline"


async def test_a_failed_command_is_not_marked_seen_and_applies_once_repaired(
    redis: Redis, router: Harness
) -> None:
    r = router
    await r.status("a1")
    await r.create("w1")
    accept = r.command_event("offer.accept", "a1", "w1", await r.offer_id("w1"))
    outbox = r.keys.outbox("router")
    saved = await redis.dump(outbox)
    await redis.delete(outbox)
    await redis.set(outbox, "planted")  # the last thing the accept writes is its event
    with pytest.raises(ScriptFailed):
        await r.send(accept)
    assert (await r.item("w1"))["status"] == "offered"
    assert not await redis.exists(r.keys.seen_event("router", f"{accept.source}|{accept.id}"))
    await redis.delete(outbox)
    assert saved is not None
    await redis.restore(outbox, 0, saved)
    assert await r.send(accept) == "active"


def _sender(harness: Harness, event: Any) -> Step:
    return lambda: harness.send(event)
