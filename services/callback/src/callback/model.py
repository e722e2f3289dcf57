"""The callback record: a request to call a customer back, and each attempt at it.

Statuses:

- ``scheduled``: waiting for the due time of its current attempt;
- ``waiting``: the attempt's outbound work item exists (queued or offered to agents);
- ``in_progress``: an agent dialed it (``workitem.dialed``);
- closed: ``completed`` (reached), ``failed`` (attempts exhausted), ``missed`` (the
  window ended first) or ``cancelled``. Nothing reopens a closed callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from switchboard_schemas.fields import RecordedDatetime


class Status(StrEnum):
    SCHEDULED = "scheduled"
    WAITING = "waiting"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    MISSED = "missed"
    CANCELLED = "cancelled"


OPEN = frozenset({Status.SCHEDULED, Status.WAITING, Status.IN_PROGRESS})


class Source(StrEnum):
    """Where a callback came from; its work items carry it as ``attributes.source``."""

    CALLBACK = "callback"
    PROGRESSIVE_DIAL = "progressive_dial"


class Attempt(BaseModel):
    """One try at calling the customer back: one outbound work item."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    attempt: int = Field(description="1 for the first attempt.")
    scheduled_at: RecordedDatetime = Field(description="When the attempt is (was) due.")
    work_item_id: str | None = Field(
        None, description="The attempt's outbound work item, once it was created."
    )
    queued_at: RecordedDatetime | None = Field(None, description="When the work item was created.")
    started_at: RecordedDatetime | None = Field(None, description="When an agent dialed it.")
    agent_id: str | None = Field(None, description="The agent who dialed it.")
    disposition_code: str | None = Field(None, description="Disposition the agent chose.")
    outcome: str | None = Field(
        None, description="What the dialer reported (callback.dial_outcome), e.g. no_answer."
    )
    ended_at: RecordedDatetime | None = Field(None, description="When its work item closed.")
    result: str | None = Field(
        None, description="How the attempt ended: retry, completed, failed, missed, cancelled."
    )


class CallbackRecord(BaseModel):
    """A callback request with its attempts (what Redis keeps, as JSON)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    callback_id: str
    status: Status
    source: Source
    campaign_id: str | None = None
    customer_phone: str
    customer_name: str | None = None
    reason: str | None = None
    priority: int
    queue: str
    sub_type: str | None = None
    channel: str = Field(description="Channel the request came in on.")
    skills: list[str] = Field(default_factory=list)
    scheduled_at: RecordedDatetime = Field(description="When the first attempt was due.")
    window_end: RecordedDatetime | None = None
    created_at: RecordedDatetime
    updated_at: RecordedDatetime
    closed_at: RecordedDatetime | None = None
    close_reason: str | None = None
    correlation_id: str | None = None
    fingerprint: str = ""
    attempts: list[Attempt] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def current(self) -> Attempt:
        """The latest attempt (a callback always has one)."""
        return self.attempts[-1]

    def attempt_of(self, work_item_id: str) -> Attempt | None:
        for attempt in self.attempts:
            if attempt.work_item_id == work_item_id:
                return attempt
        return None

    def with_attempt(self, attempt: Attempt, now: datetime, **changes: object) -> CallbackRecord:
        """A copy with ``attempt`` replacing the one of the same number, and ``changes``."""
        attempts = [attempt if a.attempt == attempt.attempt else a for a in self.attempts]
        return self.model_copy(update={"attempts": attempts, "updated_at": now, **changes})


@dataclass(frozen=True)
class NewCallback:
    """A validated request, with everything the service decided about it."""

    callback_id: str
    customer_phone: str
    customer_name: str | None
    reason: str | None
    priority: int
    queue: str
    sub_type: str | None
    channel: str
    skills: tuple[str, ...]
    due_at: datetime
    window_end: datetime | None
    source: Source
    campaign_id: str | None
    correlation_id: str | None
    fingerprint: str
