"""The rules of a callback request that depend on time, shared by every service that
takes one (the callback service, and the desktop gateway's Create Task, which checks
them before handing a request on). Plain functions; "now" is always passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard_schemas.callback import RequestCallback

# A work item id is "<callback id>-<attempt>" and may be at most 128 characters.
MAX_CALLBACK_ID = 120


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
