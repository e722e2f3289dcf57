"""Every error answer a route can give is in its OpenAPI document (schemathesis holds
the running service to it)."""

from __future__ import annotations

import pytest
from workitem.config import WorkItemSettings
from workitem.main import create_app


def responses(method: str, path: str) -> dict[str, dict[str, dict[str, object]]]:
    document = create_app(WorkItemSettings(redis_url="redis://127.0.0.1:1/0")).openapi()
    found: dict[str, dict[str, dict[str, object]]] = document["paths"][path][method]["responses"]
    return found


def test_creating_documents_413_422_and_503() -> None:
    documented = responses("post", "/v1/workitems")

    assert {"201", "409", "413", "422", "503"} <= set(documented)
    assert "application/json" in documented["413"]["content"]
    assert "Retry-After" in documented["503"]["headers"]


@pytest.mark.parametrize("path", ["/v1/workitems/{work_item_id}", "/v1/agents/{agent_id}/inbox"])
def test_a_route_reading_storage_documents_503(path: str) -> None:
    assert "503" in responses("get", path)
