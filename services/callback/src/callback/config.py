"""Callback service settings (environment variables)."""

from __future__ import annotations

from pydantic import Field
from switchboard_runtime.settings import CommonSettings


class CallbackSettings(CommonSettings):
    callback_http_port: int = Field(8002, ge=1, le=65535, description="HTTP API port.")
