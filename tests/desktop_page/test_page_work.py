"""An agent works items in the browser against the running stack: offer to completion
(by mouse and by keyboard), an outbound callback dialed, a rejected offer that comes
back and, left alone, leaves the agent Away."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import (
    Locator,
    Page,
    expect,
)
from switchboard_devtools.testing import eventually

from .pagekit import (
    OFFER_TIMEOUT_S,
    TIMEZONE,
    WAIT_MS,
    Stack,
    assert_accessible,
    browser_test,
    due_label_in,
    go_available,
    offer_of,
    record_of,
    rfc3339,
    row_of,
    screenshot,
    sign_in,
    status_of,
)

pytestmark = pytest.mark.integration

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
    """Hold and Resume by keyboard (focus stays on the row's actions); the item in the
    Hold list of the sidebar, whatever the filter; the status filter."""
    held = page.locator("#hold-list > li")
    await expect(page.locator("#no-holds")).to_have_text("Nothing on hold.")
    await row.get_by_role("button", name="Hold").focus()
    await page.keyboard.press("Enter")
    await expect(row.locator(".item-status")).to_have_text("Hold", timeout=WAIT_MS)
    await expect(row.get_by_role("button", name="Resume")).to_be_focused()
    await expect(held).to_have_count(1)
    await expect(held).to_contain_text(SUBJECT)
    await expect(held.locator(".badge")).to_have_text("TASK")
    await expect(held.get_by_role("button", name=f"Resume: {SUBJECT}")).to_be_visible()
    await expect(page.locator("#no-holds")).to_be_hidden()

    await page.get_by_role("radio", name="Active", exact=True).check()
    await expect(row).to_have_count(0)
    await expect(page.locator("#no-items")).to_be_visible()
    await expect(held).to_have_count(1)  # the sidebar keeps it whatever the filter
    await page.get_by_role("radio", name="Hold", exact=True).check()
    await expect(row).to_be_visible()
    await screenshot(page, "3-hold")
    await page.get_by_role("radio", name="All", exact=True).check()

    await row.get_by_role("button", name="Resume").focus()
    await page.keyboard.press("Enter")
    await expect(row.locator(".item-status")).to_have_text("Active", timeout=WAIT_MS)
    await expect(row.get_by_role("button", name="Hold")).to_be_focused()
    await expect(held).to_have_count(0)
    await expect(page.locator("#no-holds")).to_be_visible()


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
