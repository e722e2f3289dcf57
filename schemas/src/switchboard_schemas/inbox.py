"""An agent's Inbox: which items it shows, how each one is labelled, and in what order.

One view, built from the read model's records (:mod:`switchboard_schemas.read_model`)
by :func:`build_inbox`: the work item service answers it at
``GET /v1/agents/{agent_id}/inbox`` and the desktop gateway sends it in its snapshot.

Membership: the items offered to the agent (status ``offered``) and those it holds
(``active``, ``hold``, ``wrap_up``). Completed (archived) and cancelled items leave it.

Sections:

- ``outbound``: the agent's outbound items (``outbound`` true: callbacks ready to
  dial, progressive dial), whatever their status. Always present, always first, and
  never affected by the status filter.
- ``items``: every other item, filtered by ``status``: ``active``, ``hold``,
  ``wrap_up``, or ``all`` (the default, which includes ``offered``).

Each row carries:

- ``badge``: the upper-case type (``TASK``, ``CALLBACK``, ``REVIEW``, ``APPROVAL``,
  ``EMAIL``) for task-type items; ``None`` for real-time ``chat`` and ``call``.
- ``subject``: for a callback, the customer's name (else the phone number), then
  `` — `` and the reason when there is one; for any other type, the sub-type made
  readable (``billing_dispute`` → ``Billing dispute``), then `` — `` and the first line
  of the description when there is one; when neither exists, the type's name
  (``Chat``). Clipped to 120 characters (ending in ``…``).
- ``due_label``: ``None`` without a due date; ``Overdue`` once ``due_at`` has passed;
  else ``Today`` or ``Tomorrow`` when it falls on that calendar day in the caller's
  time zone; else that local date as ``YYYY-MM-DD``.

Order within a section: priority (1 first), then due date (soonest first, items
without one last), then creation time, then id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from switchboard_schemas.enums import Channel
from switchboard_schemas.enums import WorkItemStatus as S
from switchboard_schemas.enums import WorkItemType as T
from switchboard_schemas.fields import STORED, RecordedDatetime
from switchboard_schemas.read_model import StoredItem
from switchboard_schemas.workitem import WorkItem

InboxFilter = Literal["active", "hold", "wrap_up", "all"]
INBOX_STATUSES = frozenset({S.OFFERED, S.ACTIVE, S.HOLD, S.WRAP_UP})
TASK_TYPES = frozenset({T.TASK, T.CALLBACK, T.REVIEW, T.APPROVAL, T.EMAIL})
SUBJECT_MAX = 120
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


class InboxItemView(BaseModel):
    """One row of the Inbox table."""

    work_item_id: str
    type: T
    badge: str | None = Field(
        description="TASK, CALLBACK, REVIEW, APPROVAL or EMAIL for task-type items; "
        "null for chat and call."
    )
    subject: str = Field(description="Subject line (see GET /v1/agents/{agent_id}/inbox).")
    status: str = Field(description="offered, active, hold or wrap_up.")
    priority: int = Field(description="1 Critical, 2 High, 3 Medium, 5 Normal, 8 Low.")
    channel: Channel
    sub_type: str | None
    due_at: RecordedDatetime | None
    due_label: str | None = Field(
        description="Overdue, Today, Tomorrow or the local due date (YYYY-MM-DD) in the "
        "requested time zone; null without a due date."
    )
    outbound: bool
    source: str | None = Field(None, description="Outbound items: callback or progressive_dial.")
    customer_name: str | None = None
    customer_phone: str | None = Field(None, description="E.164 number to dial.")
    attempt: int | None = Field(None, description="Outbound items: which attempt this is.")
    created_at: RecordedDatetime
    updated_at: RecordedDatetime


class InboxView(BaseModel):
    """An agent's Inbox: the outbound section first, then the items the filter keeps."""

    agent_id: str
    status: str = Field(description="The filter applied to `items`: active, hold, wrap_up, all.")
    tz: str = Field(description="Time zone the due labels were computed in.")
    outbound: list[InboxItemView] = Field(
        description="Outbound items (dial / skip), whatever the filter; always first."
    )
    items: list[InboxItemView] = Field(description="The other items, filtered by status.")


class UnknownTimezone(ValueError):  # noqa: N818 - reads as "the time zone is unknown"
    """Not an IANA time zone name this host knows (e.g. ``Europe/Paris``, ``UTC``)."""


def timezone_named(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; raises :class:`UnknownTimezone` if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UnknownTimezone(f"unknown time zone {name!r}: use an IANA name") from exc


def badge(item_type: T) -> str | None:
    """The type badge: upper-case type name for task-type items, None for chat and call."""
    return item_type.value.upper() if item_type in TASK_TYPES else None


def subject_line(item: WorkItem) -> str:
    """The one-line subject shown next to the badge (see the module docstring)."""
    if item.type is T.CALLBACK:
        head = item.customer_name or item.customer_phone
        tail = item.reason
    else:
        head = _readable(item.sub_type) if item.sub_type else None
        tail = item.description
    parts = [part for part in (head, _first_line(tail)) if part]
    return _clip(" — ".join(parts) or item.type.value.capitalize())


def _readable(sub_type: str) -> str:
    text = sub_type.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return None


def _clip(text: str) -> str:
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 1].rstrip() + "…"


def due_label(due_at: datetime | None, now: datetime, tz: ZoneInfo) -> str | None:
    """``Overdue``, ``Today``, ``Tomorrow`` or the local date, as seen in ``tz`` at ``now``."""
    if due_at is None:
        return None
    if due_at < now:
        return "Overdue"
    try:
        due_day = due_at.astimezone(tz).date()
    except OverflowError:  # a stored date at the end of the calendar: its own day is fine
        due_day = due_at.date()
    today = now.astimezone(tz).date()
    if due_day == today:
        return "Today"
    if due_day == today + timedelta(days=1):
        return "Tomorrow"
    return due_day.isoformat()


def _row(record: StoredItem, item: WorkItem, now: datetime, tz: ZoneInfo) -> InboxItemView:
    return InboxItemView(
        work_item_id=item.work_item_id,
        type=item.type,
        badge=badge(item.type),
        subject=subject_line(item),
        status=record.status,
        priority=int(item.priority),
        channel=item.channel,
        sub_type=item.sub_type,
        due_at=item.due_at,
        due_label=due_label(item.due_at, now, tz),
        outbound=item.outbound,
        **_outbound_details(item),
        created_at=item.created_at,
        updated_at=datetime.fromisoformat(record.updated_at),
    )


def _outbound_details(item: WorkItem) -> dict[str, Any]:
    """What the Outbound section shows: where the item came from, whom to call, which try."""
    if not item.outbound:
        return {}
    attributes = item.attributes or {}
    attempt = attributes.get("attempt", "1")
    return {
        "source": attributes.get("source", "callback"),
        "customer_name": item.customer_name,
        "customer_phone": item.customer_phone,
        "attempt": int(attempt) if attempt.isdigit() else None,
    }


def _order(item: WorkItem) -> tuple[int, datetime, datetime, str]:
    return (int(item.priority), item.due_at or _FAR_FUTURE, item.created_at, item.work_item_id)


def build_inbox(
    agent_id: str,
    records: Iterable[StoredItem],
    *,
    status: InboxFilter,
    tz: ZoneInfo,
    now: datetime,
) -> InboxView:
    """The agent's Inbox from its records: outbound section first, then the filtered rest."""
    outbound: list[WorkItem] = []
    others: list[WorkItem] = []
    rows: dict[str, InboxItemView] = {}
    for record in records:
        if record.status not in INBOX_STATUSES or record.agent_id != agent_id:
            continue  # left the Inbox after the index was read
        item = WorkItem.model_validate(record.item, context=STORED)
        if item.outbound:
            outbound.append(item)
        elif status in ("all", record.status):
            others.append(item)
        else:
            continue
        rows[item.work_item_id] = _row(record, item, now, tz)
    return InboxView(
        agent_id=agent_id,
        status=status,
        tz=tz.key,
        outbound=[rows[i.work_item_id] for i in sorted(outbound, key=_order)],
        items=[rows[i.work_item_id] for i in sorted(others, key=_order)],
    )
