"""Desktop gateway settings (environment variables)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode
from switchboard_runtime.settings import AuthSettings, BatchSettings, CallbackRequestSettings
from switchboard_schemas.fields import CODE_PATTERN


class DesktopSettings(BatchSettings, AuthSettings, CallbackRequestSettings):
    """Environment variables of the desktop gateway (besides the shared ones)."""

    desktop_http_port: int = Field(8004, ge=1, le=65535, description="HTTP port (page and API).")
    desktop_heartbeat_seconds: float = Field(
        15, gt=0, le=300, description="Heartbeat comment interval on every stream."
    )
    desktop_resume_seconds: int = Field(
        600,
        ge=10,
        le=86_400,
        description="How long a dropped stream can resume without a new snapshot.",
    )
    desktop_log_max: int = Field(
        2000, ge=10, le=100_000, description="Entries kept per agent for resuming, at most."
    )
    desktop_streams_per_agent: int = Field(
        5,
        ge=1,
        le=1000,
        description="Open streams one agent may hold on one gateway replica (tabs, "
        "supervisors watching it); past that a new one is answered 429.",
    )
    desktop_away_reasons: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["break", "lunch", "meeting", "training"],
        description="Away reasons the page offers (comma-separated codes).",
    )

    @field_validator("desktop_away_reasons", mode="before")
    @classmethod
    def _codes(cls, value: object) -> object:
        if isinstance(value, str):
            value = [code.strip() for code in value.split(",") if code.strip()]
        if isinstance(value, list):
            for code in value:
                if not isinstance(code, str) or not re.fullmatch(CODE_PATTERN, code):
                    raise ValueError(f"an away reason must be a short code, not {code!r}")
        return value
