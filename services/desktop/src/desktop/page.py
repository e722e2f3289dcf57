"""The desktop page: ``GET /`` and its static files, and the little it asks the gateway
before sign-in (``GET /v1/desktop/config``).

The page is plain ES modules and CSS under ``static/`` (no build step; docs/desktop.md).
It loads nothing from elsewhere, and its Content-Security-Policy says so: scripts, styles
and connections only from the gateway itself. Nothing here needs a token; the page asks
for one and sends it with every request of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from desktop.config import DesktopSettings

STATIC = Path(__file__).parent / "static"
PAGE_PATHS = ("/", "/static/", "/v1/desktop/config")  # what the page loads before its stream
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidate: a new gateway's page is seen at once
}


class DesktopConfig(BaseModel):
    """What the page offers that the gateway's settings decide."""

    away_reasons: list[str] = Field(description="Reason codes the page offers for Away.")


class PageFiles(StaticFiles):
    """The page's static files, with the page's headers."""

    def file_response(
        self,
        full_path: os.PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(HEADERS)
        return response


def page_router(settings: DesktopSettings) -> APIRouter:
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=HEADERS)

    @router.get("/v1/desktop/config", tags=["desktop"])
    async def config() -> DesktopConfig:
        """What the page offers: the Away reasons (`DESKTOP_AWAY_REASONS`). No token needed."""
        return DesktopConfig(away_reasons=settings.desktop_away_reasons)

    return router


def include_page(app: FastAPI, settings: DesktopSettings) -> None:
    """Serve the desktop page at ``/``, its files under ``/static``, and its config."""
    app.include_router(page_router(settings))
    app.mount("/static", PageFiles(directory=STATIC), name="static")
