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

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
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


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, e.g. ``2025-01-31T09:30:00Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    PlainSerializer(format_time, return_type=str, when_used="json"),
]
"""A timezone-aware datetime (naive ones are rejected), kept and serialised in UTC."""


def _id(description: str) -> Any:
    return Field(min_length=1, max_length=128, pattern=ID_PATTERN, description=description)


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
