"""decode_command: each rejection kind and a valid command."""

from __future__ import annotations

import json
from typing import Any

import pytest
from switchboard_schemas import (
    AGENT_COMMAND_MODELS,
    CALLBACK_COMMAND_MODELS,
    COMMAND_MODELS,
    MessageRejected,
    Priority,
    RequestCallback,
    decode_command,
)

EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "ev-1",
    "source": "upstream/api",
    "type": "callback.request",
    "time": "2025-03-01T09:30:00Z",
    "data": {"customer_phone": "020 7946 0958", "priority": 2},
}


def encode(obj: object) -> bytes:
    return json.dumps(obj).encode()


def rejection(raw: bytes, max_bytes: int = 65536, region: str | None = "GB") -> MessageRejected:
    with pytest.raises(MessageRejected) as info:
        decode_command(
            raw, allowed=CALLBACK_COMMAND_MODELS, max_bytes=max_bytes, default_region=region
        )
    return info.value


def test_valid_command_is_decoded_with_default_region() -> None:
    event, payload = decode_command(
        encode(EVENT), allowed=COMMAND_MODELS, max_bytes=65536, default_region="GB"
    )
    assert event.id == "ev-1"
    assert isinstance(payload, RequestCallback)
    assert payload.customer_phone == "+442079460958"
    assert payload.priority is Priority.HIGH


def test_size_is_checked_first() -> None:
    raw = b"\xff" * 100
    err = rejection(raw, max_bytes=99)
    assert err.error == "oversized"
    assert "100" in err.detail
    assert rejection(encode(EVENT), max_bytes=len(encode(EVENT)) - 1).error == "oversized"


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe{}", b"not json", b"{", b"", b"[1, 2]", b'"text"', b"42", b"null", b'{"a": NaN}'],
)
def test_not_json_object(raw: bytes) -> None:
    assert rejection(raw).error == "not_json"


def test_deeply_nested_json_is_rejected_not_crashing() -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    assert rejection(raw, max_bytes=1_000_000).error == "not_json"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"specversion": "0.3"}, "specversion"),
        ({"id": None}, "id"),
        ({"time": "2025-03-01T09:30:00"}, "time"),
        ({"Bad": 1}, "Bad"),
    ],
)
def test_not_cloudevent(change: dict[str, Any], field: str) -> None:
    err = rejection(encode({**EVENT, **change}))
    assert err.error == "not_cloudevent"
    assert field in err.detail
    assert err.event is None


def test_unknown_type() -> None:
    err = rejection(encode({**EVENT, "type": "offer.accept"}))
    assert err.error == "unknown_type"
    assert "offer.accept" in err.detail
    assert err.event is not None
    assert err.event.id == "ev-1"


@pytest.mark.parametrize("data", [None, "missing"])
def test_missing_data_is_a_schema_violation(data: object) -> None:
    event = {k: v for k, v in EVENT.items() if k != "data"}
    if data is None:
        event["data"] = None
    err = rejection(encode(event))
    assert err.error == "schema_violation"
    assert "data" in err.detail


def test_schema_violation_names_each_field() -> None:
    bad = {**EVENT, "data": {"customer_phone": "call me", "priority": 4, "colour": "x"}}
    err = rejection(encode(bad))
    assert err.error == "schema_violation"
    assert "data.priority: priority must be one of" in err.detail
    assert "data.colour:" in err.detail
    assert "data.customer_phone:" in err.detail
    assert err.event is not None


def test_schema_violation_uses_default_region() -> None:
    err = rejection(encode(EVENT), region=None)
    assert err.error == "schema_violation"
    assert "default region" in err.detail


def test_detail_is_bounded() -> None:
    data = {"type": "task", **{f"field{i}": "x" for i in range(200)}}
    err = rejection(encode({**EVENT, "data": data}))
    assert err.error == "schema_violation"
    assert len(err.detail) <= 1000
    assert str(err).startswith("schema_violation: ")


def test_agent_command_decodes_with_its_allowed_map() -> None:
    cmd = {
        **EVENT,
        "type": "offer.accept",
        "data": {"agent_id": "a", "offer_id": "o", "work_item_id": "w"},
    }
    event, payload = decode_command(encode(cmd), allowed=AGENT_COMMAND_MODELS, max_bytes=4096)
    assert event.type == "offer.accept"
    assert payload.model_dump()["offer_id"] == "o"
