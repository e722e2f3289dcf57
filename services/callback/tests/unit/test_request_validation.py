"""POST /v1/callbacks body validation: phone numbers and the fields around them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from callback.api import parse_request
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError


def parse(body: Any, region: str | None = "US", max_bytes: int = 16384) -> Any:
    return parse_request(json.dumps(body).encode(), region, max_bytes)


def errors_of(body: Any, region: str | None = "US") -> list[dict[str, Any]]:
    with pytest.raises(RequestValidationError) as caught:
        parse(body, region)
    return list(caught.value.errors())


def locs(errors: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(error["loc"]) for error in errors]


@pytest.mark.parametrize(
    ("phone", "region", "why"),
    [
        ("", "US", "empty"),
        ("   ", "US", "empty"),
        ("555-CALL-NOW", "US", "letters"),
        ("+1 415 555 2671 ext 9", "US", "letters"),
        ("(415) 555-2671", None, "country code or a default region"),
        ("+1 415 555 2671 0000 0000 0000 0000 00", "US", "too long"),
        ("+1 415", "US", "valid"),
        ("#4155552671", "US", "may only contain"),
    ],
)
def test_a_bad_phone_number_is_an_error_naming_customer_phone(
    phone: str, region: str | None, why: str
) -> None:
    errors = errors_of({"customer_phone": phone}, region)

    assert locs(errors) == [("body", "customer_phone")]
    assert why in errors[0]["msg"]


def test_a_missing_phone_number_is_an_error_naming_customer_phone() -> None:
    errors = errors_of({"customer_name": "Ada", "reason": "Billing"})

    assert locs(errors) == [("body", "customer_phone")]
    assert errors[0]["type"] == "missing"


@pytest.mark.parametrize(
    ("phone", "region", "e164"),
    [
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("+14155552671", "GB", "+14155552671"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "US", "+14155552671"),
        ("020 7946 0958", "GB", "+442079460958"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(phone: str, region: str | None, e164: str) -> None:
    assert parse({"customer_phone": phone}, region).customer_phone == e164


def test_optional_fields_and_defaults() -> None:
    request = parse({"customer_phone": "+14155552671"})

    assert request.customer_name is None
    assert request.reason is None
    assert request.scheduled_at is None
    assert request.window_end is None
    assert int(request.priority) == 5
    assert request.queue is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"priority": 4}, "priority"),
        ({"priority": "1"}, "priority"),
        ({"queue": "Not A Queue"}, "queue"),
        ({"scheduled_at": "2030-01-01T10:00:00"}, "scheduled_at"),  # no time zone
        (
            {"scheduled_at": "2030-01-01T10:00:00Z", "window_end": "2030-01-01T09:00:00Z"},
            "window_end",
        ),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_other_bad_fields_are_named(body: dict[str, Any], field: str) -> None:
    errors = errors_of({"customer_phone": "+14155552671", **body})

    assert locs(errors) == [("body", field)]


def test_a_body_that_is_not_json_or_too_large_is_refused() -> None:
    with pytest.raises(RequestValidationError):
        parse_request(b"{not json", "US", 1000)
    with pytest.raises(HTTPException) as too_large:
        parse_request(b" " * 1001, "US", 1000)
    assert too_large.value.status_code == 413
