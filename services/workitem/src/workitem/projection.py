"""The read side: what each lifecycle event on ``workitem.events`` does to a record.

The router owns the lifecycle; this module keeps the work item record in step with it
(status, assigned agent, disposition, history) and maintains each agent's Inbox.

Status after each event (the lifecycle of docs/architecture.md):

==========================================================  ===========  ========
event                                                       status       Inbox
==========================================================  ===========  ========
queued, offer_rejected, offer_expired, skipped              queued       leaves
offered                                                     offered      enters
accepted, dialed, resumed                                   active       stays
held                                                        hold         stays
wrapup_started, wrapup_expired                              wrap_up      stays
completed                                                   archived     leaves
cancelled                                                   cancelled    leaves
==========================================================  ===========  ========

Every item that closes is archived in the same atomic step, and ``workitem.archived``
joins the outbox carrying the whole record as that step leaves it
(``switchboard_schemas.record.WorkItemRecord``: every field, ``archived_at``, the whole
history), so a store downstream can keep it after this one lets it expire:

- a completed item: status ``archived``, its disposition and notes kept; its history gets
  ``workitem.completed`` (status ``completed``) then ``workitem.archived`` (``archived``);
- a cancelled item: status stays ``cancelled``; its history gets ``workitem.cancelled``
  then ``workitem.archived``, both with status ``cancelled``.

The record is read before that step, to build the event; the step
(``lua/apply_change.lua``) happens only if the record's history is still as long as it
was read. Otherwise (a cancel request, ``workitem.cancel`` on the commands topic,
appended an entry in between) it answers ``stale`` and writes nothing, and the event is
built again from a fresh read, up to ``APPLY_ATTEMPTS`` times; then ``StaleRecordError``
is raised and the consumer's retry and dead-letter path takes over.

Rules:

- Each event is applied at most once, recognised by CloudEvents ``source`` + ``id``.
- Events of one item arrive in order (one partition per item id).
- An event for an item this service never created is ignored (logged, not
  dead-lettered): the record is this service's own, and the event is valid.
- Nothing changes a closed (archived or cancelled) record any more. It is kept, with
  its history, for ``RETENTION_DAYS`` from the step that closed it, then expires (the
  same atomic step sets the TTL); open records are kept until they close.
- This service's own events (``workitem.created``, ``workitem.cancel_requested``,
  ``workitem.archived``) and other services' types are not handled here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any, Literal, Protocol, cast

import structlog
from pydantic import BaseModel
from switchboard_runtime.dispatch import Handlers, On
from switchboard_schemas.enums import WorkItemStatus as S
from switchboard_schemas.envelope import CloudEvent, new_event, to_bytes
from switchboard_schemas.fields import format_time
from switchboard_schemas.lifecycle import WorkItemArchived, WorkItemEvent
from switchboard_schemas.record import WorkItemRecord
from switchboard_schemas.registry import WORKITEM_EVENT_MODELS
from switchboard_schemas.topics import WORKITEM_EVENTS

from workitem.intake import SOURCE, Clock, utc_now
from workitem.store import StoredItem
from workitem.views import record_of

log = structlog.get_logger(__name__)

ARCHIVED = WorkItemArchived.TYPE
# Names archived-event ids: uuid5(namespace, "<source>|<id>" of the closing event).
_ARCHIVE_NAMESPACE = uuid.UUID("6f0c5c9e-2b1a-4e7c-9a53-5d0b8a4f1c27")
# Event data worth keeping in a history entry, besides event, status, at and event_id.
HISTORY_DETAILS = ("agent_id", "disposition_code", "notes", "reason")

InboxChange = Literal["enter", "leave", "stay"]
ApplyOutcome = Literal["applied", "duplicate", "unknown", "closed", "stale"]
# Reads and tries of a closing event, while the record keeps changing under it.
APPLY_ATTEMPTS = 5
CLOSING = frozenset({S.ARCHIVED, S.CANCELLED})
# Record fields a change may set that the archived record shows.
_RECORD_FIELDS = frozenset(f.name for f in dataclass_fields(StoredItem)) - {"item", "history"}


class StaleRecordError(RuntimeError):
    """The record changed between each read and try of a closing event."""


@dataclass(frozen=True)
class Step:
    """Where one lifecycle event takes the record."""

    status: S
    inbox: InboxChange
    keeps_agent: bool = True


_BACK_IN_QUEUE = Step(S.QUEUED, "leave", keeps_agent=False)
STEPS: Mapping[str, Step] = {
    "workitem.queued": _BACK_IN_QUEUE,
    "workitem.offer_rejected": _BACK_IN_QUEUE,
    "workitem.offer_expired": _BACK_IN_QUEUE,
    "workitem.skipped": _BACK_IN_QUEUE,
    "workitem.offered": Step(S.OFFERED, "enter"),
    "workitem.accepted": Step(S.ACTIVE, "stay"),
    "workitem.dialed": Step(S.ACTIVE, "stay"),
    "workitem.resumed": Step(S.ACTIVE, "stay"),
    "workitem.held": Step(S.HOLD, "stay"),
    "workitem.wrapup_started": Step(S.WRAP_UP, "stay"),
    "workitem.wrapup_expired": Step(S.WRAP_UP, "stay"),
    "workitem.completed": Step(S.ARCHIVED, "leave"),
    "workitem.cancelled": Step(S.CANCELLED, "leave"),
}


@dataclass(frozen=True)
class Change:
    """Everything the store writes, atomically, for one event."""

    work_item_id: str
    event_key: str  # "<source>|<id>": what de-duplicates the event
    fields: dict[str, str]  # record fields to set
    clear_agent: bool  # the item went back to its queue: nobody holds it
    agent_id: str | None  # the agent the event names
    inbox: InboxChange
    entered_ms: int  # Inbox score when the item enters an Inbox
    history: list[str]  # JSON entries to append, in order
    archived_event_json: str | None  # workitem.archived, for the outbox
    history_len: int | None = None  # closing: the history's length as read (-1: no record)
    topic: str = WORKITEM_EVENTS


class ProjectionStore(Protocol):
    async def get(self, work_item_id: str) -> StoredItem | None: ...

    async def apply(self, change: Change, seen_ttl: int) -> ApplyOutcome: ...


def history_entry(
    ce_type: str, status: str, at: datetime, event_id: str, data: Mapping[str, Any]
) -> str:
    """One history entry, in the shape intake writes, with the details that matter."""
    entry: dict[str, Any] = {
        "event": ce_type,
        "status": status,
        "at": format_time(at),
        "event_id": event_id,
    }
    entry.update({name: data[name] for name in HISTORY_DETAILS if data.get(name) is not None})
    return json.dumps(entry)


class Projection:
    """Applies lifecycle events to work item records and agent Inboxes."""

    def __init__(self, store: ProjectionStore, *, seen_ttl: int, clock: Clock = utc_now) -> None:
        self._store = store
        self._seen_ttl = seen_ttl
        self._clock = clock

    def handlers(self) -> Handlers:
        """The handler for each lifecycle type this service follows on ``workitem.events``
        (one function for all: the step table says what each does)."""
        return {ce_type: On(WORKITEM_EVENT_MODELS[ce_type], self.apply) for ce_type in STEPS}

    async def apply(self, event: CloudEvent, payload: BaseModel) -> str:
        """Apply one event; returns applied, duplicate, unknown_work_item or closed.

        Raises ``StaleRecordError`` when a closing event found the record changed since it
        was read, ``APPLY_ATTEMPTS`` times in a row."""
        for attempt in range(1, APPLY_ATTEMPTS + 1):
            change = await self._change(event, payload)
            outcome = await self._store.apply(change, self._seen_ttl)
            if outcome == "unknown":
                log.warning(
                    "lifecycle_event_for_unknown_work_item_ignored",
                    work_item_id=change.work_item_id,
                    source=event.source,
                )
                return "unknown_work_item"
            if outcome != "stale":
                return outcome
            log.info("closing_event_retried_record_changed", attempt=attempt)
        raise StaleRecordError(
            f"work item {change.work_item_id} changed under each of {APPLY_ATTEMPTS} tries "
            f"of {event.type}"
        )

    async def _change(self, event: CloudEvent, payload: BaseModel) -> Change:
        """The change of ``event``; one that closes the item reads the record first."""
        stored = None
        if STEPS[event.type].status in CLOSING:
            # every model of STEPS is a WorkItemEvent
            stored = await self._store.get(cast(WorkItemEvent, payload).work_item_id)
        return self.change_for(event, payload, stored)

    def change_for(
        self, event: CloudEvent, payload: BaseModel, stored: StoredItem | None = None
    ) -> Change:
        """What ``event`` (with its validated ``payload``) writes; pure but for the clock.

        ``stored``: the record as read before, for an event that closes the item (its
        ``workitem.archived`` carries the record as the change leaves it); without it,
        such a change archives nothing and the script answers ``unknown`` or ``stale``."""
        step = STEPS[event.type]
        data = payload.model_dump(mode="json", exclude_none=True)
        agent_id: str | None = data.get("agent_id")
        fields = {"status": str(step.status), "updated_at": format_time(event.time)}
        if agent_id is not None and step.keeps_agent:
            fields["agent_id"] = agent_id
        recorded = S.COMPLETED if step.status is S.ARCHIVED else step.status
        change = Change(
            work_item_id=data["work_item_id"],
            event_key=f"{event.source}|{event.id}",
            fields=fields,
            clear_agent=not step.keeps_agent,
            agent_id=agent_id,
            inbox=step.inbox,
            entered_ms=int(event.time.timestamp() * 1000),
            history=[history_entry(event.type, recorded, event.time, event.id, data)],
            archived_event_json=None,
        )
        if step.status in CLOSING:
            return self._archiving(change, event, data, stored)
        return change

    def _archiving(
        self,
        change: Change,
        closing: CloudEvent,
        data: Mapping[str, Any],
        stored: StoredItem | None,
    ) -> Change:
        """``change`` of a closing event, archiving the item too: the closing fields, a
        ``workitem.archived`` history entry and event; its id derives from the closing
        event's, so it is stable."""
        archived_id = str(uuid.uuid5(_ARCHIVE_NAMESPACE, change.event_key))
        archived_at = max(self._clock(), closing.time)
        status = S(change.fields["status"])
        fields = {**change.fields, **_closing_fields(status, closing, archived_at, data)}
        entry = history_entry(ARCHIVED, status, archived_at, archived_id, {})
        closed = replace(change, fields=fields, history=[*change.history, entry], history_len=-1)
        if stored is None:  # the script answers unknown (or stale: the record came since)
            return closed
        record = record_after(stored, closed)
        archived = new_event(
            ARCHIVED,
            WorkItemArchived(work_item_id=change.work_item_id, record=record),
            source=SOURCE,
            subject=change.work_item_id,
            tenantid=closing.tenantid,
            correlationid=closing.correlationid,
            id=archived_id,
            time=archived_at,
        )
        json_text = to_bytes(archived).decode()
        return replace(closed, history_len=len(stored.history), archived_event_json=json_text)


def record_after(stored: StoredItem, change: Change) -> WorkItemRecord:
    """The record as ``change`` leaves ``stored``: its fields set, its history appended."""
    updates: dict[str, Any] = {"agent_id": None} if change.clear_agent else {}
    updates.update({k: v for k, v in change.fields.items() if k in _RECORD_FIELDS})
    history = [*stored.history, *(json.loads(entry) for entry in change.history)]
    return record_of(replace(stored, **updates, history=history), WorkItemRecord)


def _closing_fields(
    status: S, closing: CloudEvent, archived_at: datetime, data: Mapping[str, Any]
) -> dict[str, str]:
    """Record fields a closing event sets: when it closed and was archived (also its
    ``updated_at``); for a completion, its disposition and notes."""
    archived = format_time(archived_at)
    fields = {"archived_at": archived, "updated_at": archived}
    if status is S.CANCELLED:
        fields["cancelled_at"] = format_time(closing.time)
        return fields
    fields["completed_at"] = format_time(closing.time)
    fields["disposition_code"] = str(data["disposition_code"])
    if data.get("notes") is not None:
        fields["notes"] = str(data["notes"])
    return fields
