"""What the gateway hands on for a command or a Create Task form, decided without brokers:
ids, the agent acting as itself, validation naming the field, topic and key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from desktop.commands_api import as_agent, model_of
from desktop.handoff import Origin, derived_id, fingerprint
from desktop.tasks_api import Tasks
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from switchboard_schemas.agent import HoldItem
from switchboard_schemas.topics import CALLBACK_COMMANDS, WORKITEM_COMMANDS

SCHEDULE_TOLERANCE = timedelta(seconds=5)
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
ORIGIN = Origin("ada", "form-1", "default", "corr-1")


def tasks() -> Tasks:
    return Tasks(default_region="US", clock=lambda: NOW, tolerance=SCHEDULE_TOLERANCE)


def locs(exc: pytest.ExceptionInfo[RequestValidationError]) -> list[tuple[Any, ...]]:
    return [tuple(error["loc"]) for error in exc.value.errors()]


def test_an_idempotency_key_names_the_same_id_for_the_same_caller_only() -> None:
    first = derived_id("command", "ada", "k-1")

    assert derived_id("command", "ada", "k-1") == first
    assert uuid.UUID(first).version == 5
    assert derived_id("command", "bob", "k-1") != first
    assert derived_id("task", "ada", "k-1") != first
    assert derived_id("command", "ada", None) != derived_id("command", "ada", None)
    assert uuid.UUID(derived_id("command", "ada", None)).version == 4


def test_a_fingerprint_tells_a_retry_from_another_request() -> None:
    hold = HoldItem(agent_id="ada", work_item_id="wi-1")

    assert fingerprint("commands", "item.hold", hold) == fingerprint(
        "commands", "item.hold", HoldItem(agent_id="ada", work_item_id="wi-1")
    )
    assert fingerprint("commands", "item.hold", hold) != fingerprint(
        "commands", "item.resume", hold
    )


def test_the_agent_is_the_token_s_subject() -> None:
    assert as_agent({"work_item_id": "wi-1"}, "ada") == {"work_item_id": "wi-1", "agent_id": "ada"}
    assert as_agent({"agent_id": "ada"}, "ada") == {"agent_id": "ada"}
    assert as_agent({"agent_id": None}, "ada") == {"agent_id": "ada"}
    assert as_agent({"agent_id": 7}, "ada") == {"agent_id": 7}  # the model names it
    with pytest.raises(HTTPException) as refused:
        as_agent({"agent_id": "bob"}, "ada")
    assert refused.value.status_code == 403


def test_an_unknown_command_type_names_type() -> None:
    with pytest.raises(RequestValidationError) as exc:
        model_of("workitem.create")  # a command, but not an agent's
    assert locs(exc) == [("body", "type")]
    assert model_of("item.hold") is HoldItem


def test_a_task_becomes_workitem_create_keyed_by_its_new_id() -> None:
    handoff = tasks().handoff({"type": "task", "priority": 2}, ORIGIN)

    wid = handoff.answer_id
    assert wid == derived_id("task", "ada", "form-1")
    assert (handoff.topic, handoff.kafka_key) == (WORKITEM_COMMANDS, wid)
    event = handoff.event
    assert (event.type, event.source, event.subject) == (
        "workitem.create",
        "switchboard/desktop",
        wid,
    )
    assert (event.tenantid, event.correlationid) == ("default", "corr-1")
    assert event.data is not None
    assert (event.data["work_item_id"], event.data["priority"]) == (wid, 2)
    assert event.id == derived_id("task-event", "ada", "form-1") != wid


def test_a_task_keeps_the_id_it_names() -> None:
    handoff = tasks().handoff({"type": "email", "work_item_id": "mine-1"}, ORIGIN)

    assert handoff.answer_id == handoff.kafka_key == "mine-1"


def test_a_callback_becomes_callback_request_keyed_by_callback_id() -> None:
    body = {"type": "callback", "customer_phone": "(415) 555-2671", "priority": 1}
    handoff = tasks().handoff(body, ORIGIN)

    cid = handoff.answer_id
    assert (handoff.topic, handoff.kafka_key, handoff.event.subject) == (
        CALLBACK_COMMANDS,
        cid,
        cid,
    )
    assert handoff.event.type == "callback.request"
    assert handoff.event.data == {
        "callback_id": cid,
        "customer_phone": "+14155552671",
        "priority": 1,
        "channel": "api",
        "skills": [],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "callback"}, "customer_phone"),
        ({"type": "callback", "customer_phone": "12"}, "customer_phone"),
        ({"type": "task", "priority": 4}, "priority"),
        ({"type": "callback", "customer_phone": "+14155552671", "priority": 0}, "priority"),
        ({"type": "callback", "customer_phone": "+14155552671", "description": "x"}, "description"),
        (
            {"type": "callback", "customer_phone": "+14155552671", "callback_id": "c" * 121},
            "callback_id",
        ),
        ({"type": "meeting"}, "type"),
    ],
)
def test_an_invalid_form_names_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestValidationError) as exc:
        tasks().handoff(body, ORIGIN)
    assert locs(exc) == [("body", field)]


def test_a_callback_s_times_must_not_have_passed() -> None:
    def at(**times: datetime) -> dict[str, Any]:
        iso = {name: moment.isoformat() for name, moment in times.items()}
        return {"type": "callback", "customer_phone": "+14155552671", **iso}

    tasks().handoff(at(scheduled_at=NOW - SCHEDULE_TOLERANCE), ORIGIN)  # clock skew
    tasks().handoff(at(window_end=NOW + timedelta(seconds=1)), ORIGIN)
    with pytest.raises(RequestValidationError) as exc:
        tasks().handoff(at(scheduled_at=NOW - timedelta(minutes=1), window_end=NOW), ORIGIN)
    assert locs(exc) == [("body", "scheduled_at"), ("body", "window_end")]
