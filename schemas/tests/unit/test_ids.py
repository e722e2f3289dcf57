"""Ids cannot spell another Redis key: every character that could is refused, by name."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from switchboard_schemas.agent import AcceptOffer, AgentStatusCommand, CompleteItem
from switchboard_schemas.callback import CancelCallback
from switchboard_schemas.workitem import CreateWorkItem

# ':' joins key parts, braces make a hash tag, and whitespace or control characters
# make ids that nobody can read back or type
FORBIDDEN = [":", "{", "}", " ", "\t", "\n", "\r", "\x00", "\x1b", "\x7f", "/", "*", "\u00e9"]

CASES: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (CreateWorkItem, {"type": "task"}, "work_item_id"),
    (AgentStatusCommand, {"status": "available"}, "agent_id"),
    (AcceptOffer, {"agent_id": "ada", "work_item_id": "w-1"}, "offer_id"),
    (AcceptOffer, {"offer_id": "of-1", "work_item_id": "w-1"}, "agent_id"),
    (CompleteItem, {"agent_id": "ada", "disposition_code": "resolved"}, "work_item_id"),
    (CancelCallback, {}, "callback_id"),
]


@pytest.mark.parametrize("char", FORBIDDEN, ids=repr)
@pytest.mark.parametrize(
    ("model", "fields", "name"), CASES, ids=lambda c: getattr(c, "__name__", c)
)
def test_a_forbidden_character_in_an_id_is_refused_naming_the_field(
    model: type[BaseModel], fields: dict[str, Any], name: str, char: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({**fields, name: f"T-1{char}history"})
    assert [e["loc"] for e in refused.value.errors()] == [(name,)]


@pytest.mark.parametrize(
    ("model", "fields", "name"), CASES, ids=lambda c: getattr(c, "__name__", c)
)
def test_ids_of_letters_digits_dots_dashes_and_underscores_up_to_128_are_taken(
    model: type[BaseModel], fields: dict[str, Any], name: str
) -> None:
    for good in ["T-1.history_2", "9" * 128, "a"]:
        assert getattr(model.model_validate({**fields, name: good}), name) == good
    for bad in ["", "9" * 129, "-leading", ".leading", "_leading"]:
        with pytest.raises(ValidationError):
            model.model_validate({**fields, name: bad})
