"""The first message of a stream: the agent's state as the router and the work item
service keep it now.

Read-only, through the key builders: the router's agent hash (status and the reason of
an away) and, among the items offered to or held by the agent, its live offers and its
items in wrap-up, with their deadlines (so a reloaded page counts down again); and the
agent's Inbox from the work item service's read model, read and shaped by the same code
as ``GET /v1/agents/{agent_id}/inbox``
(:mod:`switchboard_runtime.inbox_read`, :func:`switchboard_schemas.inbox.build_inbox`),
with every item (filter ``all``) and the due labels in UTC (a ``tz`` of the stream can
come later). The server's ``now`` lets the page correct its clock; the due labels are as
of that ``now``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from switchboard_runtime.clock import ClockMs
from switchboard_runtime.inbox_read import InboxRead
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.inbox import build_inbox
from switchboard_schemas.read_model import StoredItem

ITEM_FIELDS = (
    "status",
    "agent",
    "offer_id",
    "offer_expires",
    "summary",
    "outbound",
    "wrapup_expires",
)
Fields = dict[str, str | None]
INBOX_TZ = ZoneInfo("UTC")


def iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class Snapshots:
    """Builds the ``snapshot`` message of an agent."""

    def __init__(self, redis: Redis, keys: Keys, clock_ms: ClockMs) -> None:
        self._redis = redis
        self._keys = keys
        self._clock_ms = clock_ms
        self._inbox = InboxRead(redis, keys)

    async def of(self, agent: str) -> dict[str, Any]:
        """``{"now", "agent", "offers", "wrapups", "inbox"}`` of ``agent``
        (docs/desktop.md)."""
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hmget(k.agent(agent), "status", "reason")
            pipe.smembers(k.agent_items(agent))
            status, items = await pipe.execute()
        held, records = await asyncio.gather(
            self._items(sorted(m.decode() for m in items)), self._inbox.inbox(agent)
        )
        state, reason = (v.decode() if v else None for v in status)
        now_ms = self._clock_ms()
        return {
            "now": iso(now_ms),
            "agent": {"agent_id": agent, "status": state or "offline", "reason": reason},
            "offers": [offer_json(w, f) for w, f in held if is_live_offer(f, agent)],
            "wrapups": [wrapup_json(w, f) for w, f in held if is_wrapup_of(f, agent)],
            "inbox": inbox_json(agent, records, now_ms),
        }

    async def _items(self, items: list[str]) -> list[tuple[str, Fields]]:
        """The router's fields of each of ``items`` (by id)."""
        if not items:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for wid in items:
                pipe.hmget(self._keys.router_item(wid), *ITEM_FIELDS)
            rows = cast(list[list[bytes | None]], await pipe.execute())
        return [
            (wid, dict(zip(ITEM_FIELDS, (v.decode() if v else None for v in row), strict=True)))
            for wid, row in zip(items, rows, strict=True)
        ]


def is_live_offer(fields: Fields, agent: str) -> bool:
    return (
        fields["status"] == "offered" and fields["agent"] == agent and bool(fields["offer_expires"])
    )


def is_wrapup_of(fields: Fields, agent: str) -> bool:
    return (
        fields["status"] == "wrap_up"
        and fields["agent"] == agent
        and bool(fields["wrapup_expires"])
    )


def offer_json(wid: str, f: Fields) -> dict[str, Any]:
    outbound = f["outbound"] == "1"
    return {
        "offer_id": f["offer_id"],
        "work_item_id": wid,
        "expires_at": iso(int(float(f["offer_expires"] or 0))),
        "outbound": outbound,
        "actions": ["dial", "skip"] if outbound else ["accept", "reject"],
        "item": json.loads(f["summary"] or "{}"),
    }


def wrapup_json(wid: str, f: Fields) -> dict[str, Any]:
    return {"work_item_id": wid, "expires_at": iso(int(float(f["wrapup_expires"] or 0)))}


def inbox_json(agent: str, records: list[StoredItem], now_ms: int) -> dict[str, Any]:
    """The agent's Inbox as ``GET /v1/agents/{agent_id}/inbox`` answers it (all items,
    due labels in UTC as of ``now_ms``)."""
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    view = build_inbox(agent, records, status="all", tz=INBOX_TZ, now=now)
    return view.model_dump(mode="json")
