"""The AsyncAPI documents: complete, self-consistent, and the committed copies current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from switchboard_schemas.asyncapi import SERVICES, document
from switchboard_schemas.registry import COMMAND_MODELS, EVENT_MODELS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "asyncapi"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_command_and_event_type_is_in_some_document() -> None:
    documented = {
        message["name"]
        for service in SERVICES
        for message in document(service)["components"]["messages"].values()
    }

    assert documented >= set(COMMAND_MODELS) | set(EVENT_MODELS)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_reference_resolves(service: str) -> None:
    doc = document(service)

    for ref in _refs(doc):
        assert _resolve(doc, ref) is not None, ref


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_committed_document_is_current(service: str) -> None:
    committed = json.loads((DOCS / f"{service}.asyncapi.json").read_text())

    assert committed == document(service), "run `make asyncapi` and commit docs/asyncapi"
