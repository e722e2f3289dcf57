"""Router settings (environment variables)."""

from __future__ import annotations

from pydantic import Field
from switchboard_runtime.settings import CommonSettings


class RouterSettings(CommonSettings):
    router_http_port: int = Field(8003, ge=1, le=65535, description="Health/metrics port.")
    offer_timeout_seconds: float = Field(
        30, gt=0, le=3600, description="How long an agent has to answer an offer."
    )
    wrapup_timeout_seconds: float = Field(
        120, gt=0, le=86_400, description="How long wrap-up may last before auto-completion."
    )
