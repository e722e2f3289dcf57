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

A completed item is archived in the same atomic step: status ``archived``, its
disposition kept, and ``workitem.archived`` appended to the outbox. Its history gets
two entries, ``workitem.completed`` (status ``completed``) then ``workitem.archived``.

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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import structlog
from pydantic import BaseModel
from switchboard_runtime.dispatch import Handlers, On
from switchboard_schemas.enums import WorkItemStatus as S
from switchboard_schemas.envelope import CloudEvent, new_event, to_bytes
from switchboard_schemas.fields import format_time
from switchboard_schemas.lifecycle import WorkItemArchived
from switchboard_schemas.registry import WORKITEM_EVENT_MODELS
from switchboard_schemas.topics import WORKITEM_EVENTS

from workitem.intake import SOURCE, Clock, utc_now

log = structlog.get_logger(__name__)

ARCHIVED = WorkItemArchived.TYPE
# Names archived-event ids: uuid5(namespace, "<source>|<id>" of the completed event).
_ARCHIVE_NAMESPACE = uuid.UUID("6f0c5c9e-2b1a-4e7c-9a53-5d0b8a4f1c27")
# Event data worth keeping in a history entry, besides event, status, at and event_id.
HISTORY_DETAILS = ("agent_id", "disposition_code", "notes", "reason")

InboxChange = Literal["enter", "leave", "stay"]
ApplyOutcome = Literal["applied", "duplicate", "unknown", "closed"]


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
    topic: str = WORKITEM_EVENTS


class ProjectionStore(Protocol):
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
        """Apply one event; returns applied, duplicate, unknown_work_item or closed."""
        change = self.change_for(event, payload)
        outcome = await self._store.apply(change, self._seen_ttl)
        if outcome == "unknown":
            log.warning(
                "lifecycle_event_for_unknown_work_item_ignored",
                work_item_id=change.work_item_id,
                source=event.source,
            )
            return "unknown_work_item"
        return outcome

    def change_for(self, event: CloudEvent, payload: BaseModel) -> Change:
        """What ``event`` (with its validated ``payload``) writes; pure but for the clock."""
        step = STEPS[event.type]
        data = payload.model_dump(mode="json", exclude_none=True)
        work_item_id: str = data["work_item_id"]
        event_key = f"{event.source}|{event.id}"
        agent_id: str | None = data.get("agent_id")
        fields = {"status": str(step.status), "updated_at": format_time(event.time)}
        if agent_id is not None and step.keeps_agent:
            fields["agent_id"] = agent_id
        if step.status is S.CANCELLED:
            fields["cancelled_at"] = format_time(event.time)
        recorded = S.COMPLETED if step.status is S.ARCHIVED else step.status
        history = [history_entry(event.type, recorded, event.time, event.id, data)]
        archived_json = None
        if step.status is S.ARCHIVED:
            archived = self._archived_event(event, work_item_id, event_key)
            fields.update(_archive_fields(event, archived, data))
            history.append(history_entry(ARCHIVED, S.ARCHIVED, archived.time, archived.id, {}))
            archived_json = to_bytes(archived).decode()
        return Change(
            work_item_id=work_item_id,
            event_key=event_key,
            fields=fields,
            clear_agent=not step.keeps_agent,
            agent_id=agent_id,
            inbox=step.inbox,
            entered_ms=int(event.time.timestamp() * 1000),
            history=history,
            archived_event_json=archived_json,
        )

    def _archived_event(self, completed: CloudEvent, work_item_id: str, key: str) -> CloudEvent:
        """``workitem.archived``; its id derives from the completed event's, so it is stable."""
        return new_event(
            ARCHIVED,
            WorkItemArchived(work_item_id=work_item_id),
            source=SOURCE,
            subject=work_item_id,
            tenantid=completed.tenantid,
            correlationid=completed.correlationid,
            id=str(uuid.uuid5(_ARCHIVE_NAMESPACE, key)),
            time=max(self._clock(), completed.time),
        )


def _archive_fields(
    completed: CloudEvent, archived: CloudEvent, data: Mapping[str, Any]
) -> dict[str, str]:
    """Record fields a completion sets: disposition, notes and when it closed."""
    fields = {
        "disposition_code": str(data["disposition_code"]),
        "completed_at": format_time(completed.time),
        "archived_at": format_time(archived.time),
        "updated_at": format_time(archived.time),
    }
    if data.get("notes") is not None:
        fields["notes"] = str(data["notes"])
    return fields
