"""Phone number normalisation to E.164."""

from __future__ import annotations

import re

import phonenumbers

MAX_PHONE_CHARS = 32
_ALLOWED = re.compile(r"^[0-9+()\-./ ]+$")


class PhoneNumberError(ValueError):
    """A phone number that cannot be normalised; the message says why."""


def _check_region(default_region: str | None) -> str | None:
    if default_region is None:
        return None
    region = default_region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise PhoneNumberError(f"unknown default region {default_region!r}")
    return region


def _check_text(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise PhoneNumberError("phone number is empty")
    if len(text) > MAX_PHONE_CHARS:
        raise PhoneNumberError(f"phone number is too long (at most {MAX_PHONE_CHARS} characters)")
    if any(ch.isalpha() for ch in text):
        raise PhoneNumberError("phone number must not contain letters")
    if not _ALLOWED.match(text):
        raise PhoneNumberError("phone number may only contain digits, spaces, + ( ) - . /")
    return text


def normalize_phone(raw: str, default_region: str | None) -> str:
    """Return ``raw`` in E.164 form (``+14155552671``) or raise :class:`PhoneNumberError`.

    A number without a leading ``+`` is national and is read in ``default_region``
    (ISO 3166 alpha-2, e.g. ``"GB"``); without a region it is an error.
    """
    if not isinstance(raw, str):
        raise PhoneNumberError("phone number must be a string")
    text = _check_text(raw)
    region = _check_region(default_region)
    if not text.startswith("+") and region is None:
        raise PhoneNumberError("national number needs a country code or a default region")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError("not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
