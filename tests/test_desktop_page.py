"""The desktop page in a real browser (headless Chromium, driven by Playwright), against
the running stack: the work item service, the router and the callback service of
tests/conftest.py (offer deadline 2 s, wrap-up 3 s) and a desktop gateway serving the page.

An agent signs in with its token, goes Available on a queue of its own, and works an
item created through the API from offer to completion (by mouse and by keyboard); a
rejected offer comes back and, left alone, disappears at its deadline and leaves the
agent Away (missed offer); an outbound callback is dialed; a page whose connection is cut
says so and catches up with ``Last-Event-ID``. The page's own modules are also run on
events that repeat what the snapshot showed, and on a played snapshot holding every kind
of work. Each state is kept as a screenshot under ``.test-output/desktop/``, and checked
with axe-core (vendored in tests/vendor/axe-core/): no serious or critical violation.

Chromium is Debian's (``/usr/bin/chromium``; Playwright downloads none). Without it these
tests skip on a developer's machine and fail under CI (``CI`` set).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from desktop.config import DesktopSettings
from desktop.main import create_app as create_desktop
from playwright.async_api import (
    Browser,
    Locator,
    Page,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)
from switchboard_devtools.testing import eventually, serving_ready
from switchboard_devtools.testing_auth import token
from switchboard_runtime.auth import issue_token

from .conftest import OFFER_TIMEOUT_S, Stack

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / ".test-output" / "desktop"
CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
STATIC = REPO / "services" / "desktop" / "src" / "desktop" / "static"
TIMEZONE = "America/New_York"  # not UTC: the due labels are the browser's own
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}
WAIT_MS = 15_000  # for what goes through Kafka and the router

browser_test = pytest.mark.usefixtures("chromium")  # first: skip before the stack starts


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


# --- the page without a browser -----------------------------------------------------------


async def test_the_gateway_serves_the_page_its_files_and_its_config(
    gateway: httpx.AsyncClient,
) -> None:
    page_answer = await gateway.get("/", headers={"Authorization": ""})
    script = await gateway.get("/static/app.js")
    style = await gateway.get("/static/style.css")
    config = await gateway.get("/v1/desktop/config", headers={"Authorization": ""})
    missing = await gateway.get("/static/nothing.js")

    assert page_answer.status_code == 200
    assert page_answer.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page_answer.headers["content-security-policy"]
    assert '<script type="module" src="/static/app.js">' in page_answer.text
    assert script.status_code == style.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert "connect-src 'self'" in script.headers["content-security-policy"]
    assert config.status_code == 200
    assert config.json() == {"away_reasons": ["break", "lunch", "meeting", "training"]}
    assert missing.status_code == 404
    documented = (await gateway.get("/openapi.json")).json()["paths"]
    assert "/" not in documented  # the page is no API
    assert "/v1/desktop/config" in documented


def test_the_page_loads_nothing_from_elsewhere() -> None:
    external = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", re.IGNORECASE)
    imports = re.compile(r"""^import .* from "(?!\./)""", re.MULTILINE)
    for path in sorted(STATIC.iterdir()):
        text = path.read_text()
        assert not external.search(text), f"{path.name} refers to another site"
        assert not imports.search(text), f"{path.name} imports a module from elsewhere"


# --- in the browser -------------------------------------------------------------------


# The page's own modules, run in the browser: a snapshot, then events repeated or out of
# date (as the stream may send them after a snapshot), and the labels.
PAGE_LOGIC = """async () => {
  const m = await import("/static/state.js");
  const f = await import("/static/format.js");
  const ce = (data) => ({specversion: "1.0", id: crypto.randomUUID(), data});
  const soon = new Date(Date.now() + 30000).toISOString();
  const offer = (offer_id, work_item_id) => ({offer_id, work_item_id, agent_id: "a",
    expires_at: soon, outbound: false, actions: ["accept", "reject"],
    item: {type: "task", priority: 3, sub_type: "address_change"}});
  const row = {work_item_id: "wi-1", type: "task", badge: "TASK", subject: "Address change",
    status: "offered", priority: 3, channel: "api", sub_type: "address_change", due_at: null,
    due_label: null, outbound: false, created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z"};
  const s = m.emptyState();
  m.applySnapshot(s, {now: new Date().toISOString(), agent: {agent_id: "a", status: "available"},
    offers: [offer("of-1", "wi-1")], inbox: {outbound: [], items: [row]}});
  const seen = [];
  const look = (step) => seen.push([step, [...s.offers.keys()].join(","),
    [...s.rows.values()].map((r) => `${r.work_item_id}:${r.status}`).join(",")]);
  const accepted = ce({work_item_id: "wi-1", offer_id: "of-1", agent_id: "a"});
  look("snapshot");
  m.applyEvent(s, "offer.made", ce(offer("of-1", "wi-1"))); look("offer again");
  m.applyEvent(s, "workitem.accepted", accepted); look("accepted");
  m.applyEvent(s, "workitem.accepted", accepted); look("accepted again");
  m.applyEvent(s, "offer.made", ce(offer("of-1", "wi-1"))); look("offer after accept");
  m.applyEvent(s, "workitem.completed", ce({work_item_id: "wi-1", agent_id: "a",
    disposition_code: "resolved"})); look("completed");
  m.applyEvent(s, "workitem.held", ce({work_item_id: "wi-1", agent_id: "a"})); look("held late");
  m.applyEvent(s, "offer.made", ce(offer("of-2", "wi-2")));
  m.applyEvent(s, "offer.made", ce(offer("of-3", "wi-2")));
  m.applyEvent(s, "offer.revoked", ce({offer_id: "of-2", work_item_id: "wi-2", agent_id: "a",
    reason: "expired"})); look("older offer revoked");
  const nowMs = Date.parse("2025-03-01T12:00:00Z");  // 07:00 in New York
  return {seen, labels: [1, 2, 3, 5, 8, 7].map(f.priorityLabel),
    badges: ["task", "callback", "review", "approval", "email", "chat", "call"].map(f.badgeOf),
    due: ["2025-03-01T11:00:00Z", "2025-03-02T04:59:00Z", "2025-03-02T05:00:00Z",
          "2025-03-03T06:00:00Z", "2025-03-04T06:00:00Z"].map((d) => f.dueLabel(d, nowMs)),
    callback: f.subjectOf({type: "callback", customer_phone: "+14155552671",
                           reason: "Invoice\\nsecond line"})};
}"""


@browser_test
async def test_the_page_applies_repeated_and_late_events_once(page: Page) -> None:
    await page.goto("/")
    found = await page.evaluate(PAGE_LOGIC)

    assert found["seen"] == [
        ["snapshot", "of-1", "wi-1:offered"],
        ["offer again", "of-1", "wi-1:offered"],
        ["accepted", "", "wi-1:active"],
        ["accepted again", "", "wi-1:active"],
        ["offer after accept", "", "wi-1:active"],
        ["completed", "", ""],
        ["held late", "", ""],
        ["older offer revoked", "of-3", "wi-2:offered"],
    ]
    assert found["labels"] == ["Critical", "High", "Medium", "Normal", "Low", "Priority 7"]
    assert found["badges"] == ["TASK", "CALLBACK", "REVIEW", "APPROVAL", "EMAIL", None, None]
    # in New York (the context's time zone), not UTC: 04:59Z on the 2nd is still the 1st
    assert found["due"] == ["Overdue", "Today", "Tomorrow", "2025-03-03", "2025-03-04"]
    assert found["callback"] == "+14155552671 — Invoice"


@browser_test
async def test_signing_in_keeps_the_token_for_the_tab_and_a_refused_one_signs_out(
    browser: Browser, gateway: httpx.AsyncClient, agent_id: str
) -> None:
    context = await browser.new_context(base_url=str(gateway.base_url), viewport=VIEWPORT)
    tab = await context.new_page()
    try:
        await tab.goto("/")
        await tab.get_by_label("Access token").fill("not-a-token")
        await tab.get_by_role("button", name="Sign in").click()
        await expect(tab.get_by_role("alert").first).to_have_text(
            "A token has three parts separated by dots."
        )
        await expect(tab.get_by_label("Access token")).to_be_focused()
        await tab.get_by_label("Access token").fill(token("ivr", ["integration"]))
        await tab.get_by_role("button", name="Sign in").click()
        await expect(tab.locator("#token-error")).to_have_text(
            "This is not an agent's token (roles: integration)."
        )

        await sign_in(tab, agent_id)
        await tab.reload()  # the token is kept for the tab
        await expect(tab.locator("#session")).to_contain_text(f"Signed in as {agent_id}")
        await expect(tab.locator("#connection")).to_have_text("Connected", timeout=WAIT_MS)
        await tab.get_by_role("button", name="Sign out").click()
        await expect(tab.locator("#connection")).to_have_text("Signed out")
        await expect(tab.get_by_label("Access token")).to_be_visible()
        assert await tab.evaluate("() => sessionStorage.getItem('switchboard.token')") is None

        forged = issue_token("not the gateway's secret, though long enough", agent_id, ["agent"])
        await tab.get_by_label("Access token").fill(forged)
        await tab.get_by_role("button", name="Sign in").click()
        await expect(tab.locator("#token-error")).to_contain_text(
            "The gateway refused this token", timeout=WAIT_MS
        )
        await expect(tab.locator("#connection")).to_have_text("Signed out")
        await expect(tab.locator("#session")).to_be_hidden()
    finally:
        await context.close()


def inbox_row(wid: str, type_: str, status: str, subject: str, **fields: Any) -> dict[str, Any]:
    """A row of the Inbox view (switchboard_schemas.inbox) as the snapshot carries it."""
    task_type = type_ in ("task", "callback", "review", "approval", "email")
    row: dict[str, Any] = {
        "work_item_id": wid,
        "type": type_,
        "badge": type_.upper() if task_type else None,
        "subject": subject,
        "status": status,
        "priority": 5,
        "channel": "api",
        "sub_type": None,
        "due_at": None,
        "due_label": None,
        "outbound": type_ == "callback",
        "created_at": "2025-03-01T09:00:00Z",
        "updated_at": "2025-03-01T09:00:00Z",
    }
    return row | fields


def offer_made(offer_id: str, wid: str, expires_at: str, item: dict[str, Any]) -> dict[str, Any]:
    outbound = item["type"] == "callback"
    return {
        "offer_id": offer_id,
        "work_item_id": wid,
        "expires_at": expires_at,
        "outbound": outbound,
        "actions": ["dial", "skip"] if outbound else ["accept", "reject"],
        "item": item,
    }


def sse(event: str, data: dict[str, Any], entry_id: str) -> str:
    return f"id: {entry_id}\nevent: {event}\ndata: {json.dumps(data)}\n\n"


@browser_test
async def test_a_snapshot_with_every_kind_of_work_reads_well(page: Page, agent_id: str) -> None:
    """The stream is played by the test: a snapshot holding every kind of row and offer."""
    now = datetime.now(UTC)
    later = rfc3339(now + timedelta(seconds=30))
    callback = {"type": "callback", "priority": 2, "customer_phone": "+14155552671"}
    callback |= {"customer_name": "Grace", "reason": "Billing"}
    offers = [
        offer_made("of-1", "wi-review", later, {"type": "review", "priority": 1}),
        offer_made("of-2", "wi-cb-new", later, callback),
    ]
    inbox = {
        "outbound": [
            inbox_row("wi-cb-new", "callback", "offered", "Grace — Billing", priority=2),
            inbox_row("wi-cb-old", "callback", "active", "Alan — Refund", customer_name="Alan"),
        ],
        "items": [
            inbox_row("wi-review", "review", "offered", "Review", priority=1),
            inbox_row(
                "wi-task", "task", "active", "Task — Overdue one", due_at="2025-01-01T00:00:00Z"
            ),
            inbox_row("wi-chat", "chat", "hold", "Chat", channel="internal"),
            inbox_row("wi-mail", "email", "wrap_up", "Reply to the landlord", priority=8),
            inbox_row("wi-odd", "approval", "active", "Approval", priority=4),
        ],
    }
    agent = {"agent_id": agent_id, "status": "away", "reason": "lunch"}
    snapshot = {"now": rfc3339(now), "agent": agent, "offers": offers, "inbox": inbox}
    wrapup = {"work_item_id": "wi-mail", "agent_id": agent_id}
    wrapup["expires_at"] = rfc3339(now + timedelta(minutes=2))
    body = sse("snapshot", snapshot, "1-0") + sse(
        "workitem.wrapup_started", {"type": "workitem.wrapup_started", "data": wrapup}, "2-0"
    )

    async with PlayedStream(body) as played:

        async def play(route: Route) -> None:
            await route.continue_(url=played.url)

        await page.route("**/v1/desktop/events*", play)
        await sign_in(page, agent_id)
        await see_every_kind_of_work(page)


async def see_every_kind_of_work(page: Page) -> None:
    await expect(status_of(page)).to_have_text("Away — lunch")
    await expect(page.locator("#offers > li")).to_have_count(2)
    outbound_offer = offer_of(page, "Grace — Billing")
    await expect(outbound_offer.get_by_role("button")).to_have_text(["Dial", "Skip"])
    await expect(offer_of(page, "Review").locator(".priority")).to_have_text("Critical")
    await expect(page.locator("#outbound-rows > tr")).to_have_count(2)
    await expect(page.locator("#item-rows > tr")).to_have_count(5)
    await expect(row_of(page, "Overdue one").locator(".due")).to_have_text("Overdue")
    await expect(row_of(page, "Chat").locator(".badge")).to_have_count(0)  # real-time: none
    await expect(row_of(page, "Approval").locator(".priority")).to_have_text("Priority 4")
    landlord = page.locator("#wrapups > li").filter(has_text="Reply to the landlord")
    await expect(landlord.get_by_role("timer")).to_have_text(re.compile(r"^(2:00|1:5\d)$"))
    await screenshot(page, "10-every-kind-of-work")
    await assert_accessible(page, "every kind of work")

    await page.get_by_role("radio", name="Wrap-up", exact=True).check()
    await expect(page.locator("#item-rows > tr")).to_have_count(1)
    await expect(page.locator("#outbound-rows > tr")).to_have_count(2)  # whatever the filter


class PlayedStream:
    """An event stream the test plays: every connection gets ``body``, then stays open."""

    def __init__(self, body: str) -> None:
        self._body = body.encode()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.url = ""

    async def __aenter__(self) -> PlayedStream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/events"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for writer in self._open:
            writer.transport.abort()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        await reader.readuntil(b"\r\n\r\n")
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        writer.write(head + b"\r\n" + self._body)
        await writer.drain()
        await reader.read()  # until the browser closes it
        writer.transport.abort()
        self._open.discard(writer)


SUBJECT = "Invoice question — Call back about the March invoice"


@browser_test
async def test_an_agent_works_an_item_from_offer_to_completion(
    page: Page, stack: Stack, queue: str, agent_id: str
) -> None:
    await page.goto("/")
    await expect(page.locator("#connection")).to_have_text("Signed out")
    await screenshot(page, "0-signed-out")
    await assert_accessible(page, "signed out")
    await sign_in(page, agent_id)
    await go_available(page, queue)
    await expect(page.locator("#no-items")).to_be_visible()
    await assert_accessible(page, "available, nothing offered")

    due = datetime.now(UTC) + timedelta(hours=30)
    item = await stack.create(
        type="task",
        queue=queue,
        priority=2,
        sub_type="invoice_question",
        description="Call back about the March invoice\nCustomer 4471",
        due_at=rfc3339(due),
    )
    await accept_the_offer(page)
    row = row_of(page, SUBJECT)
    await expect(row.locator(".item-status")).to_have_text("Active", timeout=WAIT_MS)
    await expect(row.locator(".badge")).to_have_text("TASK")
    await expect(row.locator(".badge")).to_have_css("background-color", "rgb(109, 40, 217)")
    due_label = row.locator(".due")
    await expect(due_label).to_have_text(due_label_in(ZoneInfo(TIMEZONE), due))
    await expect(due_label).to_have_css("color", "rgb(180, 83, 9)")  # amber
    await expect(row.locator(".priority")).to_have_text("High")
    await screenshot(page, "2-active")
    await assert_accessible(page, "an active item")

    await hold_filter_and_resume(page, row)
    await end_and_complete_by_keyboard(page, row)
    await expect(row).to_have_count(0, timeout=WAIT_MS)
    await expect(page.locator("#wrapups > li")).to_have_count(0)
    await expect(page.locator("#no-items")).to_be_visible()
    await expect(page.locator("#no-offers")).to_be_visible()
    await screenshot(page, "5-empty-after-complete")

    async def archived() -> dict[str, Any] | None:
        record = await record_of(stack, item["work_item_id"])
        return record if record["status"] == "archived" else None

    record = await eventually(archived, timeout=WAIT_MS / 1000)
    assert record["disposition_code"] == "resolved"  # the agent's, not the wrap-up default
    assert record["notes"] == "Explained the invoice."
    assert record["agent_id"] == agent_id


async def accept_the_offer(page: Page) -> None:
    """The offer card shows the item and counts down; Accept takes it."""
    card = offer_of(page, SUBJECT)
    await expect(card).to_be_visible(timeout=WAIT_MS)
    await expect(card.locator(".badge")).to_have_text("TASK")
    await expect(card.locator(".priority")).to_have_text("High")
    timer, bar = card.get_by_role("timer"), card.locator("progress")
    shown = int((await timer.inner_text()).removesuffix(" s"))
    assert 0 < shown <= OFFER_TIMEOUT_S
    left = await bar.evaluate("(bar) => bar.value")  # milliseconds left
    await page.wait_for_function(
        "([bar, before]) => bar.value <= before - 200",
        arg=[await bar.element_handle(), left],
        timeout=1000,
    )
    assert int((await timer.inner_text()).removesuffix(" s")) <= shown
    await screenshot(page, "1-offer")
    await card.get_by_role("button", name="Accept").click()
    await expect(card).to_have_count(0, timeout=WAIT_MS)


async def hold_filter_and_resume(page: Page, row: Locator) -> None:
    """Hold and Resume by keyboard (focus stays on the row's actions); the status filter."""
    await row.get_by_role("button", name="Hold").focus()
    await page.keyboard.press("Enter")
    await expect(row.locator(".item-status")).to_have_text("Hold", timeout=WAIT_MS)
    await expect(row.get_by_role("button", name="Resume")).to_be_focused()

    await page.get_by_role("radio", name="Active", exact=True).check()
    await expect(row).to_have_count(0)
    await expect(page.locator("#no-items")).to_be_visible()
    await page.get_by_role("radio", name="Hold", exact=True).check()
    await expect(row).to_be_visible()
    await screenshot(page, "3-hold")
    await page.get_by_role("radio", name="All", exact=True).check()

    await row.get_by_role("button", name="Resume").focus()
    await page.keyboard.press("Enter")
    await expect(row.locator(".item-status")).to_have_text("Active", timeout=WAIT_MS)
    await expect(row.get_by_role("button", name="Hold")).to_be_focused()


async def end_and_complete_by_keyboard(page: Page, row: Locator) -> None:
    """End, then the wrap-up form: its countdown, a disposition and notes, Complete."""
    await page.keyboard.press("Tab")
    await expect(row.get_by_role("button", name="End")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(row.locator(".item-status")).to_have_text("Wrap-up", timeout=WAIT_MS)
    wrapup = page.locator("#wrapups > li").filter(has_text=SUBJECT)
    await expect(wrapup.get_by_role("timer")).to_have_text(re.compile(r"^[1-3] s$"))
    await expect(row.get_by_role("button", name="Wrap up")).to_be_focused()
    await page.keyboard.press("Enter")  # to the form
    await expect(wrapup.get_by_label("Disposition code")).to_be_focused()
    await page.keyboard.type("resolved")
    await page.keyboard.press("Tab")
    await expect(wrapup.get_by_label("Notes")).to_be_focused()
    await page.keyboard.type("Explained the invoice.")
    await screenshot(page, "4-wrap-up")
    await page.keyboard.press("Tab")
    await expect(wrapup.get_by_role("button", name="Complete")).to_be_focused()
    await page.keyboard.press("Enter")


@browser_test
async def test_an_outbound_callback_is_dialed_and_stays_on_top_whatever_the_filter(
    page: Page, stack: Stack, queue: str, agent_id: str
) -> None:
    await sign_in(page, agent_id)
    await page.get_by_role(
        "radio", name="Hold", exact=True
    ).check()  # filters the items, not Outbound
    await go_available(page, queue)
    body = {"customer_phone": "+14155552671", "customer_name": "Ada Lovelace", "queue": queue}
    body["reason"] = "Wants to change her plan"
    answer = await stack.callbacks.post("/v1/callbacks", json=body)
    assert answer.status_code == 201, answer.text

    card = offer_of(page, "Ada Lovelace — Wants to change her plan")
    await expect(card).to_be_visible(timeout=WAIT_MS)
    await expect(card.locator(".badge")).to_have_text("CALLBACK")
    await expect(card).to_contain_text("Outbound")
    await expect(card).to_contain_text("+14155552671")
    await expect(card.get_by_role("button", name="Accept")).to_have_count(0)
    await card.get_by_role("button", name="Dial").click()

    row = page.locator("#outbound-rows > tr").filter(has_text="Ada Lovelace")
    await expect(row.locator(".item-status")).to_have_text("Active", timeout=WAIT_MS)
    await expect(row.locator(".badge")).to_have_text("CALLBACK")
    await expect(card).to_have_count(0)
    await expect(page.locator("#no-items")).to_be_visible()  # no held item: the filter
    # a command that does not fit the item's state: the router's refusal is shown
    wid = await row.get_attribute("data-key")
    await stack.command("item.resume", {"agent_id": agent_id, "work_item_id": wid})
    await expect(page.locator("#notices")).to_contain_text(
        "Resume refused: item not on hold.", timeout=WAIT_MS
    )
    await screenshot(page, "9-outbound-dialed-and-refused")
    await assert_accessible(page, "outbound and a notice")


@browser_test
async def test_a_rejected_offer_comes_back_and_left_alone_leaves_the_agent_away(
    page: Page, stack: Stack, queue: str, agent_id: str
) -> None:
    await sign_in(page, agent_id)
    await go_available(page, queue)
    item = await stack.create(type="review", queue=queue, priority=8, description="Nobody")

    card = offer_of(page, "Nobody")
    await expect(card).to_be_visible(timeout=WAIT_MS)
    await expect(card.locator(".badge")).to_have_text("REVIEW")
    await expect(card.locator(".priority")).to_have_text("Low")
    first = await card.get_attribute("data-key")
    await card.get_by_label("Reject reason (optional)").fill("not my area")
    await card.get_by_role("button", name="Reject").click()
    # nobody else serves the queue: the router offers it to this agent again
    again = page.locator(f"#offers > li:not([data-key='{first}'])").filter(has_text="Nobody")
    await expect(again).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#offers > li")).to_have_count(1)
    deadline = int(await again.get_by_role("timer").get_attribute("data-deadline") or 0)
    await assert_accessible(page, "an offer")
    await expect(again).to_have_count(0, timeout=WAIT_MS)  # left alone
    gone_at = await page.evaluate("() => Date.now()")
    assert gone_at >= deadline - 250  # not before its deadline (the clocks are one here)

    await expect(status_of(page)).to_have_text("Away — missed offer", timeout=WAIT_MS)
    await expect(page.get_by_role("button", name="Away", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.locator("#item-rows > tr")).to_have_count(0)
    await screenshot(page, "6-away-missed-offer")
    await assert_accessible(page, "away")

    async def rejections() -> list[tuple[str, str]]:
        history = (await record_of(stack, item["work_item_id"]))["history"]
        steps = [s for s in history if s["event"] == "workitem.offer_rejected"]
        return [(step["agent_id"], step["reason"]) for step in steps]

    assert await eventually(rejections, timeout=WAIT_MS / 1000) == [(agent_id, "not my area")]


@browser_test
async def test_a_page_that_lost_the_network_reconnects_and_catches_up(
    browser: Browser, gateway: httpx.AsyncClient, stack: Stack, queue: str, agent_id: str
) -> None:
    async with Link(gateway.base_url.host, gateway.base_url.port or 80) as link:
        context = await browser.new_context(base_url=link.url, viewport=VIEWPORT)
        tab = await context.new_page()
        try:
            await sign_in(tab, agent_id)
            await go_available(tab, queue)
            # the browser says it is offline: the page says so at once, and back
            await context.set_offline(True)
            await expect(tab.locator("#connection")).to_have_text("Reconnecting…")
            await context.set_offline(False)
            await expect(tab.locator("#connection")).to_have_text("Connected")

            await link.cut()
            await expect(tab.locator("#connection")).to_have_text("Reconnecting…", timeout=WAIT_MS)
            await expect(tab.locator("#stale")).to_be_visible()
            await screenshot(tab, "7-reconnecting")
            # while the page is cut off, its agent goes away (as another desktop would)
            away = {"agent_id": agent_id, "status": "away", "reason": "lunch", "queues": [queue]}
            await stack.command("agent.status", away)
            await expect(status_of(tab)).to_have_text("Available")  # nothing got through

            link.mend()
            await expect(tab.locator("#connection")).to_have_text("Connected", timeout=WAIT_MS)
            await expect(status_of(tab)).to_have_text("Away — lunch", timeout=WAIT_MS)
            await expect(tab.locator("#stale")).to_be_hidden()
            await screenshot(tab, "8-reconnected")
        finally:
            await context.close()
    streams = [r for r in link.requests if r.startswith("GET /v1/desktop/events")]
    assert len(streams) >= 2
    assert "last-event-id:" not in streams[0].lower()
    assert "last-event-id:" in streams[-1].lower()  # it went on from where it was


class Link:
    """The network between the browser and the gateway: a TCP relay the test can cut
    (every connection dropped, new ones closed at once) and mend. Keeps the head of each
    request it carried."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._up = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.requests: list[str] = []
        self.url = ""

    async def __aenter__(self) -> Link:
        self._server = await asyncio.start_server(self._carry, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.cut()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def cut(self) -> None:
        self._up = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def mend(self) -> None:
        self._up = True

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._up:
            writer.transport.abort()
            return
        upstream_reader, upstream = await asyncio.open_connection(*self._target)
        self._writers.update((writer, upstream))
        await asyncio.gather(
            self._pipe(reader, upstream, record=True),
            self._pipe(upstream_reader, writer, record=False),
            return_exceptions=True,
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, record: bool
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if record and chunk[:4] in (b"GET ", b"POST"):
                    self.requests.append(chunk.split(b"\r\n\r\n")[0].decode("latin-1"))
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.transport.abort()
            self._writers.discard(writer)
