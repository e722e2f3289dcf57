"""structlog set-up: JSON outside a terminal, a correlation id on every line."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from switchboard_schemas.fields import ID_MAX_LENGTH

_PROCESS_CORRELATION_ID = f"proc-{uuid.uuid4().hex[:12]}"
# the ids a line about an item names, where they apply
ID_FIELDS = ("work_item_id", "agent_id", "offer_id", "callback_id", "campaign_id")


def ids_of(value: object) -> dict[str, str]:
    """The ids (``ID_FIELDS``) a payload model or a decoded JSON object carries; a value
    no id could be (not a string, longer than an id) is left out, so a hostile record
    cannot make its dead-letter line long."""
    if isinstance(value, Mapping):
        found = {name: value.get(name) for name in ID_FIELDS}
    else:
        found = {name: getattr(value, name, None) for name in ID_FIELDS}
    return {name: v for name, v in found.items() if isinstance(v, str) and len(v) <= ID_MAX_LENGTH}


def _ensure_correlation_id(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event_dict.setdefault("correlation_id", _PROCESS_CORRELATION_ID)
    return event_dict


def configure_logging(service: str, fmt: str = "auto", level: str = "INFO") -> None:
    """Configure structlog (and the stdlib root logger) for one service process."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if use_console
        else structlog.processors.JSONRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _ensure_correlation_id,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if level == "INFO" else level)


@contextmanager
def correlation(correlation_id: str | None, **fields: Any) -> Iterator[None]:
    """Bind a correlation id (and extra fields) to every log line in this block."""
    cid = correlation_id or f"gen-{uuid.uuid4().hex[:12]}"
    tokens = structlog.contextvars.bind_contextvars(correlation_id=cid, **fields)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


class FastStreamLogger:
    """Routes FastStream's own log lines through structlog as ``faststream`` events."""

    def __init__(self) -> None:
        self._log = structlog.get_logger("faststream")

    def log(
        self,
        level: int,
        msg: Any,
        /,
        *,
        exc_info: Any = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        fields = {k: v for k, v in (extra or {}).items() if v not in ("", None)}
        if level <= logging.INFO:  # per-message "Received"/"Processed" lines are debug noise
            level = logging.DEBUG
        self._log.log(level, "faststream", message=str(msg), exc_info=exc_info, **fields)
