"""Health and metrics endpoints every service exposes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

# A check answers True when fine; False, or a reason such as "redis_state_lost", when not.
Check = Callable[[], Awaitable[bool | str]]
# The text of /metrics (see switchboard_runtime.live_metrics.exposition); never raises.
MetricsPage = Callable[[], Awaitable[bytes]]


def health_router(
    checks: Mapping[str, Check], metrics_page: MetricsPage, timeout: float = 2.5
) -> APIRouter:
    """``/health/live`` (the process answers), ``/health/ready`` (every check passes), and
    ``/metrics``."""
    router = APIRouter(tags=["operations"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(_bounded(checks[n], timeout) for n in names))
        status = dict(zip(names, results, strict=True))
        ok = all(r is True for r in results)
        body = {
            "status": "ready" if ok else "not_ready",
            "checks": {n: _shown(r) for n, r in status.items()},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(await metrics_page(), media_type=CONTENT_TYPE_LATEST)

    return router


def _shown(result: bool | str) -> str:
    if result is True:
        return "ok"
    return result or "failing"


async def _bounded(check: Check, timeout: float) -> bool | str:
    try:
        async with asyncio.timeout(timeout):
            return await check()
    except Exception:
        return False
