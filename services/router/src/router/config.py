"""Router settings (environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from switchboard_runtime.settings import BatchSettings, DeadlineSettings

from router.routing_config import DEFAULT_FILE


class RouterSettings(DeadlineSettings, BatchSettings):
    router_http_port: int = Field(8003, ge=1, le=65535, description="Health/metrics port.")
    offer_timeout_seconds: float = Field(
        30, gt=0, le=3600, description="How long an agent has to answer an offer."
    )
    wrapup_timeout_seconds: float = Field(
        120, gt=0, le=86_400, description="How long wrap-up may last before auto-completion."
    )
    wrapup_default_disposition: str = Field(
        "wrapup_timeout",
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$",
        description="Disposition code of items completed by the wrap-up timeout.",
    )
    outbound_skip_limit: int = Field(
        3,
        ge=1,
        le=100,
        description="Skips after which an outbound item is parked for "
        "supervisors instead of being offered again.",
    )
    routing_config: Path = Field(DEFAULT_FILE, description="Path of the routing YAML file.")
    route_scan_items: int = Field(
        200,
        ge=1,
        le=10_000,
        description="Waiting items per queue and kind considered per routing pass.",
    )
    route_scan_agents: int = Field(
        500,
        ge=1,
        le=100_000,
        description="Available agents per queue and kind considered per pass.",
    )
    clock_offset_ms: int = Field(
        0,
        ge=-3_600_000,
        le=3_600_000,
        description="Shifts this process's clock by this many milliseconds: a fault test's "
        "way to run replicas whose clocks disagree. Leave 0; a real skew is fixed with NTP.",
    )
