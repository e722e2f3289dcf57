"""The callback rules that depend on time: when a request may be scheduled, what an
attempt's disposition leads to. Plain functions; "now" is always passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from switchboard_schemas.callback import RequestCallback

# A work item id is "<callback id>-<attempt>" and may be at most 128 characters.
MAX_CALLBACK_ID = 120

Decision = Literal["completed", "retry", "failed", "missed"]


@dataclass(frozen=True)
class FieldError:
    """A request field that breaks a rule (reported as a 422 naming the field, or a DLQ)."""

    field: str
    message: str
    kind: str = "value_error"


def request_errors(req: RequestCallback, now: datetime, tolerance: timedelta) -> list[FieldError]:
    """What is wrong with the request's times at ``now`` (empty when nothing is).

    - ``scheduled_at`` more than ``tolerance`` in the past is an error; within the
      tolerance it means "as soon as possible" (clocks disagree a little).
    - ``window_end`` must be in the future (its order after ``scheduled_at`` is part
      of the schema).
    """
    errors = []
    if req.callback_id is not None and len(req.callback_id) > MAX_CALLBACK_ID:
        errors.append(
            FieldError("callback_id", f"callback_id is longer than {MAX_CALLBACK_ID} characters")
        )
    if req.scheduled_at is not None and req.scheduled_at < now - tolerance:
        errors.append(FieldError("scheduled_at", "scheduled_at is in the past", "past_time"))
    if req.window_end is not None and req.window_end <= now:
        errors.append(FieldError("window_end", "window_end is not in the future", "past_time"))
    return errors


def due_time(scheduled_at: datetime | None, now: datetime) -> datetime:
    """When the first attempt is due: ``scheduled_at``, or now when absent or passed."""
    return now if scheduled_at is None else max(scheduled_at, now)


@dataclass(frozen=True)
class RetryPolicy:
    """Settings ``CALLBACK_MAX_ATTEMPTS``, ``_RETRY_DELAY_SECONDS``, ``_RETRY_DISPOSITIONS``."""

    max_attempts: int
    delay: timedelta
    retry_codes: frozenset[str]


def after_attempt(
    policy: RetryPolicy,
    disposition_code: str,
    attempt: int,
    now: datetime,
    window_end: datetime | None,
) -> tuple[Decision, datetime | None]:
    """What a completed attempt leads to, and when the next attempt is due (for retry).

    ===================================  ===================
    disposition / situation              decision
    ===================================  ===================
    not a retry code                     completed
    retry code, attempts used up         failed
    retry code, next try after window    missed
    retry code otherwise                 retry at now + delay
    ===================================  ===================
    """
    if disposition_code not in policy.retry_codes:
        return "completed", None
    if attempt >= policy.max_attempts:
        return "failed", None
    next_at = now + policy.delay
    if window_end is not None and next_at > window_end:
        return "missed", None
    return "retry", next_at
