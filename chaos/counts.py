"""What the checker is told (``Known``) and what it counts (``Counts``)."""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

MUST_BE_ZERO = (
    "lost",
    "double_offers",
    "over_capacity",
    "deadlines_zero",
    "deadlines_twice",
    "missing_events",
    "stuck",
    "http_500",
    "poison_missing",
    "commands_lost",
    "desktop_missed",
    "stream_missed",
)


@dataclass
class Known:
    """What the load driver knows, and what the run saw of Redis and the consumers."""

    tenant: str
    accepted: set[str] = field(default_factory=set)
    http: collections.Counter[int] = field(default_factory=collections.Counter)
    capacity: dict[str, int] = field(default_factory=dict)
    poison: dict[str, set[str]] = field(default_factory=dict)  # topic -> keys sent
    redis_status: dict[str, str | None] = field(default_factory=dict)  # item -> ri status
    lag: dict[str, dict[str, int]] = field(default_factory=dict)  # group -> behind
    end_ms: int = 0
    grace_ms: int = 5_000
    sampled_over: dict[str, int] = field(default_factory=dict)  # agent -> most items seen
    replay_capacity: bool = True  # False when replicas' clocks disagree (scenario 4)
    tolerance_ms: int = 1_000  # how long an excess must last in the replay to count
    handed_on: set[str] = field(default_factory=set)  # command ids the desktop took (202)
    desktop_logs: dict[str, set[str]] | None = None  # agent -> event ids in its desktop log
    stream_seen: dict[str, set[str]] | None = None  # agent -> event ids its stream delivered
    stream_snapshot_offers: dict[str, set[str]] = field(default_factory=dict)  # offer ids


@dataclass
class Counts:
    items: int = 0
    completed: int = 0
    expired: int = 0
    lost: int = 0
    double_offers: int = 0
    over_capacity: int = 0
    deadlines_zero: int = 0
    deadlines_twice: int = 0
    missing_events: int = 0
    duplicates: int = 0
    duplicate_commands: int = 0
    stuck: int = 0
    http_5xx: int = 0
    http_503: int = 0
    http_500: int = 0
    dead_letters: int = 0
    poison_missing: int = 0
    commands_lost: int = 0
    desktop_missed: int = 0
    stream_missed: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)  # the tenant's records per type

    def note(self, count: str, example: str) -> None:
        setattr(self, count, getattr(self, count) + 1)
        found = self.examples.setdefault(count, [])
        if len(found) < 5:
            found.append(example)

    def violations(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in MUST_BE_ZERO if getattr(self, name)}

    def row(self) -> dict[str, Any]:
        return asdict(self)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
