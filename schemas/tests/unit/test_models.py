"""Agent, callback and lifecycle payload models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from switchboard_schemas import (
    COMMAND_MODELS,
    EVENT_MODELS,
    AcceptOffer,
    AgentStatus,
    AgentStatusCommand,
    CallbackScheduled,
    CommandRejected,
    CompleteItem,
    ItemSummary,
    OfferMade,
    OfferRevoked,
    Priority,
    RequestCallback,
    WorkItemCompleted,
    WorkItemQueued,
    WorkItemSkipped,
)

Loc = tuple[int | str, ...]
ALL_MODELS = {**COMMAND_MODELS, **EVENT_MODELS}
OFFER = {"agent_id": "agent-7", "offer_id": "of-9", "work_item_id": "wi-42"}


def error_locs(model: type[BaseModel], data: dict[str, Any], region: str | None = None) -> set[Loc]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data, context={"default_region": region})
    return {tuple(e["loc"]) for e in info.value.errors()}


def examples_of(model: type[BaseModel]) -> list[Any]:
    schema = model.model_json_schema()
    found = schema.get("examples")
    assert isinstance(found, list)
    return found


@pytest.mark.parametrize("type_name", sorted(ALL_MODELS))
def test_every_model_publishes_valid_examples(type_name: str) -> None:
    model = ALL_MODELS[type_name]
    examples = examples_of(model)
    assert examples
    for example in examples:
        model.model_validate(example)


@pytest.mark.parametrize("type_name", sorted(ALL_MODELS))
def test_every_model_rejects_unknown_fields(type_name: str) -> None:
    model = ALL_MODELS[type_name]
    example = examples_of(model)[0]
    assert ("unexpected",) in error_locs(model, {**example, "unexpected": 1})


@pytest.mark.parametrize("type_name", sorted(ALL_MODELS))
def test_every_model_documents_its_fields(type_name: str) -> None:
    schema = ALL_MODELS[type_name].model_json_schema()
    assert schema.get("description")
    assert schema.get("additionalProperties") is False


def test_agent_status_command() -> None:
    cmd = AgentStatusCommand.model_validate(
        {"agent_id": "a1", "status": "available", "queues": ["task"], "capacity": {"chat": 2}}
    )
    assert cmd.status is AgentStatus.AVAILABLE
    assert cmd.capacity == {"chat": 2}
    assert cmd.skills == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "busy"),
        ("queues", ["Bad Queue"]),
        ("queues", [f"q{i}" for i in range(65)]),
        ("skills", ["s"] * 33),
        ("capacity", {"email": 1}),
        ("capacity", {"voice": 101}),
        ("capacity", {"voice": -1}),
        ("capacity", {"voice": True}),
        ("agent_id", ""),
    ],
)
def test_agent_status_command_bounds(field: str, value: object) -> None:
    data = {"agent_id": "a1", "status": "available", field: value}
    assert {loc[0] for loc in error_locs(AgentStatusCommand, data)} == {field}


def test_offer_actions_require_ids_and_bound_reason() -> None:
    assert AcceptOffer.model_validate(OFFER).reason is None
    assert error_locs(AcceptOffer, {"agent_id": "a"}) == {("offer_id",), ("work_item_id",)}
    assert error_locs(AcceptOffer, {**OFFER, "reason": "r" * 501}) == {("reason",)}


@pytest.mark.parametrize(
    ("code", "ok"),
    [("resolved", True), ("a" * 64, True), ("", False), ("a" * 65, False), ("Resolved", False)],
)
def test_complete_item_disposition_code(code: str, ok: bool) -> None:
    data = {"agent_id": "a", "work_item_id": "w", "disposition_code": code}
    if ok:
        assert CompleteItem.model_validate(data).disposition_code == code
    else:
        assert error_locs(CompleteItem, data) == {("disposition_code",)}


def test_complete_item_requires_code_and_bounds_notes() -> None:
    assert error_locs(CompleteItem, {"agent_id": "a", "work_item_id": "w"}) == {
        ("disposition_code",)
    }
    data = {"agent_id": "a", "work_item_id": "w", "disposition_code": "ok", "notes": "n" * 4001}
    assert error_locs(CompleteItem, data) == {("notes",)}


def test_offer_made_with_summary() -> None:
    made = OfferMade.model_validate(
        {
            **OFFER,
            "expires_at": "2025-03-01T09:30:30+00:00",
            "outbound": True,
            "actions": ["dial", "skip"],
            "item": {"type": "callback", "priority": 2, "customer_phone": "+14155552671"},
        }
    )
    assert made.item.priority is Priority.HIGH
    assert made.model_dump(mode="json")["expires_at"] == "2025-03-01T09:30:30Z"


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"actions": []}, ("actions",)),
        ({"actions": ["answer"]}, ("actions", 0)),
        ({"expires_at": "2025-03-01T09:30:30"}, ("expires_at",)),
        ({"item": {"type": "task"}}, ("item", "priority")),
        ({"item": {"type": "task", "priority": 4}}, ("item", "priority")),
        (
            {"item": {"type": "task", "priority": 5, "customer_phone": "abc"}},
            ("item", "customer_phone"),
        ),
    ],
)
def test_offer_made_rejections(change: dict[str, Any], loc: Loc) -> None:
    base: dict[str, Any] = {
        **OFFER,
        "expires_at": "2025-03-01T09:30:30Z",
        "actions": ["accept", "reject"],
        "item": {"type": "task", "priority": 5},
    }
    assert error_locs(OfferMade, {**base, **change}) == {loc}


def test_item_summary_needs_type_and_priority_only() -> None:
    assert error_locs(ItemSummary, {}) == {("type",), ("priority",)}


@pytest.mark.parametrize("reason", ["expired", "cancelled", "agent_offline", "reassigned"])
def test_offer_revoked_reasons(reason: str) -> None:
    assert OfferRevoked.model_validate({**OFFER, "reason": reason}).reason == reason


def test_offer_revoked_reason_bound() -> None:
    assert {loc[0] for loc in error_locs(OfferRevoked, {**OFFER, "reason": "r" * 65})} == {"reason"}


def test_command_rejected_echoes_any_cloudevent_id() -> None:
    rejected = CommandRejected(
        command_id="urn:uuid:1 2/3", command_type="offer.accept", reason="offer expired"
    )
    assert rejected.work_item_id is None
    assert error_locs(CommandRejected, {"command_id": "x", "command_type": "t"}) == {("reason",)}


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [("+1 (415) 555-2671", None, "+14155552671"), ("020 7946 0958", "GB", "+442079460958")],
)
def test_request_callback_normalises_phone(raw: str, region: str | None, expected: str) -> None:
    req = RequestCallback.model_validate(
        {"customer_phone": raw}, context={"default_region": region}
    )
    assert req.customer_phone == expected
    assert req.priority is Priority.NORMAL


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({}, ("customer_phone",)),
        ({"customer_phone": ""}, ("customer_phone",)),
        ({"customer_phone": "020 7946 0958"}, ("customer_phone",)),
        ({"customer_phone": "+14155552671", "priority": 4}, ("priority",)),
        ({"customer_phone": "+14155552671", "scheduled_at": "2025-03-01T10:00"}, ("scheduled_at",)),
        (
            {
                "customer_phone": "+14155552671",
                "scheduled_at": "2025-03-01T10:00:00Z",
                "window_end": "2025-03-01T11:00:00+02:00",
            },
            ("window_end",),
        ),
    ],
)
def test_request_callback_rejections(data: dict[str, Any], loc: Loc) -> None:
    assert error_locs(RequestCallback, data) == {loc}


def test_request_callback_window_after_start_is_accepted() -> None:
    req = RequestCallback.model_validate(
        {
            "customer_phone": "+14155552671",
            "scheduled_at": "2025-03-01T10:00:00Z",
            "window_end": "2025-03-01T13:00:00+02:00",
        }
    )
    assert req.window_end == datetime(2025, 3, 1, 11, 0, tzinfo=UTC)


def test_callback_event_defaults_and_bounds() -> None:
    ev = CallbackScheduled.model_validate(
        {"callback_id": "cb-1", "scheduled_at": "2025-03-01T10:00:00Z"}
    )
    assert (ev.attempt, ev.work_item_id) == (1, None)
    assert error_locs(CallbackScheduled, {"callback_id": "cb-1"}) == {("scheduled_at",)}


def test_lifecycle_events() -> None:
    queued = WorkItemQueued(work_item_id="wi-1", queue="task")
    assert queued.priority is Priority.NORMAL
    done = WorkItemCompleted(work_item_id="wi-1", agent_id="a", disposition_code="timeout")
    assert done.auto is False
    assert error_locs(WorkItemQueued, {"work_item_id": "wi-1", "queue": "task", "priority": 7}) == {
        ("priority",)
    }
    assert error_locs(WorkItemSkipped, {**OFFER, "skip_count": 0}) == {("skip_count",)}


def test_an_away_reason_is_a_short_code_given_only_with_away() -> None:
    away = AgentStatusCommand.model_validate({"agent_id": "a", "status": "away", "reason": "lunch"})
    assert away.reason == "lunch"
    for status, reason in (("available", "lunch"), ("offline", "lunch"), ("away", "Lunch break!")):
        data = {"agent_id": "a", "status": status, "reason": reason}
        with pytest.raises(ValidationError):
            AgentStatusCommand.model_validate(data)
