"""Callback settings from the environment."""

from __future__ import annotations

import pytest
from callback.config import CallbackSettings
from pydantic import ValidationError


def test_defaults() -> None:
    settings = CallbackSettings()

    assert settings.callback_default_queue == "callback"
    assert settings.callback_max_attempts == 3
    assert settings.callback_retry_delay_seconds == 300
    assert settings.callback_retry_dispositions == {"no_answer", "busy", "voicemail"}
    assert settings.campaign_max_rows == 10_000


def test_retry_dispositions_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBACK_RETRY_DISPOSITIONS", "no_answer, line_busy ,")
    monkeypatch.setenv("CALLBACK_MAX_ATTEMPTS", "5")

    settings = CallbackSettings()

    assert settings.callback_retry_dispositions == {"no_answer", "line_busy"}
    assert settings.callback_max_attempts == 5


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBACK_RETRY_DISPOSITIONS", "No Answer")
    with pytest.raises(ValidationError):
        CallbackSettings()
    monkeypatch.delenv("CALLBACK_RETRY_DISPOSITIONS")
    monkeypatch.setenv("CALLBACK_DEFAULT_QUEUE", "Not A Queue")
    with pytest.raises(ValidationError):
        CallbackSettings()
