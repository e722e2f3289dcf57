"""The agents' desktop streams (scenario 1): each agent keeps its Server-Sent Events
stream open through the desktop gateway, as its page does, and whenever the stream drops
(the gateway killed, then started again, perhaps on another port) it reconnects with the
``Last-Event-ID`` of the last message it read, as the page's ``EventSource`` does.

What each stream delivered is what the checker compares with ``agent.events``: an
``offer.made`` to an agent that never reached its stream (nor a snapshot it was sent) is
an offer the agent never saw. Messages delivered twice are counted too (fine: the page
applies events idempotently).
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from redis.asyncio import Redis
from switchboard_devtools.testing_auth import bearer
from switchboard_devtools.testing_sse import sse_fields
from switchboard_runtime.auth import Role
from switchboard_runtime.redis_keys import Keys

RECONNECT_S = 0.3  # how long a dropped stream waits before it reconnects
# longer than the gateway's heartbeat (15 s), so a quiet stream is not taken for a dead one
READ_TIMEOUT_S = 45.0


class Streams:
    """One open stream per agent in ``agents``, on the gateway ``gateway()`` names now."""

    def __init__(self, agents: list[str], gateway: Callable[[], str]) -> None:
        self.agents = agents
        self._gateway = gateway
        self.seen: dict[str, set[str]] = {agent: set() for agent in agents}  # CloudEvent ids
        self.snapshot_offers: dict[str, set[str]] = {agent: set() for agent in agents}
        self.last: dict[str, str] = {}  # the id each stream goes on from
        self.repeats = 0
        self.connects: collections.Counter[str] = collections.Counter()
        self.refusals: list[str] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=READ_TIMEOUT_S))

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._follow(agent)) for agent in self.agents]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()

    async def caught_up(self, logs: Mapping[str, set[str]], timeout_s: float) -> bool:
        """Wait until each agent's stream has delivered every event of its desktop log."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(logs.get(agent, set()) <= self.seen[agent] for agent in self.agents):
                return True
            await asyncio.sleep(0.2)  # polling interval
        return False

    async def _follow(self, agent: str) -> None:
        while True:
            try:
                await self._read(agent)
            except (httpx.HTTPError, OSError, ValueError) as exc:  # dropped, or not JSON
                self._refused(f"{agent}: {exc!r}")
            await asyncio.sleep(RECONNECT_S)

    async def _read(self, agent: str) -> None:
        """Read one connection of the stream, from the last id read, until it drops."""
        headers = bearer(agent, [Role.AGENT])
        if (last := self.last.get(agent)) is not None:
            headers["Last-Event-ID"] = last
        url = f"{self._gateway()}/v1/desktop/events"
        async with self._http.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                self._refused(f"{agent}: {response.status_code}")
                return
            self.connects[agent] += 1
            async for message in sse_fields(response.aiter_lines()):
                self._record(agent, message)
                if "id" in message:
                    self.last[agent] = message["id"]

    def _refused(self, why: str) -> None:
        if len(self.refusals) < 20:
            self.refusals.append(why)

    def _record(self, agent: str, message: dict[str, str]) -> None:
        data: dict[str, Any] = json.loads(message.get("data", "{}"))
        if message.get("event") == "snapshot":
            offers = data.get("offers", [])
            self.snapshot_offers[agent].update(str(o.get("offer_id")) for o in offers)
            return
        ident = str(data.get("id"))
        if ident in self.seen[agent]:
            self.repeats += 1
        self.seen[agent].add(ident)


async def desktop_logs(redis_url: str, keys: Keys, agents: list[str]) -> dict[str, set[str]]:
    """The CloudEvent ids in each agent's desktop log (what its stream serves)."""
    redis = Redis.from_url(redis_url)
    try:
        logs: dict[str, set[str]] = {}
        for agent in agents:
            entries: list[tuple[bytes, dict[bytes, bytes]]]
            entries = await redis.xrange(keys.desktop_log(agent))  # type: ignore[assignment]
            logs[agent] = {str(json.loads(fields[b"e"]).get("id")) for _, fields in entries}
        return logs
    finally:
        await redis.aclose()
