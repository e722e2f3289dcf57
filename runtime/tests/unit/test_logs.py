"""JSON logs: one object per line, the standard fields and a correlation id on every line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from switchboard_runtime.logs import configure_logging, correlation

STANDARD_FIELDS = {"event", "service", "level", "timestamp", "correlation_id"}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    was_configured, config = structlog.is_configured(), structlog.get_config()
    context = structlog.contextvars.get_contextvars()
    yield
    structlog.reset_defaults()
    if was_configured:
        structlog.configure(**config)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**context)
    root.handlers[:] = handlers
    root.setLevel(level)


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every line written to stderr, each parsed as one JSON object."""
    lines = capsys.readouterr().err.splitlines()
    assert lines, "nothing was logged"
    parsed = [json.loads(line) for line in lines]
    for obj in parsed:
        assert isinstance(obj, dict)
    return parsed


def by_event(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["event"]: line for line in lines}


def test_every_line_is_a_json_object_with_the_standard_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("svc-logs", fmt="json")
    log = structlog.get_logger("tests")

    log.info("before", n=1)
    with correlation("abc"):
        log.info("inside")
    log.warning("after")

    lines = json_lines(capsys)
    assert len(lines) == 3
    for line in lines:
        assert line.keys() >= STANDARD_FIELDS
        assert line["service"] == "svc-logs"
        assert line["correlation_id"]
    events = by_event(lines)
    assert events["before"]["n"] == 1
    assert events["before"]["level"] == "info"
    assert events["after"]["level"] == "warning"
    assert events["inside"]["correlation_id"] == "abc"
    outside = events["before"]["correlation_id"]
    assert outside != "abc"
    assert events["after"]["correlation_id"] == outside  # the block's id does not leak out


def test_correlation_binds_extra_fields_and_generates_an_id_when_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("svc-logs", fmt="json")
    log = structlog.get_logger("tests")

    with correlation("abc", ce_id="event-1"):
        log.info("with_fields")
    with correlation(None):
        log.info("generated")
    log.info("plain")

    events = by_event(json_lines(capsys))
    assert events["with_fields"]["ce_id"] == "event-1"
    assert "ce_id" not in events["plain"]
    generated = events["generated"]["correlation_id"]
    assert generated.startswith("gen-")
    assert generated != events["plain"]["correlation_id"]


def test_stdlib_lines_come_out_as_json_with_a_correlation_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("svc-logs", fmt="json")
    library = logging.getLogger("some.library")

    library.warning("outside %s", "any block")
    with correlation("abc"):
        library.error("inside %s", "the block")

    lines = json_lines(capsys)
    assert len(lines) == 2
    for line in lines:
        assert line.keys() >= STANDARD_FIELDS
        assert line["service"] == "svc-logs"
        assert line["logger"] == "some.library"
    events = by_event(lines)
    assert events["outside any block"]["level"] == "warning"
    assert events["outside any block"]["correlation_id"]
    assert events["inside the block"]["correlation_id"] == "abc"


def test_exceptions_keep_their_traceback_from_structlog_and_from_stdlib(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("svc-logs", fmt="json")
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        structlog.get_logger("tests").exception("structlog_failed")
        logging.getLogger("some.library").exception("stdlib failed")

    events = by_event(json_lines(capsys))
    for name in ("structlog_failed", "stdlib failed"):
        text = json.dumps(events[name])
        assert "Traceback (most recent call last)" in text, f"{name}: no traceback in {text}"
        assert "ZeroDivisionError: division by zero" in text


def test_the_level_setting_filters_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("svc-logs", fmt="json", level="WARNING")
    log = structlog.get_logger("tests")

    log.info("dropped")
    logging.getLogger("some.library").info("dropped too")
    log.warning("kept")

    assert [line["event"] for line in json_lines(capsys)] == ["kept"]
