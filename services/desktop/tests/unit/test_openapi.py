"""The gateway's OpenAPI document says what its POST routes take and answer (schemathesis
holds the running gateway to it, test_http_fuzz.py)."""

from __future__ import annotations

from typing import Any

import pytest
from desktop.config import DesktopSettings
from desktop.main import create_app
from switchboard_schemas.registry import AGENT_COMMAND_MODELS


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    found: dict[str, Any] = create_app(DesktopSettings(redis_url="redis://127.0.0.1:1/0")).openapi()
    return found


@pytest.mark.parametrize("path", ["/v1/desktop/commands", "/v1/desktop/workitems"])
def test_a_post_route_documents_its_answers(document: dict[str, Any], path: str) -> None:
    documented = document["paths"][path]["post"]["responses"]

    assert {"202", "401", "403", "409", "413", "422", "503"} <= set(documented)
    body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].startswith("#/components/schemas/Desktop")


def test_a_command_body_is_one_of_the_agent_commands(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    variants = schemas["DesktopCommand"]["oneOf"]

    assert [v["properties"]["type"]["const"] for v in variants] == list(AGENT_COMMAND_MODELS)
    for model in AGENT_COMMAND_MODELS.values():
        data = schemas[model.__name__]
        assert "agent_id" in data["properties"]
        assert "agent_id" not in data.get("required", [])  # the token's sub when left out


def test_a_task_body_is_a_work_item_or_a_callback(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    callback = schemas["CallbackTask"]

    assert len(schemas["DesktopTask"]["oneOf"]) == 2
    assert callback["properties"]["type"] == {"const": "callback"}
    assert {"type", "customer_phone"} <= set(callback["required"])
    assert all(example["type"] == "callback" for example in callback["examples"])
    assert "callback" not in schemas["WorkItemRequest"]["properties"]["type"]["enum"]
