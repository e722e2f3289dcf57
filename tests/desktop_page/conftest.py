"""The browser tests' fixtures: Debian's Chromium (or a skip, a failure under CI), a
browser per module, a desktop gateway on the stack of tests/conftest.py, a fresh tab."""

from __future__ import annotations

import os
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


@pytest_asyncio.fixture
async def page(browser: Browser, gateway: httpx.AsyncClient) -> AsyncIterator[Page]:
    """A fresh tab (its own sessionStorage) on the gateway; fails on any script error."""
    context = await browser.new_context(
        base_url=str(gateway.base_url),
        timezone_id=TIMEZONE,
        viewport=VIEWPORT,
        bypass_csp=True,  # lets the test inject axe-core; the page itself needs no bypass
    )
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on(
        "console",
        lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
    )
    yield tab
    await context.close()
    assert not problems, problems
