"""Callback service settings (environment variables)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode
from switchboard_runtime.settings import AuthSettings, CallbackRequestSettings, DeadlineSettings
from switchboard_schemas.fields import QUEUE_PATTERN

CODE = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class CallbackSettings(DeadlineSettings, AuthSettings, CallbackRequestSettings):
    """Environment variables of the callback service (besides the shared ones)."""

    callback_http_port: int = Field(8002, ge=1, le=65535, description="HTTP API port.")
    callback_default_queue: str = Field(
        "callback",
        pattern=QUEUE_PATTERN,
        description="Queue of callbacks and campaign contacts that name none.",
    )
    callback_max_attempts: int = Field(
        3, ge=1, le=20, description="Dial attempts per callback before it is closed as failed."
    )
    callback_retry_delay_seconds: float = Field(
        300, ge=0, le=7 * 86_400, description="Wait before the next attempt after a retry code."
    )
    callback_retry_dispositions: Annotated[frozenset[str], NoDecode] = Field(
        frozenset({"no_answer", "busy", "voicemail"}),
        description="Disposition codes that schedule another attempt (comma-separated); "
        "any other code completes the callback.",
    )
    campaign_max_rows: int = Field(
        10_000, ge=1, le=1_000_000, description="Most contacts one campaign upload may hold."
    )
    campaign_max_body_bytes: int = Field(
        4_194_304, ge=1024, le=104_857_600, description="Largest campaign upload body (413)."
    )
    campaign_load_concurrency: int = Field(
        32, ge=1, le=512, description="Contacts of an upload written to Redis concurrently."
    )

    @field_validator("callback_retry_dispositions", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(code.strip() for code in value.split(",") if code.strip())
        return value

    @field_validator("callback_retry_dispositions")
    @classmethod
    def _codes(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(code for code in value if not re.match(CODE, code))
        if bad:
            raise ValueError(f"not disposition codes: {', '.join(bad)}")
        return value
