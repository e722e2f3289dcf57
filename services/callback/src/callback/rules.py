"""The callback rules that depend on time: when the first attempt is due, what an
attempt's disposition leads to (what a request may ask is in
switchboard_schemas.callback_rules). Plain functions; "now" is always passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Decision = Literal["completed", "retry", "failed", "missed"]


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
