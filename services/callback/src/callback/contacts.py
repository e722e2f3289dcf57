"""Campaign contact lists: a JSON array of contacts, or CSV with a header row.

Each contact is checked on its own; a bad one is reported with its row number (1 for
the first contact; a CSV header row is not counted) and the others are loaded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from switchboard_schemas.callback import PhoneText, RequestCallback
from switchboard_schemas.enums import Priority
from switchboard_schemas.fields import (
    CallbackReason,
    CustomerName,
    PriorityValue,
    QueueName,
    phone_or_error,
)

COLUMNS = ("customer_phone", "customer_name", "reason", "priority", "queue")


class ContactsInvalid(ValueError):  # noqa: N818 - reads as "the contacts are invalid"
    """The upload as a whole cannot be read (not a list, no header, unknown columns)."""


class TooManyContacts(ValueError):  # noqa: N818 - reads as "there are too many contacts"
    """More contacts than one upload may hold."""


class Contact(BaseModel):
    """One campaign contact: a number to dial and what the agent should see."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_phone: PhoneText = Field(description="Required; normalised to E.164.")
    customer_name: CustomerName | None = None
    reason: CallbackReason | None = None
    priority: PriorityValue = Priority.NORMAL
    queue: QueueName | None = Field(None, description="Overrides the campaign's queue.")

    @field_validator("customer_phone")
    @classmethod
    def _e164(cls, value: str, info: ValidationInfo) -> str:
        return phone_or_error(value, info)


@dataclass(frozen=True)
class CheckedRows:
    valid: list[RequestCallback]
    rejected: list[tuple[int, list[str]]]  # row number, errors


def json_rows(raw: bytes, max_rows: int) -> list[Any]:
    """The contacts of a JSON array."""
    try:
        rows = json.loads(raw)
    except ValueError as exc:
        raise ContactsInvalid(f"invalid JSON: {exc}") from None
    if not isinstance(rows, list):
        raise ContactsInvalid("expected a JSON array of contacts")
    if len(rows) > max_rows:
        raise TooManyContacts(f"at most {max_rows} contacts per upload")
    return rows


def csv_rows(raw: bytes, max_rows: int) -> list[Any]:
    """The contacts of a CSV document whose first row names the columns."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContactsInvalid(f"CSV is not UTF-8: {exc.reason}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    if "customer_phone" not in header:
        raise ContactsInvalid("the CSV header row must name a customer_phone column")
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        raise ContactsInvalid(f"unknown CSV columns: {', '.join(unknown)}")
    reader.fieldnames = header
    rows: list[Any] = []
    try:
        for row in reader:
            if len(rows) >= max_rows:
                raise TooManyContacts(f"at most {max_rows} contacts per upload")
            rows.append(_csv_contact(row))
    except csv.Error as exc:
        raise ContactsInvalid(f"CSV line {reader.line_num}: {exc}") from None
    return rows


def _csv_contact(row: dict[str | None, Any]) -> dict[str, Any]:
    """A CSV row as contact fields: blank cells are absent, priority is a number."""
    contact: dict[str, Any] = {}
    for name, value in row.items():
        if name is None:  # more cells than columns
            contact["_extra_cells"] = value
            continue
        text = (value or "").strip()
        if text:
            contact[name] = int(text) if name == "priority" and text.isdigit() else text
    return contact


def check_rows(rows: Iterable[Any], default_region: str | None) -> CheckedRows:
    """Validate every row; the valid ones become callback requests."""
    valid: list[RequestCallback] = []
    rejected: list[tuple[int, list[str]]] = []
    for number, row in enumerate(rows, start=1):
        errors = list(_row_errors(row))
        if errors:
            rejected.append((number, errors))
            continue
        try:
            contact = Contact.model_validate(row, context={"default_region": default_region})
        except ValidationError as exc:
            rejected.append((number, _messages(exc)))
            continue
        valid.append(RequestCallback.model_validate(contact.model_dump(exclude_none=True)))
    return CheckedRows(valid, rejected)


def _row_errors(row: Any) -> Iterator[str]:
    if not isinstance(row, dict):
        yield "a contact must be an object"
    elif "_extra_cells" in row:
        yield "more cells than the header has columns"


def _messages(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(part) for part in err['loc']) or 'contact'}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)
    ]
