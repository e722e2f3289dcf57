"""What the browser tests of the desktop page share: where things are, and the steps and
look-ups they are written in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import (
    Locator,
    Page,
    Response,
    ViewportSize,
    expect,
)
from switchboard_devtools.testing_auth import token

from ..conftest import OFFER_TIMEOUT_S, Stack  # noqa: TID252 - tests/conftest.py's stack

__all__ = ["OFFER_TIMEOUT_S", "Stack"]  # handed on to the tests here (the rest is defined here)

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / ".test-output" / "desktop"
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "tests" / "vendor" / "axe-core" / "axe.min.js"
STATIC = REPO / "services" / "desktop" / "src" / "desktop" / "static"
TIMEZONE = "America/New_York"  # not UTC: the due labels are the browser's own
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}
WAIT_MS = 15_000  # for what goes through Kafka and the router

browser_test = pytest.mark.usefixtures("chromium")  # first: skip before the stack starts

# --- helpers ------------------------------------------------------------------------------


async def screenshot(tab: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await tab.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


async def assert_accessible(tab: Page, state: str) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    if not await tab.evaluate("() => typeof window.axe === 'object'"):
        await tab.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = await tab.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.map((n) => n.target.join(" "))}))"""
    )
    grave = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not grave, f"axe-core, {state}: {grave}"


async def sign_in(tab: Page, agent_id: str) -> None:
    await tab.goto("/")
    await tab.get_by_label("Access token").fill(token(agent_id, ["agent"]))
    await tab.get_by_role("button", name="Sign in").click()
    await expect(tab.locator("#session")).to_contain_text(f"Signed in as {agent_id}")
    await expect(tab.locator("#connection")).to_have_text("Connected", timeout=WAIT_MS)


async def go_available(tab: Page, queue: str) -> None:
    await tab.get_by_label("My queues").fill(queue)
    await tab.get_by_role("button", name="Available", exact=True).click()
    await expect(status_of(tab)).to_have_text("Available", timeout=WAIT_MS)
    await expect(tab.get_by_role("button", name="Available", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )


def status_of(tab: Page) -> Locator:
    return tab.locator("#current-status")


def offer_of(tab: Page, subject: str) -> Locator:
    return tab.locator("#offers > li").filter(has_text=subject)


def row_of(tab: Page, subject: str) -> Locator:
    return tab.locator("#item-rows > tr").filter(has_text=subject)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def due_label_in(tz: ZoneInfo, due: datetime) -> str:
    today = datetime.now(tz).date()
    day = due.astimezone(tz).date()
    return {today: "Today", today + timedelta(days=1): "Tomorrow"}.get(day, day.isoformat())


async def record_of(stack: Stack, work_item_id: str) -> dict[str, Any]:
    answer = await stack.http.get(f"/v1/workitems/{work_item_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


# --- the Create Task dialog (test_page_create_task*.py) -----------------------------------

PATH = "**/v1/desktop/workitems"


def opener_of(tab: Page) -> Locator:
    return tab.locator("#create-task-slot").get_by_role("button", name="Create task")


def dialog_of(tab: Page) -> Locator:
    return tab.get_by_role("dialog", name="Create task")


def submit_of(dialog: Locator) -> Locator:
    return dialog.get_by_role("button", name="Create task", exact=True)


async def open_form(tab: Page) -> Locator:
    await opener_of(tab).click()
    dialog = dialog_of(tab)
    await expect(dialog).to_be_visible()
    return dialog


def typed(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


async def found(client: httpx.AsyncClient, path: str) -> dict[str, Any] | None:
    answer = await client.get(path)
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


async def send(tab: Page, dialog: Locator) -> Response:
    """Press Create task; the gateway's answer."""
    async with tab.expect_response(PATH) as answered:
        await submit_of(dialog).click()
    return await answered.value
