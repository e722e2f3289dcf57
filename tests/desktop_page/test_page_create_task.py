"""The Create Task modal in the browser against the running stack: a task and a callback
created (and found in the work item and callback services), the server's 422 shown
beside its field, a refused token and a lost network said above the fields (the retry
keeping its Idempotency-Key), a callback without a phone never sent, and the keyboard."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import (
    Locator,
    Page,
    Request,
    Response,
    Route,
    expect,
)
from switchboard_devtools.testing import eventually
from switchboard_schemas.phone import normalize_phone

from .pagekit import (
    TIMEZONE,
    WAIT_MS,
    Stack,
    assert_accessible,
    browser_test,
    rfc3339,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.integration

PATH = "**/v1/desktop/workitems"
PRIMARY = "rgb(29, 78, 216)"  # style.css --primary


def opener_of(tab: Page) -> Locator:
    return tab.locator("#create-task-slot").get_by_role("button", name="Create task")


def dialog_of(tab: Page) -> Locator:
    return tab.get_by_role("dialog", name="Create task")


def submit_of(dialog: Locator) -> Locator:
    return dialog.get_by_role("button", name="Create task", exact=True)


def error_beside(dialog: Locator, label: str) -> Locator:
    """The error shown in the field whose control is labelled ``label``."""
    control = dialog.page.get_by_label(label, exact=True)  # relative to each field
    return dialog.locator(".field").filter(has=control).locator(".error")


async def open_form(tab: Page) -> Locator:
    await opener_of(tab).click()
    dialog = dialog_of(tab)
    await expect(dialog).to_be_visible()
    return dialog


def in_two_days() -> datetime:
    """A local time of the browser's zone, to the minute (what datetime-local takes)."""
    local = datetime.now(ZoneInfo(TIMEZONE)) + timedelta(days=2)
    return local.replace(second=0, microsecond=0)


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


async def assert_refused_beside(dialog: Locator, label: str, answer: Response) -> None:
    """The 422's one error is shown beside the field labelled ``label``, and focused."""
    assert answer.status == 422, await answer.text()
    (error,) = (await answer.json())["detail"]
    assert error["loc"][0] == "body"
    shown = error["msg"][0].upper() + error["msg"][1:]
    control = dialog.get_by_label(label, exact=True)
    await expect(error_beside(dialog, label)).to_have_text(shown)
    await expect(error_beside(dialog, label)).to_be_visible()
    await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(control).to_have_accessible_description(re.compile(re.escape(shown)))
    await expect(control).to_be_focused()
    await expect(dialog).to_be_visible()


def posts_to_create(tab: Page) -> list[Request]:
    """Every request the tab makes to POST /v1/desktop/workitems from now on."""
    seen: list[Request] = []
    tab.on("request", lambda r: seen.append(r) if r.url.endswith("/v1/desktop/workitems") else None)
    return seen


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
@pytest.mark.refusals
async def test_the_servers_refusals_are_shown_beside_their_fields_and_the_form_is_kept(
    page: Page, agent_id: str
) -> None:
    await sign_in(page, agent_id)
    requests = posts_to_create(page)
    dialog = await open_form(page)
    await dialog.get_by_label("Description").fill("Score the call.")
    priority = dialog.get_by_label("Priority")
    await priority.evaluate("(select) => { select.selectedOptions[0].value = '4'; }")
    await assert_refused_beside(dialog, "Priority", await send(page, dialog))
    await expect(dialog.get_by_label("Description")).to_have_value("Score the call.")

    await dialog.get_by_label("Type", exact=True).select_option(label="Callback")
    await expect(dialog.get_by_label("Description")).to_be_hidden()
    await priority.select_option(label="High")
    phone = dialog.get_by_label("Customer Phone")
    await phone.fill("12")
    await assert_refused_beside(dialog, "Customer Phone", await send(page, dialog))
    await expect(phone).to_have_value("12")
    await expect(error_beside(dialog, "Priority")).to_be_empty()
    await expect(priority).not_to_have_attribute("aria-invalid", "true")
    await screenshot(page, "10-create-task-errors")
    await assert_accessible(page, "the Create Task dialog showing errors")

    await phone.fill("+1 415 555 2671")
    yesterday = datetime.now(ZoneInfo(TIMEZONE)) - timedelta(days=1)
    await dialog.get_by_label("Due date").fill(typed(yesterday))  # a callback's window_end
    await assert_refused_beside(dialog, "Due date (optional)", await send(page, dialog))
    await expect(error_beside(dialog, "Customer Phone")).to_be_empty()
    keys = [await r.header_value("idempotency-key") for r in requests]
    assert len(set(keys)) == len(keys) == 3  # each a new submission, each a new key


@browser_test
@pytest.mark.refusals
async def test_a_refused_token_and_a_lost_network_are_said_above_the_fields(
    page: Page, stack: Stack, agent_id: str
) -> None:
    await sign_in(page, agent_id)
    requests = posts_to_create(page)
    dialog = await open_form(page)
    await dialog.get_by_label("Description").fill("Check the address change.")
    form_error = dialog.locator("#create-task-error")

    async def stale_token(route: Route) -> None:  # the gateway itself refuses it
        headers = {**route.request.headers, "authorization": "Bearer not.a.token"}
        await route.continue_(headers=headers)

    await page.route(PATH, stale_token)
    assert (await send(page, dialog)).status == 401
    await expect(form_error).to_contain_text("The gateway does not take your token")
    await expect(form_error).to_contain_text("sign in again")
    await page.unroute(PATH)

    await page.route(PATH, lambda route: route.abort())
    await submit_of(dialog).click()
    await expect(form_error).to_have_text(
        "The gateway cannot be reached: try again (it will not be made twice)."
    )
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Description")).to_have_value("Check the address change.")
    await screenshot(page, "12-create-task-unreachable")
    await assert_accessible(page, "the Create Task dialog, the gateway unreachable")
    await page.unroute(PATH)

    answer = await send(page, dialog)  # the same submission again
    assert answer.status == 202, await answer.text()
    await expect(dialog).to_be_hidden()
    keys = [await r.header_value("idempotency-key") for r in requests]
    assert len(keys) == 3
    assert keys[0] != keys[1]  # answered 401: the next one is a new submission
    assert keys[1] == keys[2]  # the network lost it: its retry keeps the key
    wid = (await answer.json())["work_item_id"]
    record = await eventually(
        lambda: found(stack.http, f"/v1/workitems/{wid}"), timeout=WAIT_MS / 1000
    )
    assert record["description"] == "Check the address change."


@browser_test
@pytest.mark.refusals
async def test_a_callback_without_a_phone_is_never_sent(page: Page, agent_id: str) -> None:
    await sign_in(page, agent_id)
    requests = posts_to_create(page)
    dialog = await open_form(page)
    await dialog.get_by_label("Type", exact=True).select_option(label="Callback")
    await dialog.get_by_label("Reason").fill("Wants to change her plan")
    phone = dialog.get_by_label("Customer Phone")
    for blank in ["", "   "]:
        await phone.fill(blank)
        await submit_of(dialog).click()
        await expect(error_beside(dialog, "Customer Phone")).to_have_text(
            "Enter the number to call back."
        )
        await expect(phone).to_have_attribute("aria-invalid", "true")
        await expect(phone).to_be_focused()
        await expect(dialog).to_be_visible()

    # the listener hears this tab's requests: the one with a phone is the first it hears
    await phone.fill("12")
    assert (await send(page, dialog)).status == 422
    assert [(r.post_data_json or {}).get("customer_phone") for r in requests] == ["12"]
    await expect(dialog.get_by_label("Reason")).to_have_value("Wants to change her plan")


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
