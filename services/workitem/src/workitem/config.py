"""Work item service settings (environment variables)."""

from __future__ import annotations

from pydantic import Field
from switchboard_runtime.settings import AuthSettings, CommonSettings


class WorkItemSettings(CommonSettings, AuthSettings):
    workitem_http_port: int = Field(8001, ge=1, le=65535, description="HTTP API port.")
