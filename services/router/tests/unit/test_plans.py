"""RouterPlans: what each consumed event and command becomes, without Redis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from router.plans import ITEM_COMMANDS, RouterPlans
from router.routing_config import RoutingConfig
from switchboard_runtime.pipeline import CommandInvalid
from switchboard_runtime.watermarks import default_partition
from switchboard_schemas.envelope import CloudEvent, new_event
from switchboard_schemas.fields import WireModel
from switchboard_schemas.registry import AGENT_COMMAND_MODELS
from switchboard_schemas.topics import AGENT_COMMANDS, WORKITEM_EVENTS

CREATED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def plans(partitions: int | None = None, **config: Any) -> RouterPlans:
    routing = RoutingConfig.model_validate({"queues": {"chat": {}, "task": {}}, **config})
    return RouterPlans(routing, seen_ttl=600, skip_limit=4, partitions=lambda: partitions)


def planned(router: RouterPlans, ce_type: str, data: dict[str, Any]) -> Any:
    """The script call for one event, looked up and validated as the batch path does."""
    for entries in router.tables().values():
        if ce_type in entries:
            entry = entries[ce_type]
            event = event_of(ce_type, entry.model.model_validate(data))
            return entry.run(event, entry.model.model_validate(event.data))
    raise KeyError(ce_type)


def event_of(ce_type: str, payload: WireModel) -> CloudEvent:
    return new_event(
        ce_type,
        payload,
        source="tests/plans",
        subject=None,
        tenantid="t",
        correlationid="corr-1",
        id="ev-1",
    )


def test_each_topic_accepts_exactly_the_types_the_router_applies() -> None:
    tables = plans().tables()

    assert sorted(tables) == sorted([WORKITEM_EVENTS, AGENT_COMMANDS])
    assert sorted(tables[WORKITEM_EVENTS]) == ["workitem.cancel_requested", "workitem.created"]
    assert sorted(tables[AGENT_COMMANDS]) == sorted(AGENT_COMMAND_MODELS)
    assert all(e.model is AGENT_COMMAND_MODELS[t] for t, e in tables[AGENT_COMMANDS].items())


def test_a_created_item_is_enqueued_with_its_summary_and_correlation() -> None:
    call = planned(
        plans(),
        "workitem.created",
        {
            "work_item_id": "wi-1",
            "type": "chat",
            "priority": 2,
            "created_at": CREATED_AT.isoformat(),
            "description": "Refund",
        },
    )

    assert call.name == "enqueue"
    assert call.correlation_id == "corr-1"
    assert call.args["wid"] == "wi-1"
    assert call.args["queue"] == "chat"
    assert call.args["priority"] == 2
    assert call.args["created_ms"] == int(CREATED_AT.timestamp() * 1000)
    assert call.args["kind"] == "chat"
    assert json.loads(call.args["summary"])["description"] == "Refund"


def test_an_unknown_queue_with_the_dead_letter_policy_cannot_be_planned() -> None:
    data = {"work_item_id": "wi-2", "type": "task", "queue": "nowhere"}
    data["created_at"] = CREATED_AT.isoformat()

    with pytest.raises(CommandInvalid) as refused:
        planned(plans(unknown_queue="dead_letter"), "workitem.created", data)

    assert refused.value.error == "unknown_queue"


def test_an_agent_status_carries_its_capacity_and_the_partition_of_its_commands() -> None:
    data = {"agent_id": "agent-7", "status": "available", "queues": ["chat"]}
    known = planned(plans(partitions=6), "agent.status", {**data, "capacity": {"chat": 2}})
    unknown = planned(plans(partitions=None), "agent.status", data)

    assert known.name == "agent_status"
    assert known.args["capacity"] == {"voice": 1, "chat": 2, "async": 5}
    assert known.args["part"] == default_partition("agent-7", 6)
    assert known.args["seen"] == "tests/plans|ev-1"
    assert unknown.args["part"] is None


@pytest.mark.parametrize("ce_type", sorted(ITEM_COMMANDS))
def test_every_item_command_names_its_agent_item_and_command_id(ce_type: str) -> None:
    extra = cast(dict[str, Any], AGENT_COMMAND_MODELS[ce_type].model_config["json_schema_extra"])
    data = dict(extra["examples"][0])

    call = planned(plans(), ce_type, data)

    assert call.name == "command"
    assert call.args["cmd"] == ce_type
    assert call.args["command_id"] == "ev-1"
    assert (call.args["agent"], call.args["wid"]) == (data["agent_id"], data["work_item_id"])
    assert call.args["skip_limit"] == 4
    assert "agent_id" not in call.args
    assert "work_item_id" not in call.args
