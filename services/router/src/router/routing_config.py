"""The routing configuration: queues, strategies, rules and capacities (a YAML file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from switchboard_schemas.enums import Channel, WorkItemType
from switchboard_schemas.workitem import WorkItem

Strategy = Literal["longest_idle", "least_busy", "round_robin"]
Kind = Literal["voice", "chat", "async"]
DEFAULT_FILE = Path(__file__).with_name("routing.yaml")
QUEUE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Capacity(_Strict):
    voice: int | None = Field(None, ge=0, le=100)
    chat: int | None = Field(None, ge=0, le=100)
    async_: int | None = Field(None, ge=0, le=100, alias="async")

    def over(self, base: dict[Kind, int]) -> dict[Kind, int]:
        """``base`` with the slots this object sets replaced."""
        given: dict[Kind, int | None] = {
            "voice": self.voice,
            "chat": self.chat,
            "async": self.async_,
        }
        merged = dict(base)
        for kind, slots in given.items():
            if slots is not None:
                merged[kind] = slots
        return merged


class Defaults(_Strict):
    strategy: Strategy = "longest_idle"
    capacity: Capacity = Capacity(voice=1, chat=3, **{"async": 5})


class QueueConfig(_Strict):
    strategy: Strategy | None = None


class RuleMatch(_Strict):
    type: WorkItemType | None = None
    sub_type: str | None = None
    channel: Channel | None = None

    def matches(self, item: WorkItem) -> bool:
        return (
            (self.type is None or self.type == item.type)
            and (self.sub_type is None or self.sub_type == item.sub_type)
            and (self.channel is None or self.channel == item.channel)
        )


class Rule(_Strict):
    when: RuleMatch
    queue: str = Field(pattern=QUEUE_PATTERN)


class AgentConfig(_Strict):
    capacity: Capacity = Capacity()


class RoutingConfig(_Strict):
    defaults: Defaults = Defaults()
    unknown_queue: Literal["fallback", "dead_letter"] = "fallback"
    queues: dict[str, QueueConfig]
    rules: list[Rule] = []
    agents: dict[str, AgentConfig] = {}

    @model_validator(mode="after")
    def _known_queues(self) -> Self:
        for name in self.queues:
            if not _valid_queue_name(name):
                raise ValueError(f"queue name {name!r} must match {QUEUE_PATTERN}")
        missing = sorted({r.queue for r in self.rules} - set(self.queues))
        if missing:
            raise ValueError(f"rules name queues that are not defined: {missing}")
        return self

    @classmethod
    def load(cls, path: Path | str | None = None) -> RoutingConfig:
        text = Path(path or DEFAULT_FILE).read_text()
        return cls.model_validate(yaml.safe_load(text) or {})

    def strategy(self, queue: str) -> Strategy:
        configured = self.queues.get(queue)
        return (configured and configured.strategy) or self.defaults.strategy

    def queue_for(self, item: WorkItem) -> tuple[str | None, str | None]:
        """(queue, note): the item's own queue if defined, else the first rule, else its type.

        The queue is None when the item names an unknown queue and the policy is
        dead_letter; the note says why a named queue was not used.
        """
        note = None
        if item.queue:
            if item.queue in self.queues:
                return item.queue, None
            if self.unknown_queue == "dead_letter":
                return None, f"unknown_queue:{item.queue}"
            note = f"unknown_queue:{item.queue}"
        for rule in self.rules:
            if rule.when.matches(item):
                return rule.queue, note
        return str(item.type), note

    def capacity(self, agent_id: str, requested: dict[str, int] | None) -> dict[Kind, int]:
        base = self.defaults.capacity.over({"voice": 1, "chat": 3, "async": 5})
        agent = self.agents.get(agent_id)
        if agent is not None:
            base = agent.capacity.over(base)
        if requested:
            base = Capacity.model_validate(requested).over(base)
        return base


def _valid_queue_name(name: str) -> bool:
    import re  # noqa: PLC0415

    return re.fullmatch(QUEUE_PATTERN, name) is not None


def kind_of(item: WorkItem) -> Kind:
    """Which capacity an item uses."""
    if item.type == WorkItemType.CHAT:
        return "chat"
    if item.type == WorkItemType.CALL or (item.type == WorkItemType.CALLBACK and item.outbound):
        return "voice"
    return "async"
