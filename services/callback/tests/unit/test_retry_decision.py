"""What a completed attempt leads to: dispositions x attempts x window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from callback.rules import RetryPolicy, after_attempt

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
DELAY = timedelta(minutes=5)
POLICY = RetryPolicy(3, DELAY, frozenset({"no_answer", "busy", "voicemail"}))
NO_WINDOW = None
WIDE = NOW + timedelta(hours=1)
NARROW = NOW + timedelta(minutes=4)  # the next attempt would come after it
EXACT = NOW + DELAY  # the next attempt falls right at its end: still allowed


@pytest.mark.parametrize(
    ("code", "attempt", "window_end", "decision"),
    [
        ("no_answer", 1, NO_WINDOW, "retry"),
        ("busy", 2, WIDE, "retry"),
        ("voicemail", 1, EXACT, "retry"),
        ("no_answer", 3, NO_WINDOW, "failed"),
        ("busy", 3, NARROW, "failed"),  # attempts used up before the window matters
        ("no_answer", 4, WIDE, "failed"),
        ("no_answer", 1, NARROW, "missed"),
        ("voicemail", 2, NARROW, "missed"),
        ("connected", 1, NO_WINDOW, "completed"),
        ("resolved", 3, NARROW, "completed"),
        ("wrapup_timeout", 1, WIDE, "completed"),
        ("wrong_number", 2, NO_WINDOW, "completed"),
    ],
)
def test_decision_table(
    code: str, attempt: int, window_end: datetime | None, decision: str
) -> None:
    got, next_at = after_attempt(POLICY, code, attempt, NOW, window_end)

    assert got == decision
    assert next_at == (NOW + DELAY if decision == "retry" else None)


def test_one_attempt_allowed_means_no_retry() -> None:
    single = RetryPolicy(1, DELAY, POLICY.retry_codes)

    assert after_attempt(single, "no_answer", 1, NOW, None) == ("failed", None)


def test_the_retry_codes_are_configurable() -> None:
    strict = RetryPolicy(3, DELAY, frozenset({"busy"}))

    assert after_attempt(strict, "no_answer", 1, NOW, None) == ("completed", None)
    assert after_attempt(strict, "busy", 1, NOW, None) == ("retry", NOW + DELAY)
