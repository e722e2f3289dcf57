"""normalize_phone."""

from __future__ import annotations

import pytest
from switchboard_schemas import PhoneNumberError, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("+14155552671", None, "+14155552671"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "gb", "+442079460958"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("  +1 415.555.2671  ", "DE", "+14155552671"),
    ],
)
def test_normalises_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("", "US", "empty"),
        ("   ", "US", "empty"),
        ("020 7946 0958", None, "national number needs a country code or a default region"),
        ("+1 415 CALL NOW", None, "letters"),
        ("1-800-FLOWERS", "US", "letters"),
        ("+1" + "5" * 40, None, "too long"),
        ("+1 415 555 2671 #", None, "only contain"),
        ("+1 123", None, "not a valid phone number"),
        ("+999 1234 5678", None, "phone number"),
        ("020 7946 0958", "XX", "unknown default region"),
    ],
)
def test_rejects_with_a_clear_message(raw: str, region: str | None, message: str) -> None:
    with pytest.raises(PhoneNumberError, match=message):
        normalize_phone(raw, region)


def test_phone_number_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        normalize_phone("", None)
