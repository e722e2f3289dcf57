"""The work item read model as Redis keeps it: one record hash per item, read back here.

The work item service writes it (its intake and projection scripts); the work item
service and the desktop gateway read it. A record's hash (``Keys.work_item``) holds
``item`` (the item's JSON), ``status``, ``created_at``, ``updated_at`` and, once set,
``cancel_requested_at``, ``agent_id``, ``disposition_code``, ``notes`` and
``archived_at``; its history is a list of JSON entries (``Keys.work_item_history``).
An agent's Inbox is a sorted set of work item ids (``Keys.agent_inbox``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredItem:
    """A work item record as kept in Redis."""

    item: dict[str, Any]
    status: str
    created_at: str
    updated_at: str
    cancel_requested_at: str | None
    history: list[dict[str, Any]]
    agent_id: str | None = None
    disposition_code: str | None = None
    notes: str | None = None
    archived_at: str | None = None


def stored_item(fields: dict[bytes, bytes], history: list[bytes]) -> StoredItem | None:
    """A record from its Redis hash and history list; None when the hash is empty."""
    if not fields:
        return None
    text = {k.decode(): v.decode() for k, v in fields.items()}
    return StoredItem(
        item=json.loads(text["item"]),
        status=text["status"],
        created_at=text["created_at"],
        updated_at=text["updated_at"],
        cancel_requested_at=text.get("cancel_requested_at"),
        history=[json.loads(entry) for entry in history],
        agent_id=text.get("agent_id"),
        disposition_code=text.get("disposition_code"),
        notes=text.get("notes"),
        archived_at=text.get("archived_at"),
    )
