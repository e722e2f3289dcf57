"""The app builds without connecting anywhere, and its OpenAPI document is whole."""

from __future__ import annotations

from typing import Any

from callback.config import CallbackSettings
from callback.main import create_app


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(value) for value in node))
    return set()


def test_every_route_is_documented_and_every_reference_resolves() -> None:
    app = create_app(CallbackSettings(redis_url="redis://127.0.0.1:1/0"))

    document = app.openapi()

    assert {
        "/v1/callbacks",
        "/v1/callbacks/{callback_id}",
        "/v1/campaigns/{campaign_id}",
        "/v1/campaigns/{campaign_id}/contacts",
    } <= set(document["paths"])
    schemas = document["components"]["schemas"]
    missing = {ref for ref in refs(document) if ref.split("/")[-1] not in schemas}
    assert missing == set()
    assert "RequestCallback" in schemas
    assert "Contact" in schemas
