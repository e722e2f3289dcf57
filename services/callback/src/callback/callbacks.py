"""The callback service's use cases: read the record, decide (``steps``), commit it all
atomically, and decide again when another replica changed the record in between.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from switchboard_schemas.callback import RecordDialOutcome, RequestCallback
from switchboard_schemas.callback_rules import request_errors
from switchboard_schemas.envelope import CloudEvent, new_event, to_bytes
from switchboard_schemas.topics import WORKITEM_EVENTS

from callback import steps
from callback.context import (
    CallbackConflict,
    Clock,
    ContentionError,
    IdFactory,
    Placement,
    Policy,
    RequestContext,
    RequestOutcome,
    RequestRejected,
    RequestResult,
    new_uuid,
    utc_now,
)
from callback.model import CallbackRecord, NewCallback
from callback.rules import RetryPolicy, due_time
from callback.store import CallbackStore, Commit, CommitOutcome, Loaded
from callback.transition import Emit, Transition

log = structlog.get_logger(__name__)

SOURCE = "switchboard/callback"
MAX_TRIES = 25
Decide = Callable[[CallbackRecord, datetime], Transition]
CUSTOMER = Placement()


class Callbacks:
    """Requests, cancels, deadlines and lifecycle events of callbacks, for one tenant."""

    def __init__(
        self,
        store: CallbackStore,
        policy: Policy,
        *,
        tenant: str,
        clock: Clock = utc_now,
        new_id: IdFactory = new_uuid,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._policy = policy
        self._tenant = tenant
        self._clock = clock
        self._new_id = new_id
        self.wake = wake  # the deadline timer's poke, once there is a timer

    async def get(self, callback_id: str) -> CallbackRecord | None:
        return (await self._store.load(callback_id)).record

    async def request(
        self, req: RequestCallback, ctx: RequestContext, placement: Placement = CUSTOMER
    ) -> RequestResult:
        """Create a callback, or merge into the open one for the same number and queue."""
        now = self._clock()
        errors = request_errors(req, min(now, ctx.sent_at or now), self._policy.tolerance)
        if errors:
            raise RequestRejected(errors)
        new = self._new_callback(req, ctx, placement, now)
        for _ in range(MAX_TRIES):
            result = await self._try_request(new, req.callback_id is not None, ctx, now)
            if result is not None:
                return result
        raise ContentionError(f"callback request for {new.callback_id} kept conflicting")

    def _new_callback(
        self, req: RequestCallback, ctx: RequestContext, placement: Placement, now: datetime
    ) -> NewCallback:
        queue = req.queue or placement.queue or self._policy.default_queue
        digest = hashlib.sha256(f"{queue}|{req.model_dump_json()}".encode()).hexdigest()
        return NewCallback(
            callback_id=req.callback_id or self._new_id(),
            customer_phone=req.customer_phone,
            customer_name=req.customer_name,
            reason=req.reason,
            priority=int(req.priority),
            queue=queue,
            sub_type=req.sub_type,
            channel=str(req.channel),
            skills=tuple(req.skills),
            due_at=due_time(req.scheduled_at, now),
            window_end=req.window_end,
            source=placement.source,
            campaign_id=placement.campaign_id,
            correlation_id=ctx.correlation_id,
            fingerprint=digest,
        )

    async def _try_request(
        self, new: NewCallback, supplied_id: bool, ctx: RequestContext, now: datetime
    ) -> RequestResult | None:
        if ctx.request_key is not None:
            answer = await self._store.request_answer(ctx.request_key)
            if answer is not None:
                return await self._replayed(*answer)
        if supplied_id:
            prior = (await self._store.load(new.callback_id)).record
            if prior is not None:
                if prior.fingerprint != new.fingerprint:
                    raise CallbackConflict(f"callback {new.callback_id} exists with other content")
                return RequestResult("duplicate", prior, "created")
        open_id = await self._store.open_callback(new.queue, new.customer_phone)
        existing = await self._store.load(open_id) if open_id else Loaded(None)
        if existing.record is not None and existing.record.is_open:
            cid, version = existing.record.callback_id, existing.version
            transition = steps.merge(existing.record, new, now)
        else:
            cid, version, transition = new.callback_id, "", steps.create(new, now)
        request = None
        if ctx.request_key is not None:
            request = (ctx.request_key, f"{transition.outcome}:{cid}", ctx.request_ttl)
        commit = Commit(
            cid,
            version,
            transition,
            self._events(transition.emits, now, new.correlation_id),
            phone_guard=open_id or "",
            request=request,
        )
        if await self._apply(commit) == "conflict":
            return None
        assert transition.record is not None
        outcome: RequestOutcome = "merged" if transition.outcome == "merged" else "created"
        return RequestResult(outcome, transition.record, outcome)

    async def _replayed(self, first_outcome: str, callback_id: str) -> RequestResult | None:
        record = (await self._store.load(callback_id)).record
        if record is None:
            return None
        return RequestResult("duplicate", record, first_outcome)

    async def cancel(
        self, callback_id: str, reason: str | None, seen: str | None = None
    ) -> tuple[str, CallbackRecord | None]:
        """Cancel: ``cancelled``, ``closed`` (already), ``unknown`` or ``duplicate``."""

        def decide(record: CallbackRecord, now: datetime) -> Transition:
            return steps.cancel(record, reason, now)

        return await self._change(callback_id, decide, seen=seen)

    async def record_dial_outcome(self, cmd: RecordDialOutcome, seen: str) -> str:
        def decide(record: CallbackRecord, now: datetime) -> Transition:
            return steps.record_outcome(record, cmd.work_item_id, cmd.outcome, cmd.agent_id, now)

        outcome, _ = await self._change(cmd.callback_id, decide, seen=seen)
        return outcome

    async def on_item_event(self, event: CloudEvent, work_item_id: str, decide: Decide) -> str:
        """A lifecycle event of a work item; ignored unless the item is a callback's."""
        callback_id = await self._store.callback_of_item(work_item_id)
        if callback_id is None:
            return "not_a_callback"
        outcome, _ = await self._change(callback_id, decide, seen=f"{event.source}|{event.id}")
        return outcome

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._policy.retry

    async def fire(self, member: str, _now_ms: int, partition: int | None = None) -> str:
        """Fire a due deadline (``due|<callback>|<attempt>`` or ``window|<callback>``) of
        the set of ``partition`` (None: the single set)."""
        kind, _, rest = member.partition("|")
        callback_id, _, attempt = rest.rpartition("|") if kind == "due" else (rest, "", "")
        decide: Decide
        if kind == "due" and attempt.isdigit():
            number = int(attempt)

            def decide(record: CallbackRecord, now: datetime) -> Transition:
                return steps.on_due(record, number, now)

        elif kind == "window" and callback_id:
            decide = steps.on_window_end
        else:
            callback_id, decide = "-", stale
        outcome, _ = await self._change(callback_id, decide, claim=(member, partition))
        return "stale" if outcome in ("stale", "unknown") else outcome

    async def _change(
        self,
        callback_id: str,
        decide: Decide,
        *,
        seen: str | None = None,
        claim: tuple[str, int | None] | None = None,
    ) -> tuple[str, CallbackRecord | None]:
        """Load, decide, commit; again on conflict. Returns the outcome and the record."""
        for _ in range(MAX_TRIES):
            loaded = await self._store.load(callback_id)
            now = self._clock()
            record = loaded.record
            transition = Transition("unknown") if record is None else decide(record, now)
            if not transition.writes and claim is None:
                return transition.outcome, record
            corr = record.correlation_id if record else None
            commit = Commit(
                callback_id,
                loaded.version,
                transition,
                self._events(transition.emits, now, corr),
                seen=None if seen is None else (seen, self._policy.seen_ttl),
                claim=claim,
            )
            applied = await self._apply(commit)
            if applied == "conflict":
                continue
            if applied != "applied":
                return applied, record
            return transition.outcome, transition.record or record
        raise ContentionError(f"callback {callback_id} kept conflicting")

    async def _apply(self, commit: Commit) -> CommitOutcome:
        outcome = await self._store.commit(commit)
        transition = commit.transition
        if outcome == "applied" and transition.writes:
            log.info(
                "callback_changed",
                callback_id=commit.callback_id,
                outcome=transition.outcome,
                status=transition.record.status if transition.record else None,
                events=[emit.type for emit in transition.emits],
            )
        if outcome == "applied" and transition.add_deadlines:
            self.wake()
        return outcome

    def _events(
        self, emits: Sequence[Emit], now: datetime, correlation_id: str | None
    ) -> list[tuple[str, str, str]]:
        return [
            (WORKITEM_EVENTS, emit.key, self._event_json(emit, now, correlation_id))
            for emit in emits
        ]

    def _event_json(self, emit: Emit, now: datetime, correlation_id: str | None) -> str:
        event = new_event(
            emit.type,
            emit.payload,
            source=SOURCE,
            subject=emit.key,
            tenantid=self._tenant,
            correlationid=correlation_id,
            id=self._new_id(),
            time=now,
        )
        return to_bytes(event).decode()


def stale(_record: CallbackRecord, _now: datetime) -> Transition:
    return Transition("stale")
