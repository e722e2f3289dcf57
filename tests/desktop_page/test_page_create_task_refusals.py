"""The Create Task modal's refusals in the browser against the running stack: the
server's 422 shown beside its field, a refused token and a lost network said above the
fields (the retry keeping its Idempotency-Key), and a callback without a phone never sent."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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

from .pagekit import (
    PATH,
    TIMEZONE,
    WAIT_MS,
    Stack,
    assert_accessible,
    browser_test,
    found,
    open_form,
    screenshot,
    send,
    sign_in,
    submit_of,
    typed,
)

pytestmark = pytest.mark.integration


def error_beside(dialog: Locator, label: str) -> Locator:
    """The error shown in the field whose control is labelled ``label``."""
    control = dialog.page.get_by_label(label, exact=True)  # relative to each field
    return dialog.locator(".field").filter(has=control).locator(".error")


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
