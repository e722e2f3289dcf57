"""A supervisor watches an agent's desk in the browser, read-only: the same status,
offers and Inbox the agent sees, live, without a control that would act; and the sign-in
says which tokens may watch whom."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from switchboard_devtools.testing_auth import token

from .pagekit import (
    VIEWPORT,
    WAIT_MS,
    Stack,
    assert_accessible,
    browser_test,
    go_available,
    offer_of,
    row_of,
    screenshot,
    sign_in,
    status_of,
)

pytestmark = pytest.mark.integration

SUBJECT = "Address change — Move the account to the new flat"


async def watch(tab: Page, supervisor: str, agent_id: str) -> None:
    await tab.goto("/")
    await tab.get_by_label("Access token").fill(token(supervisor, ["supervisor"]))
    await tab.get_by_label("Agent to watch").fill(agent_id)
    await tab.get_by_role("button", name="Sign in").click()
    await expect(tab.locator("#connection")).to_have_text("Connected", timeout=WAIT_MS)


@browser_test
async def test_a_supervisor_watches_an_agents_desk_without_acting_on_it(
    browser: Browser,
    gateway: httpx.AsyncClient,
    page: Page,
    stack: Stack,
    queue: str,
    agent_id: str,
) -> None:
    await sign_in(page, agent_id)
    await go_available(page, queue)
    base_url = str(gateway.base_url)
    context = await browser.new_context(base_url=base_url, viewport=VIEWPORT, bypass_csp=True)
    watcher = await context.new_page()
    try:
        await watch(watcher, "sam", agent_id)
        await expect(watcher.locator("#session")).to_contain_text(
            f"Signed in as sam watching {agent_id}, read-only"
        )
        await expect(status_of(watcher)).to_have_text("Available")
        await expect(watcher.get_by_role("button", name="Available", exact=True)).to_be_hidden()
        await expect(watcher.get_by_label("My queues")).to_be_hidden()

        await stack.create(
            type="task",
            queue=queue,
            sub_type="address_change",
            description="Move the account to the new flat",
        )
        their_offer, seen = offer_of(page, SUBJECT), offer_of(watcher, SUBJECT)
        await expect(seen).to_be_visible(timeout=WAIT_MS)
        await expect(seen.get_by_role("timer")).to_be_visible()
        await expect(seen.get_by_role("button")).to_have_count(0)
        await screenshot(watcher, "12-supervisor-watching-an-offer")
        await assert_accessible(watcher, "a supervisor watching an offer")

        await their_offer.get_by_role("button", name="Accept").click()
        row = row_of(watcher, SUBJECT)
        await expect(row.locator(".item-status")).to_have_text("Active", timeout=WAIT_MS)
        await expect(seen).to_have_count(0)
        await expect(row.get_by_role("button")).to_have_count(0)
        await expect(watcher.get_by_role("columnheader", name="Actions")).to_have_count(0)

        await row_of(page, SUBJECT).get_by_role("button", name="Hold").click()
        held = watcher.locator("#hold-list > li")
        await expect(held).to_contain_text(SUBJECT, timeout=WAIT_MS)
        await expect(held.get_by_role("button")).to_have_count(0)
        await screenshot(watcher, "13-supervisor-watching-a-hold")
    finally:
        await context.close()


@browser_test
async def test_only_a_supervisor_may_watch_and_a_supervisor_must_name_whom(page: Page) -> None:
    await page.goto("/")
    cases = [
        (token("ada", ["agent"]), "bo", "Only a supervisor's token may watch another agent."),
        (token("sam", ["supervisor"]), "", "name the agent to watch"),
        (token("sam", ["supervisor"]), "not an id!", '"not an id!" is not an agent id.'),
    ]
    for given, watched, said in cases:
        await page.get_by_label("Access token").fill(given)
        await page.get_by_label("Agent to watch").fill(watched)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#token-error")).to_contain_text(said)
        await expect(page.locator("#sign-in")).to_be_visible()
