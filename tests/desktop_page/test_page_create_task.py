"""The Create Task modal in the browser against the running stack: a task and a callback
created (and found in the work item and callback services), and the keyboard."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import (
    Locator,
    Page,
    Response,
    Route,
    expect,
)
from switchboard_devtools.testing import eventually
from switchboard_schemas.phone import normalize_phone

from .pagekit import (
    PATH,
    TIMEZONE,
    WAIT_MS,
    Stack,
    assert_accessible,
    browser_test,
    dialog_of,
    found,
    open_form,
    opener_of,
    rfc3339,
    screenshot,
    send,
    sign_in,
    submit_of,
    typed,
)

pytestmark = pytest.mark.integration

PRIMARY = "rgb(29, 78, 216)"  # style.css --primary


def in_two_days() -> datetime:
    """A local time of the browser's zone, to the minute (what datetime-local takes)."""
    local = datetime.now(ZoneInfo(TIMEZONE)) + timedelta(days=2)
    return local.replace(second=0, microsecond=0)


@browser_test
async def test_a_task_is_created_the_dialog_closes_and_the_form_is_reset(
    page: Page, stack: Stack, agent_id: str
) -> None:
    await sign_in(page, agent_id)
    opener = opener_of(page)
    await expect(opener).to_have_attribute("aria-haspopup", "dialog")
    await expect(opener).to_have_css("background-color", PRIMARY)
    dialog = await open_form(page)
    due = await fill_a_task(dialog)
    await screenshot(page, "9-create-task")
    await assert_accessible(page, "the Create Task dialog")
    answer = await send_seeing_it_busy(page, dialog)
    assert answer.status == 202, await answer.text()
    headers = await answer.request.all_headers()
    assert headers["authorization"].startswith("Bearer ")
    assert headers["content-type"] == "application/json"
    assert headers["idempotency-key"]
    wid = (await answer.json())["work_item_id"]

    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()
    await expect(page.locator("#notices")).to_contain_text(f"Task {wid} created.")
    await expect(page.locator("#announcer")).to_have_text(f"Task {wid} created.")
    record = await eventually(
        lambda: found(stack.http, f"/v1/workitems/{wid}"), timeout=WAIT_MS / 1000
    )
    assert (record["type"], record["priority"], record["channel"]) == ("task", 2, "form")
    assert record["sub_type"] == "transcript_request"
    assert record["description"] == "Send the transcript of last week's call."
    assert record["due_at"] == rfc3339(due)  # the browser's local time, as a UTC instant

    await opener.click()
    await expect(dialog).to_be_visible()
    for label, value in [("Type", "task"), ("Channel", "internal"), ("Priority", "5")]:
        await expect(dialog.get_by_label(label, exact=True)).to_have_value(value)
    for label in ["Sub-type (optional)", "Description", "Due date (optional)"]:
        await expect(dialog.get_by_label(label, exact=True)).to_have_value("")
    await expect(submit_of(dialog)).not_to_have_attribute("aria-disabled", "true")


async def fill_a_task(dialog: Locator) -> datetime:
    """A task of every field; its due date (the browser's local time)."""
    await dialog.get_by_label("Type", exact=True).select_option(label="Task")
    await dialog.get_by_label("Sub-type").fill("transcript_request")
    await dialog.get_by_label("Channel").select_option(label="Form")
    await dialog.get_by_label("Priority").select_option(label="High")
    await dialog.get_by_label("Description").fill("Send the transcript of last week's call.")
    due = in_two_days()
    await dialog.get_by_label("Due date").fill(typed(due))
    await expect(dialog.get_by_label("Customer Phone")).to_be_hidden()
    return due


async def send_seeing_it_busy(tab: Page, dialog: Locator) -> Response:
    """Create task, held on its way until the button is seen disabled; the answer."""
    release = asyncio.Event()

    async def held(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await tab.route(PATH, held)
    submit = submit_of(dialog)
    async with tab.expect_response(PATH) as answered:
        await submit.click()
        await expect(submit).to_have_attribute("aria-disabled", "true")
        release.set()
    await tab.unroute(PATH)
    return await answered.value


@browser_test
async def test_a_callback_is_requested_and_exists(page: Page, stack: Stack, agent_id: str) -> None:
    await sign_in(page, agent_id)
    dialog = await open_form(page)
    await dialog.get_by_label("Type", exact=True).select_option(label="Callback")
    await expect(dialog.get_by_label("Description")).to_be_hidden()
    typed_phone = f"+1 415 555 {uuid.uuid4().int % 10_000:04d}"  # no merge with another run's
    await dialog.get_by_label("Customer Phone").fill(typed_phone)
    await dialog.get_by_label("Customer Name").fill("Ada Lovelace")
    await dialog.get_by_label("Reason").fill("Billing question")
    await dialog.get_by_label("Channel").select_option(label="Phone")
    await dialog.get_by_label("Priority").select_option(label="High")
    call_by = in_two_days()
    await dialog.get_by_label("Due date").fill(typed(call_by))
    await screenshot(page, "11-create-callback")
    await assert_accessible(page, "the Create Task dialog for a callback")

    answer = await send(page, dialog)
    assert answer.status == 202, await answer.text()
    cid = (await answer.json())["callback_id"]
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#notices")).to_contain_text(f"Callback {cid} requested.")

    callback = await eventually(
        lambda: found(stack.callbacks, f"/v1/callbacks/{cid}"), timeout=WAIT_MS / 1000
    )
    assert callback["customer_phone"] == normalize_phone(typed_phone, None)
    assert (callback["customer_name"], callback["reason"]) == ("Ada Lovelace", "Billing question")
    assert (callback["priority"], callback["channel"]) == (2, "phone")
    assert callback["window_end"] == rfc3339(call_by)  # its due date: the latest time to call


@browser_test
async def test_the_keyboard_opens_and_closes_the_dialog(page: Page, agent_id: str) -> None:
    await sign_in(page, agent_id)
    opener = opener_of(page)
    dialog = dialog_of(page)
    await opener.focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Type", exact=True)).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(dialog.get_by_label("Sub-type")).to_be_focused()
    await page.keyboard.type("qa_sample")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()

    await page.keyboard.press("Space")
    await expect(dialog.get_by_label("Type", exact=True)).to_be_focused()
    await expect(dialog.get_by_label("Sub-type")).to_have_value("qa_sample")  # kept
    await dialog.get_by_role("button", name="Cancel").focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()
