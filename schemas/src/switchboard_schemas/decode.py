"""Decode a Kafka record value into an envelope and a validated payload, or reject it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from switchboard_schemas import strict_json
from switchboard_schemas.envelope import CloudEvent

RejectionKind = Literal[
    "oversized", "not_json", "not_cloudevent", "unknown_type", "schema_violation", "undecodable"
]
MAX_DETAIL = 1000


class MessageRejected(Exception):  # noqa: N818 - the contract names it so
    """A message that cannot be processed; it belongs on the dead-letter topic.

    ``error`` is a stable code; ``detail`` a bounded human-readable explanation;
    ``event`` the envelope when it was valid (unknown type, schema violation), so a
    consumer can still answer ``command.rejected`` with its id and type.
    """

    def __init__(self, error: RejectionKind, detail: str, event: CloudEvent | None = None):
        self.error: str = error
        self.detail: str = _bounded(detail)
        self.event = event
        super().__init__(f"{error}: {self.detail}")


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def describe_errors(exc: ValidationError, prefix: str = "") -> str:
    """One line naming each failing field path and its message, e.g. ``data.priority: …``."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "") or "(root)"
        parts.append(f"{path}: {err['msg']}")
    return _bounded("; ".join(parts))


def _parse_object(raw: bytes) -> dict[str, Any]:
    try:
        value = strict_json.loads(raw)
    except ValueError as exc:
        raise MessageRejected("not_json", f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MessageRejected("not_json", f"expected a JSON object, got {type(value).__name__}")
    return value


def decode_command(
    raw: bytes,
    *,
    allowed: Mapping[str, type[BaseModel]],
    max_bytes: int,
    default_region: str | None = None,
) -> tuple[CloudEvent, BaseModel]:
    """Check, in order: size, UTF-8 JSON object, CloudEvent, ``type`` in ``allowed``, ``data``.

    Raises :class:`MessageRejected` at the first failed check, and for any other
    exception while decoding (``undecodable``, naming it): one bad record can only ever
    cost itself. ``data`` is validated with ``context={"default_region": default_region}``.
    """
    try:
        return _decode(raw, allowed, max_bytes, default_region)
    except MessageRejected:
        raise
    except Exception as exc:  # a validator or parser bug: the record goes to the DLQ
        raise MessageRejected("undecodable", f"decoding failed: {exc!r}") from None


def _decode(
    raw: bytes,
    allowed: Mapping[str, type[BaseModel]],
    max_bytes: int,
    default_region: str | None,
) -> tuple[CloudEvent, BaseModel]:
    if len(raw) > max_bytes:
        raise MessageRejected("oversized", f"{len(raw)} bytes exceeds the limit of {max_bytes}")
    obj = _parse_object(raw)
    try:
        event = CloudEvent.model_validate(obj)
    except ValidationError as exc:
        raise MessageRejected("not_cloudevent", describe_errors(exc)) from None
    model = allowed.get(event.type)
    if model is None:
        raise MessageRejected("unknown_type", f"type {event.type!r} is not accepted here", event)
    if event.data is None:
        raise MessageRejected("schema_violation", "data: a payload object is required", event)
    try:
        payload = model.model_validate(event.data, context={"default_region": default_region})
    except ValidationError as exc:
        raise MessageRejected("schema_violation", describe_errors(exc, "data"), event) from None
    except Exception as exc:
        detail = f"data: validation failed: {exc!r}"
        raise MessageRejected("schema_violation", detail, event) from None
    return event, payload
