"""One registration per CloudEvents type: the payload model and the function that takes it.

A service says what it does with each type it consumes as a table of ``on(Model, run)``
entries. The key is the model's own ``TYPE``, and ``run`` is typed with the model it
receives, so a handler never has to check what it was given. The same table serves
decoding (the models allowed on a topic) and applying (the function for each).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.fields import WireModel

M = TypeVar("M", bound=WireModel)
T = TypeVar("T")


@dataclass(frozen=True)
class On(Generic[T]):
    """Validate the payload as ``model``, then ``run(event, payload)``."""

    model: type[WireModel]
    run: Callable[[CloudEvent, Any], T]  # typed by ``on``: it takes ``model``


def on(model: type[M], run: Callable[[CloudEvent, M], T]) -> tuple[str, On[T]]:
    """The entry for ``model``'s CloudEvents type."""
    return model.TYPE, On(model, run)


def table(*entries: tuple[str, On[T]]) -> dict[str, On[T]]:
    """A dispatch table; a type registered twice is a programming error."""
    found: dict[str, On[T]] = {}
    for ce_type, entry in entries:
        if ce_type in found:
            raise ValueError(f"{ce_type} is registered twice")
        found[ce_type] = entry
    return found


Handlers = Mapping[str, On[Awaitable[str]]]  # applied one record at a time: the outcome


def models_of(entries: Mapping[str, On[Any]]) -> dict[str, type[WireModel]]:
    """The payload model of each type in a table: what decoding accepts."""
    return {ce_type: entry.model for ce_type, entry in entries.items()}
