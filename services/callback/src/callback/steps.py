"""What happens to a callback, step by step: pure functions from the record (and what
happened) to a :class:`Transition`, which the store applies in one atomic script.

========================  =====================================  ==========================
what happened             from                                   to (events)
========================  =====================================  ==========================
request                   —                                      scheduled (callback.scheduled),
                                                                 waiting at once when due now
request, same phone open  scheduled, waiting, in_progress        same; reason/window updated
due time                  scheduled                              waiting (workitem.created),
                                                                 missed after window_end
window end                scheduled, waiting                     missed (callback.missed; a
                                                                 live item: cancel_requested)
workitem.dialed           waiting                                in_progress
workitem.completed        waiting, in_progress                   scheduled (retry_scheduled),
                                                                 completed, failed or missed
workitem.cancelled        waiting, in_progress                   cancelled
cancel (DELETE, command)  scheduled, waiting, in_progress        cancelled (live item:
                                                                 workitem.cancel_requested)
========================  =====================================  ==========================

Events about the item that reach a closed callback, or an older attempt, only fill in
that attempt's details.
"""

from __future__ import annotations

from datetime import datetime

from switchboard_schemas.callback import (
    CallbackCancelled,
    CallbackCompleted,
    CallbackEvent,
    CallbackFailed,
    CallbackMissed,
    CallbackRetryScheduled,
    CallbackScheduled,
)
from switchboard_schemas.lifecycle import WorkItemCancelRequested
from switchboard_schemas.workitem import WorkItem

from callback.model import Attempt, CallbackRecord, NewCallback, Status
from callback.rules import RetryPolicy, after_attempt
from callback.transition import (
    Emit,
    Transition,
    callback_event,
    due_member,
    moved,
    outbound_item,
    then,
    window_member,
)

WINDOW_PASSED = "window_end_passed"
_CLOSED_EVENTS: dict[Status, type[CallbackEvent]] = {
    Status.COMPLETED: CallbackCompleted,
    Status.FAILED: CallbackFailed,
    Status.MISSED: CallbackMissed,
    Status.CANCELLED: CallbackCancelled,
}
_CLOSE_REASONS = {"failed": "attempts_exhausted", "missed": WINDOW_PASSED}


def create(new: NewCallback, now: datetime) -> Transition:
    """A new callback, scheduled; its first item is created at once when it is due now."""
    cid = new.callback_id
    record = CallbackRecord(
        callback_id=cid,
        status=Status.SCHEDULED,
        source=new.source,
        campaign_id=new.campaign_id,
        customer_phone=new.customer_phone,
        customer_name=new.customer_name,
        reason=new.reason,
        priority=new.priority,
        queue=new.queue,
        sub_type=new.sub_type,
        channel=new.channel,
        skills=list(new.skills),
        scheduled_at=new.due_at,
        window_end=new.window_end,
        created_at=now,
        updated_at=now,
        correlation_id=new.correlation_id,
        fingerprint=new.fingerprint,
        attempts=[Attempt(attempt=1, scheduled_at=new.due_at)],
    )
    deadlines = [] if new.window_end is None else [(window_member(cid), new.window_end)]
    if new.due_at > now:
        deadlines.append((due_member(cid, 1), new.due_at))
    loaded = ((new.campaign_id, "loaded", 1),) if new.campaign_id else ()
    scheduled = Transition(
        outcome="created",
        record=record,
        emits=(callback_event(CallbackScheduled, record, scheduled_at=new.due_at),),
        add_deadlines=tuple(deadlines),
        claim_phone=True,
        counters=moved(None, record) + loaded,
    )
    if new.due_at > now:
        return scheduled
    return then(scheduled, start_attempt(record, now), "created")


def merge(record: CallbackRecord, new: NewCallback, now: datetime) -> Transition:
    """A second request for an open callback: update its reason and window if given."""
    changes: dict[str, object] = {"updated_at": now}
    deadlines: tuple[tuple[str, datetime], ...] = ()
    if new.reason is not None:
        changes["reason"] = new.reason
    if new.window_end is not None:
        changes["window_end"] = new.window_end
        deadlines = ((window_member(record.callback_id), new.window_end),)
    counters = ((new.campaign_id, "merged", 1),) if new.campaign_id else ()
    return Transition(
        "merged", record.model_copy(update=changes), add_deadlines=deadlines, counters=counters
    )


def start_attempt(record: CallbackRecord, now: datetime) -> Transition:
    """The current attempt is due: create its outbound work item."""
    item = outbound_item(record, now)
    started = record.current.model_copy(
        update={"work_item_id": item.work_item_id, "queued_at": now}
    )
    updated = record.with_attempt(started, now, status=Status.WAITING)
    return Transition(
        outcome="item_created",
        record=updated,
        emits=(Emit(WorkItem.TYPE, item, item.work_item_id),),
        link_items=(item.work_item_id,),
        counters=moved(record, updated),
    )


def on_due(record: CallbackRecord, attempt: int, now: datetime) -> Transition:
    """The due time of ``attempt`` came; a due time after the window closes it as missed."""
    if record.status is not Status.SCHEDULED or record.current.attempt != attempt:
        return Transition("stale")
    if record.window_end is not None and now > record.window_end:
        return close(record, Status.MISSED, now, WINDOW_PASSED)
    return start_attempt(record, now)


def on_window_end(record: CallbackRecord, now: datetime) -> Transition:
    """The window ended: a callback not dialed yet is missed (a dialed one runs on)."""
    if record.status is Status.SCHEDULED:
        return close(record, Status.MISSED, now, WINDOW_PASSED)
    if record.status is Status.WAITING:
        return close(record, Status.MISSED, now, WINDOW_PASSED, item_live=True)
    return Transition("stale")


def cancel(record: CallbackRecord, reason: str | None, now: datetime) -> Transition:
    """Cancel an open callback; its live item, if any, is asked to be cancelled too."""
    if not record.is_open:
        return Transition("closed")
    live = record.status in (Status.WAITING, Status.IN_PROGRESS)
    return close(record, Status.CANCELLED, now, reason, item_live=live)


def close(
    record: CallbackRecord,
    status: Status,
    now: datetime,
    reason: str | None,
    *,
    item_live: bool = False,
) -> Transition:
    """Close the callback as ``status``: free its phone number, drop its deadlines."""
    attempt = record.current
    ended = attempt.model_copy(update={"result": attempt.result or str(status)})
    updated = record.with_attempt(ended, now, status=status, closed_at=now, close_reason=reason)
    emits = [callback_event(_CLOSED_EVENTS[status], updated, reason=reason)]
    if item_live and attempt.work_item_id is not None:
        request = WorkItemCancelRequested(
            work_item_id=attempt.work_item_id, reason=f"callback_{status}"
        )
        emits.append(Emit(WorkItemCancelRequested.TYPE, request, attempt.work_item_id))
    return Transition(
        outcome=str(status),
        record=updated,
        emits=tuple(emits),
        remove_deadlines=(
            due_member(record.callback_id, attempt.attempt),
            window_member(record.callback_id),
        ),
        release_phone=True,
        counters=moved(record, updated),
    )


def _is_current(record: CallbackRecord, attempt: Attempt) -> bool:
    return record.is_open and attempt.attempt == record.current.attempt


def on_dialed(
    record: CallbackRecord, wid: str, agent_id: str, at: datetime, now: datetime
) -> Transition:
    """``workitem.dialed``: the attempt started (the agent and when)."""
    attempt = record.attempt_of(wid)
    if attempt is None or attempt.started_at is not None:
        return Transition("stale")
    started = attempt.model_copy(update={"started_at": at, "agent_id": agent_id})
    live = _is_current(record, attempt) and record.status is Status.WAITING
    updated = record.with_attempt(started, now, **({"status": Status.IN_PROGRESS} if live else {}))
    return Transition("dialed" if live else "recorded", updated, counters=moved(record, updated))


def on_completed(
    record: CallbackRecord,
    wid: str,
    agent_id: str,
    disposition_code: str,
    at: datetime,
    now: datetime,
    policy: RetryPolicy,
) -> Transition:
    """``workitem.completed``: the disposition decides (see :func:`rules.after_attempt`)."""
    attempt = record.attempt_of(wid)
    if attempt is None or attempt.ended_at is not None:
        return Transition("stale")
    update = {"agent_id": agent_id, "disposition_code": disposition_code, "ended_at": at}
    updated = record.with_attempt(attempt.model_copy(update=update), now)
    if not _is_current(record, attempt):
        return Transition("recorded", updated)
    decision, next_at = after_attempt(
        policy, disposition_code, attempt.attempt, now, record.window_end
    )
    if decision == "retry" and next_at is not None:
        return retry(updated, disposition_code, next_at, now)
    reason = _CLOSE_REASONS.get(decision, disposition_code)
    return close(updated, Status(decision), now, reason)


def retry(record: CallbackRecord, reason: str, due_at: datetime, now: datetime) -> Transition:
    """Schedule the next attempt at ``due_at``."""
    done = record.current.model_copy(update={"result": "retry"})
    following = Attempt(attempt=done.attempt + 1, scheduled_at=due_at)
    updated = record.with_attempt(done, now, status=Status.SCHEDULED)
    updated = updated.model_copy(update={"attempts": [*updated.attempts, following]})
    return Transition(
        outcome="retry_scheduled",
        record=updated,
        emits=(
            callback_event(CallbackRetryScheduled, updated, scheduled_at=due_at, reason=reason),
        ),
        add_deadlines=((due_member(record.callback_id, following.attempt), due_at),),
        counters=moved(record, updated),
    )


def on_item_cancelled(
    record: CallbackRecord, wid: str, reason: str | None, at: datetime, now: datetime
) -> Transition:
    """``workitem.cancelled``: cancelled upstream closes the callback; else just recorded."""
    attempt = record.attempt_of(wid)
    if attempt is None or attempt.ended_at is not None:
        return Transition("stale")
    ended = attempt.model_copy(update={"ended_at": at, "result": attempt.result or "cancelled"})
    updated = record.with_attempt(ended, now)
    if not _is_current(record, attempt):
        return Transition("recorded", updated)
    return close(updated, Status.CANCELLED, now, reason or "workitem_cancelled")


def record_outcome(
    record: CallbackRecord, wid: str, outcome: str, agent_id: str | None, now: datetime
) -> Transition:
    """``callback.dial_outcome``: note what the dialer reported on the attempt."""
    attempt = record.attempt_of(wid)
    if attempt is None:
        return Transition("unknown_work_item")
    noted = attempt.model_copy(
        update={"outcome": outcome, "agent_id": agent_id or attempt.agent_id}
    )
    return Transition("recorded", record.with_attempt(noted, now))
