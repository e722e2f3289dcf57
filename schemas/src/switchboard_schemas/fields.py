"""Reusable field types and the base model of every command and event payload."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from switchboard_schemas.enums import Priority
from switchboard_schemas.phone import PhoneNumberError, normalize_phone

# Ids become parts of Redis key names, which are joined with ':' and carry a '{...}' hash
# tag: an id is 1-128 of letters, digits, '.', '_' and '-', starting with a letter or
# digit, so no id can spell another key ('T-1:history'), a hash tag, whitespace or a
# control character.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ID_MAX_LENGTH = 128
QUEUE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
CODE_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
MAX_SKILLS = 32
MAX_QUEUES = 64


class WireModel(BaseModel):
    """Base of every payload: unknown fields are rejected and instances are immutable.

    Concrete payloads set ``TYPE`` to their CloudEvents ``type``.
    """

    TYPE: ClassVar[str]
    model_config = ConfigDict(extra="forbid", frozen=True)


# The range every date on the wire must lie in. Dates near year 1 or 9999 overflow
# when converted between time zones; nothing a contact center schedules lies outside.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2200, 1, 1, tzinfo=UTC)


# Validation context for records read back from storage: they were checked when they
# came in, perhaps under older rules, and a read must never fail on what was stored.
STORED: dict[str, bool] = {"stored": True}


def _is_stored(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and info.context.get("stored") is True


def _to_utc(value: datetime, info: ValidationInfo) -> datetime:
    """``value`` in UTC, or a ``datetime_range`` validation error naming the range
    (not for stored records, see ``STORED``: those are kept as they are)."""
    try:
        utc: datetime | None = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if _is_stored(info):
        return value if utc is None else utc
    if utc is None or not EARLIEST_TIME <= utc < LATEST_TIME:
        raise PydanticCustomError(
            "datetime_range",
            "must lie between {earliest} and {latest} (UTC)",
            {"earliest": "1970-01-01T00:00:00Z", "latest": "2200-01-01T00:00:00Z"},
        )
    return utc


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, e.g. ``2025-01-31T09:30:00Z`` (a stored date
    too close to the ends of the calendar for UTC keeps its own offset)."""
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        return value.isoformat()
    return value.isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    PlainSerializer(format_time, return_type=str, when_used="json"),
]
"""A timezone-aware datetime (naive ones are rejected) from 1970 up to (not including)
2200, kept and serialised in UTC."""


def _stored_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return value


RecordedDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_stored_utc),
    PlainSerializer(format_time, return_type=str, when_used="json"),
]
"""A timezone-aware datetime of a stored record or a view of one: in UTC, never refused
(what came in was range-checked as ``UtcDatetime`` then, perhaps under older rules)."""


def _id(description: str) -> Any:
    return Field(
        min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, description=description
    )


WorkItemId = Annotated[str, _id("Work item id, unique per tenant.")]
AgentId = Annotated[str, _id("Agent id.")]
OfferId = Annotated[str, _id("Offer id, unique per offer made by the router.")]
CallbackId = Annotated[str, _id("Callback request id.")]

QueueName = Annotated[
    str,
    StringConstraints(max_length=64, pattern=QUEUE_PATTERN),
    Field(description="Queue name: lowercase letters, digits, '_', '.', '-'.", examples=["task"]),
]
SkillName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Skills = Annotated[
    list[SkillName],
    Field(max_length=MAX_SKILLS, description="Skill names (at most 32, each 1-64 chars)."),
]
Reason = Annotated[str, StringConstraints(max_length=500)]
DispositionCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=CODE_PATTERN),
    Field(description="Disposition code chosen at wrap-up.", examples=["resolved"]),
]
AwayReason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=CODE_PATTERN),
    Field(description="Why the agent is away, a short code.", examples=["lunch"]),
]
Notes = Annotated[str, StringConstraints(max_length=4000)]
Description = Annotated[str, StringConstraints(max_length=4000)]
SubType = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(description="Free-text sub-category for reporting.", examples=["billing_dispute"]),
]
CustomerName = Annotated[str, StringConstraints(max_length=200)]
CallbackReason = Annotated[str, StringConstraints(max_length=2000)]

_PRIORITY_VALUES = ", ".join(f"{p.value} ({p.label})" for p in Priority)
_PRIORITY_INTS = frozenset(p.value for p in Priority)


def _check_priority(value: object) -> object:
    valid = isinstance(value, int) and not isinstance(value, bool) and value in _PRIORITY_INTS
    if not valid:
        raise PydanticCustomError(
            "priority",
            "priority must be one of {allowed}",
            {"allowed": _PRIORITY_VALUES},
        )
    return value


PriorityValue = Annotated[
    Priority,
    BeforeValidator(_check_priority),
    Field(description="1 Critical, 2 High, 3 Medium, 5 Normal (default), 8 Low."),
]


def default_region(info: ValidationInfo) -> str | None:
    """The ``default_region`` of the validation context, if any."""
    context = info.context
    if isinstance(context, dict):
        region = context.get("default_region")
        if isinstance(region, str) and region:
            return region
    return None


def phone_or_error(value: str, info: ValidationInfo) -> str:
    """Normalise ``value`` to E.164 or raise a ``phone_number`` validation error."""
    try:
        return normalize_phone(value, default_region(info))
    except PhoneNumberError as exc:
        raise PydanticCustomError("phone_number", "{reason}", {"reason": str(exc)}) from None


def blank_to_none(value: object) -> object:
    """Treat an empty or whitespace-only string as absent (what forms send)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def examples(*items: JsonDict) -> ConfigDict:
    """Model config that publishes ``items`` as JSON-schema examples."""
    values: list[JsonValue] = [*items]
    return ConfigDict(json_schema_extra={"examples": values})
