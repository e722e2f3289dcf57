"""RoutingConfig and kind_of: pure functions of the YAML file and the work item."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from router.routing_config import RoutingConfig, kind_of
from switchboard_schemas.workitem import WorkItem

DEFAULT_QUEUES = {"chat", "call", "task", "callback", "review", "approval", "email"}
PHONE = "+14155552671"


def item(type: str = "task", **fields: Any) -> WorkItem:
    if type == "callback":
        fields.setdefault("customer_phone", PHONE)
    return WorkItem.model_validate(
        {"work_item_id": "wi-1", "type": type, "created_at": datetime.now(UTC), **fields}
    )


def config(**fields: Any) -> RoutingConfig:
    queues: dict[str, dict[str, str]] = {q: {} for q in DEFAULT_QUEUES | {"billing", "front-desk"}}
    return RoutingConfig.model_validate({"queues": queues, **fields})


RULES = [
    {"when": {"type": "task", "sub_type": "billing_dispute"}, "queue": "billing"},
    {"when": {"channel": "walk_in"}, "queue": "front-desk"},
    {"when": {"type": "task"}, "queue": "review"},
]


def test_default_file_has_one_queue_per_type() -> None:
    cfg = RoutingConfig.load()
    assert set(cfg.queues) == DEFAULT_QUEUES
    assert cfg.rules == []
    assert cfg.unknown_queue == "fallback"
    assert {cfg.strategy(q) for q in cfg.queues} == {"longest_idle"}
    for queue in DEFAULT_QUEUES:
        extra = {"outbound": True} if queue == "callback" else {}
        assert cfg.queue_for(item(queue, **extra)) == (queue, None)


def test_strategy_per_queue_or_default() -> None:
    cfg = config(
        defaults={"strategy": "least_busy"}, queues={"a": {"strategy": "round_robin"}, "b": {}}
    )
    assert (cfg.strategy("a"), cfg.strategy("b"), cfg.strategy("zz")) == (
        "round_robin",
        "least_busy",
        "least_busy",
    )


def test_an_explicit_known_queue_wins_over_the_rules() -> None:
    cfg = config(rules=RULES)
    assert cfg.queue_for(item("task", sub_type="billing_dispute", queue="email")) == ("email", None)


@pytest.mark.parametrize(
    ("fields", "queue"),
    [
        ({"type": "task", "sub_type": "billing_dispute", "channel": "walk_in"}, "billing"),
        ({"type": "task", "channel": "walk_in"}, "front-desk"),
        ({"type": "email", "channel": "walk_in"}, "front-desk"),
        ({"type": "task", "sub_type": "other"}, "review"),
        ({"type": "chat"}, "chat"),
    ],
)
def test_the_first_matching_rule_wins(fields: dict[str, Any], queue: str) -> None:
    assert config(rules=RULES).queue_for(item(**fields)) == (queue, None)


def test_an_unknown_queue_falls_back_with_a_note() -> None:
    cfg = config(rules=RULES[2:])
    assert cfg.queue_for(item("task", queue="nowhere")) == ("review", "unknown_queue:nowhere")
    assert cfg.queue_for(item("chat", queue="nowhere")) == ("chat", "unknown_queue:nowhere")


def test_an_unknown_queue_is_dead_lettered_by_policy() -> None:
    cfg = config(rules=RULES, unknown_queue="dead_letter")
    assert cfg.queue_for(item("task", queue="nowhere")) == (None, "unknown_queue:nowhere")
    assert cfg.queue_for(item("task", queue="billing")) == ("billing", None)


def test_capacity_precedence() -> None:
    cfg = config(
        defaults={"capacity": {"voice": 2}},
        agents={"agent-7": {"capacity": {"chat": 7, "async": 9}}},
    )
    assert cfg.capacity("agent-1", None) == {"voice": 2, "chat": 3, "async": 5}
    assert cfg.capacity("agent-7", None) == {"voice": 2, "chat": 7, "async": 9}
    assert cfg.capacity("agent-7", {"async": 1}) == {"voice": 2, "chat": 7, "async": 1}
    assert cfg.capacity("agent-1", {"voice": 0, "chat": 1}) == {"voice": 0, "chat": 1, "async": 5}
    assert RoutingConfig.load().capacity("x", {}) == {"voice": 1, "chat": 3, "async": 5}


@pytest.mark.parametrize(
    ("type", "outbound", "kind"),
    [
        ("chat", False, "chat"),
        ("call", False, "voice"),
        ("callback", True, "voice"),
        ("callback", False, "async"),
        ("task", False, "async"),
        ("review", False, "async"),
        ("approval", False, "async"),
        ("email", False, "async"),
    ],
)
def test_kind_of(type: str, outbound: bool, kind: str) -> None:
    assert kind_of(item(type, outbound=outbound)) == kind


@pytest.mark.parametrize(
    "document",
    [
        {"queues": {"task": {}}, "rules": [{"when": {"type": "task"}, "queue": "billing"}]},
        {"queues": {"task": {"strategy": "random"}}},
        {"queues": {"task": {}}, "defaults": {"strategy": "fastest"}},
        {"queues": {"Task Queue": {}}},
        {"queues": {"-task": {}}},
        {"queues": {"task": {}}, "rules": [{"when": {"type": "fax"}, "queue": "task"}]},
        {"queues": {"task": {}}, "unknown_queue": "drop"},
        {"queues": {"task": {}}, "agents": {"a": {"capacity": {"voice": 101}}}},
        {"queues": {"task": {}}, "surprise": 1},
        {"rules": []},
    ],
    ids=[
        "rule-undefined-queue",
        "bad-strategy",
        "bad-default-strategy",
        "bad-queue-name",
        "queue-name-start",
        "rule-bad-type",
        "bad-unknown-policy",
        "capacity-range",
        "extra-key",
        "no-queues",
    ],
)
def test_invalid_files_are_refused(tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ValidationError):
        RoutingConfig.load(path)
