"""CLOCK_OFFSET_MS: the router's clock, moved for a fault test of replicas whose clocks
disagree; 0 (the default) is the wall clock itself."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from router.config import RouterSettings
from switchboard_runtime.clock import shifted_clock_ms, wall_clock_ms


def test_the_default_is_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOCK_OFFSET_MS", raising=False)
    assert shifted_clock_ms(RouterSettings().clock_offset_ms) is wall_clock_ms


@pytest.mark.parametrize("offset_ms", [2_000, -2_000])
def test_an_offset_moves_every_reading(monkeypatch: pytest.MonkeyPatch, offset_ms: int) -> None:
    monkeypatch.setenv("CLOCK_OFFSET_MS", str(offset_ms))
    clock = shifted_clock_ms(RouterSettings().clock_offset_ms)
    before = wall_clock_ms()
    reading = clock()
    after = wall_clock_ms()
    assert before + offset_ms <= reading <= after + offset_ms


@pytest.mark.parametrize("value", ["3600001", "-3600001", "two seconds"])
def test_an_offset_past_an_hour_or_not_a_number_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CLOCK_OFFSET_MS", value)
    with pytest.raises(ValidationError, match="clock_offset_ms"):
        RouterSettings()
