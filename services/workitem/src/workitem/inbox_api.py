"""HTTP API of the Inbox: ``GET /v1/agents/{agent_id}/inbox``.

The view and its rules are :mod:`switchboard_schemas.inbox`, the read
:mod:`switchboard_runtime.inbox_read`: the desktop gateway's snapshot shares both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from switchboard_runtime.auth import AUTH_ERRORS, AnyCaller, may_act_for
from switchboard_runtime.http import STORAGE_UNAVAILABLE, IdPath
from switchboard_schemas.inbox import (
    InboxFilter,
    InboxView,
    UnknownTimezone,
    build_inbox,
    timezone_named,
)
from switchboard_schemas.read_model import StoredItem

TZ_PATTERN = r"^[A-Za-z0-9_+\-/]{1,64}$"


class InboxReader(Protocol):
    async def inbox(self, agent_id: str) -> list[StoredItem]: ...


def inbox_router(reader: InboxReader, clock: Callable[[], datetime]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["inbox"])

    @router.get(
        "/agents/{agent_id}/inbox",
        response_model=InboxView,
        responses={**STORAGE_UNAVAILABLE, **AUTH_ERRORS},
    )
    async def get_inbox(
        agent_id: IdPath,
        caller: AnyCaller,
        status: Annotated[
            InboxFilter, Query(description="Filter for `items`; `outbound` is never filtered.")
        ] = "all",
        tz: Annotated[
            str,
            Query(pattern=TZ_PATTERN, description="IANA time zone for the due labels."),
        ] = "UTC",
    ) -> InboxView:
        """The agent's Inbox: the outbound section first, then items, with due labels in `tz`.

        Badge: the upper-case type for task-type items, null for chat and call.
        Subject: for callbacks the customer's name (or phone) and the reason; otherwise
        the readable sub-type and the description's first line; else the type's name.
        Due label: Overdue, Today, Tomorrow, or the local date as YYYY-MM-DD.

        An agent may read only its own Inbox; a supervisor any agent's.
        """
        may_act_for(caller, agent_id)
        try:
            zone = timezone_named(tz)
        except UnknownTimezone as exc:
            raise RequestValidationError(
                [{"type": "timezone", "loc": ("query", "tz"), "msg": str(exc), "input": tz}]
            ) from exc
        records = await reader.inbox(agent_id)
        return build_inbox(agent_id, records, status=status, tz=zone, now=clock())

    return router
