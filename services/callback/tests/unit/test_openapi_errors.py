"""Every error answer a route can give is in its OpenAPI document (schemathesis holds
the running service to it)."""

from __future__ import annotations

import pytest
from callback.config import CallbackSettings
from callback.main import create_app

BODY_ROUTES = [("post", "/v1/callbacks"), ("post", "/v1/campaigns/{campaign_id}/contacts")]
STORAGE_ROUTES = [
    ("get", "/v1/callbacks/{callback_id}"),
    ("delete", "/v1/callbacks/{callback_id}"),
    ("get", "/v1/campaigns/{campaign_id}"),
]


def responses(method: str, path: str) -> dict[str, dict[str, dict[str, object]]]:
    document = create_app(CallbackSettings(redis_url="redis://127.0.0.1:1/0")).openapi()
    found: dict[str, dict[str, dict[str, object]]] = document["paths"][path][method]["responses"]
    return found


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_route_taking_a_body_documents_413_422_and_503(method: str, path: str) -> None:
    documented = responses(method, path)

    assert {"413", "422", "503"} <= set(documented)
    assert "application/json" in documented["413"]["content"]
    assert "Retry-After" in documented["503"]["headers"]


def test_the_upload_documents_415_for_other_media_types() -> None:
    assert "415" in responses("post", "/v1/campaigns/{campaign_id}/contacts")


@pytest.mark.parametrize(("method", "path"), STORAGE_ROUTES)
def test_a_route_reading_storage_documents_503(method: str, path: str) -> None:
    assert "503" in responses(method, path)


def test_the_correlation_id_header_is_documented_with_its_limits() -> None:
    document = create_app(CallbackSettings(redis_url="redis://127.0.0.1:1/0")).openapi()
    [header] = [
        p
        for p in document["paths"]["/v1/callbacks"]["post"]["parameters"]
        if p["name"] == "x-correlation-id"
    ]

    schema = header["schema"]["anyOf"][0]
    assert (schema["maxLength"], schema["pattern"]) == (256, "^[ -~]*$")
