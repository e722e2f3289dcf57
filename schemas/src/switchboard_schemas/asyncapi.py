"""AsyncAPI 3.0 documents generated from the models: what each service sends and receives.

    python -m switchboard_schemas.asyncapi OUT_DIR     (``make asyncapi``)

writes ``<service>.asyncapi.json`` for workitem, router, callback and desktop. Every message is a
CloudEvent in structured JSON mode whose ``data`` follows the type's model.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from switchboard_schemas import topics
from switchboard_schemas.envelope import CONTENT_TYPE
from switchboard_schemas.registry import AGENT_ITEM_STEPS, MODELS_BY_TOPIC

Flow = Mapping[str, list[str]]  # topic -> CloudEvents types

# What each service reads and writes (docs/architecture.md, "Wire contract"); the events
# each produces are listed by type so the documents say who is the source of what.
SERVICES: dict[str, dict[str, Flow]] = {
    "workitem": {
        "receive": {
            topics.WORKITEM_COMMANDS: ["workitem.create", "workitem.cancel"],
            topics.WORKITEM_EVENTS: [
                t
                for t in MODELS_BY_TOPIC[topics.WORKITEM_EVENTS]
                if t.startswith("workitem.")
                and t not in ("workitem.created", "workitem.cancel_requested", "workitem.archived")
            ],
        },
        "send": {
            topics.WORKITEM_EVENTS: [
                "workitem.created",
                "workitem.cancel_requested",
                "workitem.archived",
            ],
        },
    },
    "router": {
        "receive": {
            topics.WORKITEM_EVENTS: ["workitem.created", "workitem.cancel_requested"],
            topics.AGENT_COMMANDS: list(MODELS_BY_TOPIC[topics.AGENT_COMMANDS]),
        },
        "send": {
            topics.WORKITEM_EVENTS: [
                "workitem.queued",
                "workitem.offered",
                "workitem.offer_rejected",
                "workitem.offer_expired",
                "workitem.accepted",
                "workitem.held",
                "workitem.resumed",
                "workitem.wrapup_started",
                "workitem.wrapup_expired",
                "workitem.completed",
                "workitem.cancelled",
                "workitem.skipped",
                "workitem.dialed",
            ],
            topics.AGENT_EVENTS: list(MODELS_BY_TOPIC[topics.AGENT_EVENTS]),
        },
    },
    "callback": {
        "receive": {
            topics.CALLBACK_COMMANDS: list(MODELS_BY_TOPIC[topics.CALLBACK_COMMANDS]),
            topics.WORKITEM_EVENTS: ["workitem.dialed", "workitem.completed", "workitem.cancelled"],
        },
        "send": {
            topics.WORKITEM_EVENTS: [
                "workitem.created",
                "workitem.cancel_requested",
                *(t for t in MODELS_BY_TOPIC[topics.WORKITEM_EVENTS] if t.startswith("callback.")),
            ],
        },
    },
    # the gateway of people: what it logs for each agent's stream, what the agents'
    # commands and the Create Task form become
    "desktop": {
        "receive": {
            topics.AGENT_EVENTS: list(MODELS_BY_TOPIC[topics.AGENT_EVENTS]),
            topics.WORKITEM_EVENTS: list(AGENT_ITEM_STEPS),
        },
        "send": {
            topics.AGENT_COMMANDS: list(MODELS_BY_TOPIC[topics.AGENT_COMMANDS]),
            topics.WORKITEM_COMMANDS: ["workitem.create"],
            topics.CALLBACK_COMMANDS: ["callback.request"],
        },
    },
}


def _message(ce_type: str, model: type[BaseModel]) -> dict[str, Any]:
    data = model.model_json_schema(ref_template="#/components/schemas/{model}")
    data.pop("$defs", None)
    return {
        "name": ce_type,
        "title": ce_type,
        "summary": (model.__doc__ or "").strip().splitlines()[0],
        "contentType": CONTENT_TYPE,
        "payload": {
            "type": "object",
            "required": ["specversion", "id", "source", "type", "time", "data"],
            "properties": {
                "specversion": {"const": "1.0"},
                "id": {"type": "string"},
                "source": {"type": "string"},
                "type": {"const": ce_type},
                "time": {"type": "string", "format": "date-time"},
                "subject": {"type": "string"},
                "tenantid": {"type": "string"},
                "correlationid": {"type": "string"},
                "data": data,
            },
        },
    }


def _defs(models: list[type[BaseModel]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        found.update(schema.get("$defs", {}))
    return found


def document(service: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of one service."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    used: list[type[BaseModel]] = []
    for action, flow in SERVICES[service].items():
        for topic, types in flow.items():
            channel = channels.setdefault(topic, {"address": topic, "messages": {}})
            for ce_type in types:
                model = MODELS_BY_TOPIC[topic][ce_type]
                key = ce_type.replace(".", "_")
                messages[key] = _message(ce_type, model)
                channel["messages"][key] = {"$ref": f"#/components/messages/{key}"}
                used.append(model)
            operations[f"{action}_{topic.replace('.', '_')}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{topic}"},
                "messages": [
                    {"$ref": f"#/channels/{topic}/messages/{t.replace('.', '_')}"} for t in types
                ],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"Switchboard {service}", "version": "0.1.0"},
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _defs(used)},
    }


def main(argv: list[str] | None = None) -> None:
    out = Path((argv or sys.argv[1:] or ["docs/asyncapi"])[0])
    out.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        path = out / f"{service}.asyncapi.json"
        path.write_text(json.dumps(document(service), indent=2) + "\n")
        print(path)


if __name__ == "__main__":
    main()
