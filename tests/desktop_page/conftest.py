"""The browser tests' fixtures: Debian's Chromium (or a skip, a failure under CI), a
browser per module, a desktop gateway on the stack of tests/conftest.py, a fresh tab."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from desktop.config import DesktopSettings
from desktop.main import create_app as create_desktop
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    async_playwright,
)
from switchboard_devtools.testing import serving_ready

from .pagekit import (
    CHROMIUM,
    TIMEZONE,
    VIEWPORT,
    Stack,
)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, or a skip (a failure under CI) saying it is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        why = f"{CHROMIUM} is missing: apt-get install chromium (Playwright downloads none)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI runs the browser tests", pytrace=False)
        pytest.skip(why)
    return CHROMIUM


@pytest_asyncio.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture(scope="module")
async def gateway(stack: Stack, e2e_env: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    """A desktop gateway of the stack's tenant: its commands reach the stack's router."""
    settings = DesktopSettings(**e2e_env, desktop_heartbeat_seconds=1, kafka_fetch_max_wait_ms=20)
    async with serving_ready(create_desktop(settings)) as http:
        yield http


# Chromium logs each answer of 400 or more, and each request that failed, as a console
# error: a test marked ``refusals`` asks for these (401, 422, a request cut off)
REFUSED = re.compile(
    r"^Failed to load resource: (the server responded with a status of (401|422)\b|net::ERR_FAILED)"
)


@pytest_asyncio.fixture
async def page(
    browser: Browser, gateway: httpx.AsyncClient, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A fresh tab (its own sessionStorage) on the gateway; fails on any script error
    (but, in a test marked ``refusals``, on no console line of a refusal it provoked)."""
    allowed = REFUSED if request.node.get_closest_marker("refusals") else None
    context = await browser.new_context(
        base_url=str(gateway.base_url),
        timezone_id=TIMEZONE,
        viewport=VIEWPORT,
        bypass_csp=True,  # lets the test inject axe-core; the page itself needs no bypass
    )
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and not (allowed and allowed.match(message.text)):
            problems.append(f"console: {message.text}")

    tab.on("console", console)
    yield tab
    await context.close()
    assert not problems, problems
