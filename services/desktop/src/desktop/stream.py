"""``GET /v1/desktop/events``: an agent's Server-Sent Events (docs/desktop.md).

A stream starts with a snapshot, unless the client resumes (``Last-Event-ID``) from a
position its agent's log still holds; then it sends the log's entries after that
position, in order, as they come, with a heartbeat comment while nothing does. Every
message's ``id`` is its log entry's id, so whichever replica a client reconnects to goes
on from the same place.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, cast

import structlog
from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from redis.asyncio import Redis
from switchboard_runtime.auth import AUTH_ERRORS, Caller, Role, caller_or_401
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.fields import ID_PATTERN

from desktop.hub import Hub
from desktop.snapshot import Snapshots

log = structlog.get_logger(__name__)

ENTRY_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")
BATCH = 200
EMPTY = "0-0"  # the position of a log with nothing in it


def entry_key(entry_id: str) -> tuple[int, int]:
    found = ENTRY_ID.match(entry_id)
    return (int(found[1]), int(found[2])) if found else (-1, -1)


def message(entry_id: str, event: str, data: str) -> bytes:
    """One SSE message (``data`` is JSON on one line)."""
    return f"id: {entry_id}\nevent: {event}\ndata: {data}\n\n".encode()


HEARTBEAT = b": heartbeat\n\n"


Entry = tuple[bytes, dict[bytes, bytes]]


async def read_after(redis: Redis, log_key: str, position: str) -> list[Entry]:
    """The log's entries after ``position``, oldest first, ``BATCH`` at most."""
    return cast(list[Entry], await redis.xrange(log_key, min=f"({position}", count=BATCH))


async def ends(redis: Redis, log_key: str) -> tuple[str, str] | None:
    """The ids of the log's first and newest entries (None: the log is empty)."""
    first = cast(list[Entry], await redis.xrange(log_key, count=1))
    newest = cast(list[Entry], await redis.xrevrange(log_key, count=1))
    if not first or not newest:
        return None
    return first[0][0].decode(), newest[0][0].decode()


class Streams:
    """The messages of one agent's streams."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        hub: Hub,
        snapshots: Snapshots,
        *,
        heartbeat_s: float,
        per_agent: int,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._hub = hub
        self._snapshots = snapshots
        self._heartbeat_s = heartbeat_s
        self._per_agent = per_agent

    def admit(self, agent: str) -> None:
        """Refuse (429) a stream past ``per_agent`` of one agent on this replica."""
        if self._hub.streams_of(agent) >= self._per_agent:
            raise HTTPException(
                429,
                f"agent {agent!r} has {self._per_agent} streams open on this gateway already "
                "(DESKTOP_STREAMS_PER_AGENT): close one first",
            )

    async def resume_point(self, agent: str, last_id: str | None) -> str | None:
        """Where a client that saw ``last_id`` goes on from, or None: it needs a snapshot
        (no id, not an id, or one the log no longer holds or never held)."""
        if not last_id or not ENTRY_ID.match(last_id):
            return None
        held = await ends(self._redis, self._keys.desktop_log(agent))
        if held is None:
            return None
        first, newest = held
        return last_id if entry_key(first) <= entry_key(last_id) <= entry_key(newest) else None

    async def _newest(self, agent: str) -> str:
        held = await ends(self._redis, self._keys.desktop_log(agent))
        return held[1] if held else EMPTY

    async def messages(self, agent: str, last_id: str | None) -> AsyncIterator[bytes]:
        with self._hub.listening(agent) as news:
            position = await self.resume_point(agent, last_id)
            if position is None:
                position = await self._newest(agent)  # before the state: nothing falls between
                snapshot = await self._snapshots.of(agent)
                yield message(position, "snapshot", json.dumps(snapshot, separators=(",", ":")))
            while True:
                news.clear()  # before reading: news arriving meanwhile wakes the wait below
                new = await read_after(self._redis, self._keys.desktop_log(agent), position)
                for entry_id, fields in new:
                    position = entry_id.decode()
                    yield message(position, fields[b"t"].decode(), fields[b"e"].decode())
                if new:
                    continue
                try:
                    await asyncio.wait_for(news.wait(), self._heartbeat_s)
                except TimeoutError:
                    yield HEARTBEAT


def whose(caller: Caller, agent_id: str | None) -> str:
    """The agent whose stream ``caller`` may open: its own, or any as a supervisor."""
    agent = agent_id or caller.subject
    if agent != caller.subject and Role.SUPERVISOR not in caller.roles:
        raise HTTPException(403, f"a token of {caller.subject!r} may not watch agent {agent!r}")
    if not caller.has_any((Role.AGENT, Role.SUPERVISOR)):
        raise HTTPException(403, "this needs the role agent or supervisor")
    return agent


def stream_router(streams: Streams) -> APIRouter:
    router = APIRouter(prefix="/v1/desktop", tags=["desktop"])

    @router.get(
        "/events",
        response_class=StreamingResponse,
        responses={
            200: {"content": {"text/event-stream": {}}},
            429: {"description": "too many streams of this agent open on this gateway"},
            **AUTH_ERRORS,
        },
    )
    async def events(
        request: Request,
        agent_id: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=128)] = None,
        access_token: Annotated[str | None, Query(max_length=8192)] = None,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
    ) -> StreamingResponse:
        """The agent's Server-Sent Events: a `snapshot`, then every event addressed to it.

        The token is the bearer header, or `access_token` (EventSource sets no headers).
        A supervisor may watch another agent with `agent_id`. `Last-Event-ID` resumes."""
        header = request.headers.get("authorization", "")
        token = header[7:] if header[:7].lower() == "bearer " else access_token
        agent = whose(await caller_or_401(request, token), agent_id)
        streams.admit(agent)
        log.info("desktop_stream_opened", agent_id=agent, resumed=last_event_id is not None)
        return StreamingResponse(
            streams.messages(agent, last_event_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router
