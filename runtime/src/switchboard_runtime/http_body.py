"""Request bodies validated with context (e.g. the default phone region).

FastAPI cannot pass validation context to a body model, so services read the body,
validate it here, and still answer exactly as FastAPI would: 413 when too large, 422
with ``loc`` ``["body", <field>]`` for each bad field.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)
SCHEMA_REF = "#/components/schemas/{model}"


def parse_body(
    raw: bytes, model: type[ModelT], *, context: dict[str, Any], max_bytes: int
) -> ModelT:
    """``raw`` as ``model``; raises 413 or a RequestValidationError naming each bad field."""
    if len(raw) > max_bytes:
        raise HTTPException(413, f"request body larger than {max_bytes} bytes")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": f"invalid JSON: {exc}"}]
        ) from exc
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc


def body_schema_defs(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema and its sub-schemas, for the OpenAPI components section."""
    schema = model.model_json_schema(ref_template=SCHEMA_REF)
    defs: dict[str, Any] = schema.pop("$defs", {})
    return {**defs, model.__name__: schema}
