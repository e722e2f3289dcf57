"""What the work item intake takes (``POST /v1/workitems``, ``workitem.create``): a work
item of any type but ``callback``.

A callback lives in the callback service (its window, retries and merge by phone), so
it is requested there: ``POST /v1/callbacks`` or ``callback.request``. The outbound
items that service creates when a callback is due reach this one as
``workitem.created`` and are adopted (``Intake.adopt``), never through this model.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from switchboard_schemas.enums import WorkItemType
from switchboard_schemas.workitem import CreateWorkItem

USE_CALLBACKS_API = (
    "callbacks are created through the callbacks API: POST /v1/callbacks "
    "(or callback.request on callback.commands), not as work items"
)
TAKEN_TYPES = tuple(t for t in WorkItemType if t is not WorkItemType.CALLBACK)
_CALLBACK_FIELDS = ("customer_phone", "customer_name", "reason")
_EXAMPLE = {
    "type": "review",
    "sub_type": "qa_sample",
    "channel": "internal",
    "priority": 2,
    "description": "Score the call against the QA checklist.",
}


def _document(schema: dict[str, Any]) -> None:
    """Publish what is taken: no callback fields (a callback is refused anyway)."""
    for name in _CALLBACK_FIELDS:
        schema["properties"].pop(name, None)
    schema["examples"] = [_EXAMPLE]


class WorkItemRequest(CreateWorkItem):
    """Body of ``POST /v1/workitems`` and data of ``workitem.create`` (the Create Task
    form): a work item of any type but callback, which the callbacks API creates."""

    TYPE: ClassVar[str] = CreateWorkItem.TYPE
    model_config = ConfigDict(json_schema_extra=_document)

    type: Annotated[
        WorkItemType,
        WithJsonSchema({"type": "string", "enum": [t.value for t in TAKEN_TYPES]}),
    ] = Field(description=f"Work item type; not callback: {USE_CALLBACKS_API}.")

    @field_validator("type")
    @classmethod
    def _not_a_callback(cls, value: WorkItemType) -> WorkItemType:
        if value is WorkItemType.CALLBACK:
            raise PydanticCustomError("use_callbacks_api", USE_CALLBACKS_API)
        return value
