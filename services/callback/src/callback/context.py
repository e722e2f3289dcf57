"""What the use cases are told: who asks, how to recognise a retry, which rules apply."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from switchboard_schemas.callback_rules import FieldError

from callback.model import CallbackRecord, Source
from callback.rules import RetryPolicy

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]
RequestOutcome = Literal["created", "merged", "duplicate"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


class RequestRejected(Exception):  # noqa: N818 - reads as "the request is rejected"
    """The request breaks a scheduling rule; ``errors`` name the fields."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class CallbackConflict(Exception):  # noqa: N818 - reads as "a conflicting callback"
    """A caller-supplied callback id was already used for a different request."""


class ContentionError(RuntimeError):
    """The record kept changing under us (should not happen outside of a storm)."""


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from and how to recognise its retries."""

    correlation_id: str | None = None
    request_key: str | None = None  # "http:<Idempotency-Key>" or "ce:<source>:<id>"
    request_ttl: int = 86_400
    sent_at: datetime | None = None  # a command's CloudEvents time


@dataclass(frozen=True)
class Placement:
    """Who asks: a customer (callback) or a campaign (progressive dial), and which queue."""

    source: Source = Source.CALLBACK
    campaign_id: str | None = None
    queue: str | None = None


@dataclass(frozen=True)
class RequestResult:
    outcome: RequestOutcome
    record: CallbackRecord
    first_outcome: str  # for a duplicate: what the first delivery got (created, merged)


@dataclass(frozen=True)
class Policy:
    """The settings the use cases follow."""

    retry: RetryPolicy
    default_queue: str
    tolerance: timedelta
    seen_ttl: int
