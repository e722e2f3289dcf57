"""The result of one step of a callback: the new record and everything that goes with
it (events, deadlines, index and campaign-counter changes), applied atomically by the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from switchboard_schemas.callback import CallbackEvent
from switchboard_schemas.workitem import WorkItem

from callback.model import CallbackRecord


@dataclass(frozen=True)
class Emit:
    """An event to publish: its CloudEvents type, data, and Kafka key (also its subject)."""

    type: str
    payload: BaseModel
    key: str


Counter = tuple[str, str, int]  # campaign id, field, delta


@dataclass(frozen=True)
class Transition:
    """Everything one step writes; ``record`` None means the record is unchanged."""

    outcome: str
    record: CallbackRecord | None = None
    emits: tuple[Emit, ...] = ()
    add_deadlines: tuple[tuple[str, datetime], ...] = ()
    remove_deadlines: tuple[str, ...] = ()
    link_items: tuple[str, ...] = ()  # work item ids that now lead to this callback
    claim_phone: bool = False  # this callback is the open one for its (queue, phone)
    release_phone: bool = False  # it is closed: a new request may create another
    counters: tuple[Counter, ...] = ()

    @property
    def writes(self) -> bool:
        return self.record is not None or bool(self.emits or self.counters)


def due_member(callback_id: str, attempt: int) -> str:
    return f"due|{callback_id}|{attempt}"


def window_member(callback_id: str) -> str:
    return f"window|{callback_id}"


def work_item_id(callback_id: str, attempt: int) -> str:
    return f"{callback_id}-{attempt}"


def moved(old: CallbackRecord | None, new: CallbackRecord) -> tuple[Counter, ...]:
    """Campaign counters of a status change (callbacks per status)."""
    if new.campaign_id is None or (old is not None and old.status is new.status):
        return ()
    moves: list[Counter] = [(new.campaign_id, str(new.status), 1)]
    if old is not None:
        moves.append((new.campaign_id, str(old.status), -1))
    return tuple(moves)


def then(first: Transition, second: Transition, outcome: str) -> Transition:
    return Transition(
        outcome=outcome,
        record=second.record or first.record,
        emits=first.emits + second.emits,
        add_deadlines=first.add_deadlines + second.add_deadlines,
        remove_deadlines=first.remove_deadlines + second.remove_deadlines,
        link_items=first.link_items + second.link_items,
        claim_phone=first.claim_phone or second.claim_phone,
        release_phone=first.release_phone or second.release_phone,
        counters=first.counters + second.counters,
    )


def outbound_item(record: CallbackRecord, now: datetime) -> WorkItem:
    """The outbound work item of the current attempt (what ``workitem.created`` carries)."""
    attempt = record.current.attempt
    attributes = {
        "callback_id": record.callback_id,
        "attempt": str(attempt),
        "source": str(record.source),
    }
    if record.campaign_id is not None:
        attributes["campaign_id"] = record.campaign_id
    data = {
        "work_item_id": work_item_id(record.callback_id, attempt),
        "type": "callback",
        "channel": "phone",
        "priority": record.priority,
        "queue": record.queue,
        "sub_type": record.sub_type,
        "skills": record.skills,
        "customer_phone": record.customer_phone,
        "customer_name": record.customer_name,
        "reason": record.reason,
        "attributes": attributes,
        "created_at": now,
        "outbound": True,
    }
    return WorkItem.model_validate({k: v for k, v in data.items() if v is not None})


def callback_event(model: type[CallbackEvent], record: CallbackRecord, **fields: object) -> Emit:
    """A ``callback.*`` event about the record's current attempt, keyed by callback id."""
    attempt = record.current
    data = {
        "callback_id": record.callback_id,
        "work_item_id": attempt.work_item_id,
        "attempt": attempt.attempt,
        **fields,
    }
    payload = model.model_validate({k: v for k, v in data.items() if v is not None})
    return Emit(model.TYPE, payload, record.callback_id)
