"""What a log line about an item names: its ids and its correlation id."""

from __future__ import annotations

import json

from switchboard_runtime.logs import ids_of
from switchboard_runtime.outbox import published_fields
from switchboard_schemas.agent import AcceptOffer


def test_ids_are_read_from_a_payload_model_and_from_decoded_json() -> None:
    accept = AcceptOffer(agent_id="ada", work_item_id="wi-1", offer_id="of-a1-1")

    assert ids_of(accept) == {"agent_id": "ada", "work_item_id": "wi-1", "offer_id": "of-a1-1"}
    assert ids_of({"callback_id": "cb-1", "work_item_id": 7, "other": "x"}) == {
        "callback_id": "cb-1"
    }


def test_a_published_event_is_logged_with_its_type_ids_and_correlation() -> None:
    event = {
        "id": "n-1",
        "type": "workitem.offered",
        "correlationid": "trace-1",
        "data": {"work_item_id": "wi-1", "agent_id": "ada", "offer_id": "of-1", "n": 2},
    }

    fields = published_fields(json.dumps(event).encode())

    assert fields == {
        "ce_type": "workitem.offered",
        "ce_id": "n-1",
        "correlation_id": "trace-1",
        "work_item_id": "wi-1",
        "agent_id": "ada",
        "offer_id": "of-1",
    }


def test_an_event_without_a_correlation_id_is_traced_by_its_own_id() -> None:
    fields = published_fields(b'{"id": "n-2", "type": "agent.status_changed", "data": {}}')

    assert fields["correlation_id"] == "n-2"
    assert published_fields(b"not json") == {}
    assert published_fields(b"[1, 2]") == {}


def test_a_value_no_id_could_be_is_left_out_of_the_line() -> None:
    hostile = {"work_item_id": "x" * 100_000, "agent_id": "a" * 128, "offer_id": ["of-1"]}

    assert ids_of(hostile) == {"agent_id": "a" * 128}
