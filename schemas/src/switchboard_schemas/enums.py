"""Enumerations of the wire contract."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class WorkItemType(StrEnum):
    """Kind of work item; decides its behaviour, actions and default queue."""

    CHAT = "chat"
    CALL = "call"
    TASK = "task"
    CALLBACK = "callback"
    REVIEW = "review"
    APPROVAL = "approval"
    EMAIL = "email"


class Channel(StrEnum):
    """Channel the work item originated from."""

    INTERNAL = "internal"
    EMAIL = "email"
    FORM = "form"
    PHONE = "phone"
    WALK_IN = "walk_in"
    MAIL = "mail"
    API = "api"


class Priority(IntEnum):
    """Urgency; lower numbers are routed first. Only these five values are valid."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    NORMAL = 5
    LOW = 8

    @property
    def label(self) -> str:
        """Human label as shown on the desktop, e.g. ``"Critical"``."""
        return self.name.capitalize()


class AgentStatus(StrEnum):
    """Availability an agent declares through ``agent.status``."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class WorkItemStatus(StrEnum):
    """State of a work item in the router-owned lifecycle (see docs/architecture.md)."""

    CREATED = "created"
    QUEUED = "queued"
    OFFERED = "offered"
    ACTIVE = "active"
    HOLD = "hold"
    WRAP_UP = "wrap_up"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"
