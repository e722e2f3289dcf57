"""The one JSON parser for everything that comes in, over Kafka or HTTP.

Stricter than ``json.loads``: UTF-8 only, no ``NaN``/``Infinity``, no lone surrogate
escapes (no character, so nothing holding one can be stored or sent on), at most 200
levels of nesting, integers of at most 4300 digits. A number too large for a float reads
as infinity, which no field of the contract accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import from_json


def loads(raw: bytes) -> Any:
    """``raw`` as JSON; a ``ValueError`` whose message says why not."""
    try:
        return from_json(raw, allow_inf_nan=False)
    except ValueError as exc:
        raise ValueError(f"{exc}{_hint(raw, str(exc))}") from None


def _hint(raw: bytes, error: str) -> str:
    """What the parser's message leaves unsaid about why it refused."""
    if "recursion limit" in error:
        return " (nested deeper than 200 levels)"
    if "surrogate" in error or "hex escape" in error:
        return " (a \\u escape must be a whole character, not a lone surrogate)"
    try:
        from_json(raw, allow_inf_nan=True)
    except ValueError:
        return ""
    return " (NaN and Infinity are not JSON numbers)"
