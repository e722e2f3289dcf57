"""CloudEvents 1.0 envelope, structured JSON mode (see docs/architecture.md, "Wire contract")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from switchboard_schemas.fields import UtcDatetime

CONTENT_TYPE = "application/cloudevents+json"
TENANT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
EXTENSION_NAME_PATTERN = r"^[a-z0-9]{1,20}$"
MAX_EXTENSIONS = 10
MAX_EXTENSION_STR = 256
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _check_extension_value(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and _INT32_MIN <= value <= _INT32_MAX:
        return value
    if isinstance(value, str) and len(value) <= MAX_EXTENSION_STR:
        return value
    raise PydanticCustomError(
        "extension_value",
        "extension attribute values must be a string of at most {max} characters, "
        "a 32-bit integer or a boolean",
        {"max": MAX_EXTENSION_STR},
    )


ExtensionName = Annotated[str, StringConstraints(pattern=EXTENSION_NAME_PATTERN)]
ExtensionValue = Annotated[
    StrictBool | StrictInt | StrictStr, BeforeValidator(_check_extension_value)
]


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event. ``data`` holds the payload of the model named by ``type``.

    Besides ``tenantid`` and ``correlationid``, up to 10 extension attributes are kept
    (lowercase alphanumeric names of at most 20 characters; string, int or bool values).
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[ExtensionName, ExtensionValue] = Field(init=False)

    specversion: Literal["1.0"] = Field(description="CloudEvents version.")
    id: str = Field(min_length=1, max_length=256, description="Unique id, used for dedup.")
    source: str = Field(min_length=1, max_length=256, examples=["switchboard/router"])
    type: str = Field(min_length=1, max_length=128, examples=["workitem.created"])
    time: UtcDatetime = Field(description="When it happened, RFC 3339 UTC.")
    subject: str | None = Field(default=None, max_length=256, description="Work item id.")
    datacontenttype: str | None = Field(default="application/json", max_length=128)
    tenantid: str = Field(default="default", pattern=TENANT_PATTERN)
    correlationid: str | None = Field(default=None, min_length=1, max_length=256)
    data: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _few_extensions(self) -> CloudEvent:
        extra = self.model_extra or {}
        if len(extra) > MAX_EXTENSIONS:
            raise PydanticCustomError(
                "too_many_extensions",
                "at most {max} extension attributes are allowed, got {count}",
                {"max": MAX_EXTENSIONS, "count": len(extra)},
            )
        return self


def new_event(
    type: str,
    data: BaseModel,
    *,
    source: str,
    subject: str | None,
    tenantid: str = "default",
    correlationid: str | None = None,
    id: str | None = None,
    time: datetime | None = None,
) -> CloudEvent:
    """Wrap ``data`` in a new validated CloudEvent (id: a UUID4, time: now, UTC)."""
    return CloudEvent.model_validate(
        {
            "specversion": "1.0",
            "id": id if id is not None else str(uuid.uuid4()),
            "source": source,
            "type": type,
            "time": time if time is not None else datetime.now(UTC),
            "subject": subject,
            "tenantid": tenantid,
            "correlationid": correlationid,
            "data": data.model_dump(mode="json", exclude_none=True),
        }
    )


def to_bytes(ev: CloudEvent) -> bytes:
    """Compact JSON of ``ev`` without null attributes, for a Kafka record value."""
    return ev.model_dump_json(exclude_none=True).encode()
