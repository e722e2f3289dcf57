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

import re

import httpx
import pytest
from playwright.async_api import (
    Browser,
    Page,
    expect,
)
from switchboard_devtools.testing_auth import token
from switchboard_runtime.auth import issue_token
from switchboard_schemas.registry import AGENT_EVENT_MODELS, AGENT_ITEM_STEPS

from .pagekit import (
    STATIC,
    VIEWPORT,
    WAIT_MS,
    browser_test,
    sign_in,
)

pytestmark = pytest.mark.integration

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
  const reloaded = m.emptyState();  // a page reloaded during wrap-up counts down again
  const ends = new Date(Date.now() + 90000).toISOString();
  m.applySnapshot(reloaded, {now: new Date().toISOString(), agent: {agent_id: "a"}, offers: [],
    wrapups: [{work_item_id: "wi-1", expires_at: ends}],
    inbox: {outbound: [], items: [{...row, status: "wrap_up"}]}});
  const wrapup = [reloaded.rows.get("wi-1").wrapupExpiresMs, Date.parse(ends)];
  const nowMs = Date.parse("2025-03-01T12:00:00Z");  // 07:00 in New York
  return {seen, wrapup, labels: [1, 2, 3, 5, 8, 7].map(f.priorityLabel),
    badges: ["task", "callback", "review", "approval", "email", "chat", "call"].map(f.badgeOf),
    due: ["2025-03-01T11:00:00Z", "2025-03-02T04:59:00Z", "2025-03-02T05:00:00Z",
          "2025-03-03T06:00:00Z", "2025-03-04T06:00:00Z"].map((d) => f.dueLabel(d, nowMs)),
    callback: f.subjectOf({type: "callback", customer_phone: "+14155552671",
                           reason: "Invoice\\nsecond line"})};
}"""


@browser_test
async def test_the_page_applies_every_type_the_gateway_logs_for_an_agent(page: Page) -> None:
    await page.goto("/")
    handled = await page.evaluate('async () => (await import("/static/state.js")).HANDLED_TYPES')
    logged = [*AGENT_EVENT_MODELS, *AGENT_ITEM_STEPS]
    assert sorted(handled) == sorted(logged)


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
    expected_end, wrapup_end = found["wrapup"]
    assert wrapup_end == expected_end
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
