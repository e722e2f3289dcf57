"""The Inbox without brokers: due labels, badges, subject lines, sections, filters, 422s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from switchboard_devtools.testing_auth import SECRET, bearer
from switchboard_runtime.auth import AuthConfig, install_auth
from switchboard_schemas.inbox import (
    InboxFilter,
    UnknownTimezone,
    badge,
    build_inbox,
    due_label,
    subject_line,
    timezone_named,
)
from switchboard_schemas.read_model import StoredItem
from switchboard_schemas.workitem import CreateWorkItem, WorkItem
from workitem.inbox_api import inbox_router

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
AGENT = "agent-7"
PHONE = "+14155552671"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def item(**fields: Any) -> WorkItem:
    data = {"type": "task", **fields}
    work_item_id = str(data.pop("work_item_id", "wi-1"))
    created_at = data.pop("created_at", NOW - timedelta(hours=1))
    cmd = CreateWorkItem.model_validate(data)
    return WorkItem.from_create(cmd, work_item_id=work_item_id, created_at=created_at)


def record(status: str, agent_id: str | None = AGENT, **fields: Any) -> StoredItem:
    return StoredItem(
        item=item(**fields).model_dump(mode="json", exclude_none=True),
        status=status,
        created_at="2026-11-27T08:30:00Z",
        updated_at="2026-11-27T09:00:00Z",
        cancel_requested_at=None,
        history=[],
        agent_id=agent_id,
    )


# (time zone, now, due, label): clock times around local midnight, DST, far offsets.
DUE_CASES = [
    ("Europe/London", "2026-11-27T23:30Z", "2026-11-27T23:45Z", "Today"),
    ("Europe/London", "2026-11-27T23:30Z", "2026-11-27T23:00Z", "Overdue"),
    ("Europe/London", "2026-11-27T23:30Z", "2026-11-28T00:30Z", "Tomorrow"),
    ("Europe/London", "2026-11-27T23:30Z", "2026-11-29T00:00Z", "2026-11-29"),
    ("Europe/London", "2026-11-28T00:00Z", "2026-11-28T23:59Z", "Today"),
    ("America/New_York", "2026-11-28T03:30Z", "2026-11-28T04:59Z", "Today"),
    ("America/New_York", "2026-11-28T03:30Z", "2026-11-28T05:00Z", "Tomorrow"),
    ("America/New_York", "2026-11-28T03:30Z", "2026-11-29T04:59Z", "Tomorrow"),
    ("America/New_York", "2026-11-28T03:30Z", "2026-11-29T05:00Z", "2026-11-29"),
    ("Asia/Tokyo", "2026-11-27T14:59Z", "2026-11-27T14:59:30Z", "Today"),
    ("Asia/Tokyo", "2026-11-27T14:59Z", "2026-11-27T15:00Z", "Tomorrow"),
    ("UTC", "2026-11-27T14:59Z", "2026-11-27T15:00Z", "Today"),
    ("Asia/Tokyo", "2026-11-27T15:00Z", "2026-11-28T14:59Z", "Today"),
    ("Pacific/Kiritimati", "2026-11-27T09:59Z", "2026-11-27T10:00Z", "Tomorrow"),
    ("Pacific/Pago_Pago", "2026-11-27T10:59Z", "2026-11-27T11:00Z", "Tomorrow"),
    ("Europe/London", "2026-03-28T23:30Z", "2026-03-29T22:59Z", "Tomorrow"),  # into BST
    ("Europe/London", "2026-03-28T23:30Z", "2026-03-29T23:00Z", "2026-03-30"),
    ("UTC", "2026-11-27T09:30Z", "2026-11-27T09:30Z", "Today"),  # due this instant
    ("UTC", "2026-11-27T09:30Z", "2026-11-27T09:29:59Z", "Overdue"),
    ("UTC", "2026-11-27T09:30Z", "2025-01-01T00:00Z", "Overdue"),
    ("UTC", "2026-12-31T12:00Z", "2027-01-02T00:00Z", "2027-01-02"),
]


@pytest.mark.parametrize(("tz", "now", "due", "label"), DUE_CASES)
def test_due_label(tz: str, now: str, due: str, label: str) -> None:
    assert due_label(utc(due), utc(now), ZoneInfo(tz)) == label


def test_no_due_date_has_no_label() -> None:
    assert due_label(None, NOW, ZoneInfo("UTC")) is None


@pytest.mark.parametrize(
    ("item_type", "expected"),
    [
        ("task", "TASK"),
        ("callback", "CALLBACK"),
        ("review", "REVIEW"),
        ("approval", "APPROVAL"),
        ("email", "EMAIL"),
        ("chat", None),
        ("call", None),
    ],
)
def test_badge_is_the_upper_case_type_for_task_types_only(
    item_type: str, expected: str | None
) -> None:
    assert badge(item(type=item_type, **callback_fields(item_type)).type) == expected


def callback_fields(item_type: str) -> dict[str, str]:
    return {"customer_phone": "+14155552671"} if item_type == "callback" else {}


@pytest.mark.parametrize(
    ("fields", "subject"),
    [
        (
            {"sub_type": "billing_dispute", "description": "Refund\nsecond line"},
            "Billing dispute — Refund",
        ),
        ({"sub_type": "address_change"}, "Address change"),
        ({"description": "\n  Send the transcript  \nmore"}, "Send the transcript"),
        ({"type": "chat"}, "Chat"),
        ({"type": "email", "description": "   "}, "Email"),
        (
            {
                "type": "callback",
                "customer_phone": "+14155552671",
                "customer_name": "Ada Lovelace",
                "reason": "Billing question",
            },
            "Ada Lovelace — Billing question",
        ),
        ({"type": "callback", "customer_phone": "+14155552671"}, "+14155552671"),
    ],
)
def test_subject_line(fields: dict[str, Any], subject: str) -> None:
    assert subject_line(item(**fields)) == subject


def test_long_subject_is_clipped() -> None:
    subject = subject_line(item(description="x" * 500))
    assert len(subject) == 120
    assert subject.endswith("…")


def mixed_records() -> list[StoredItem]:
    return [
        record(
            "offered", work_item_id="cb-offered", type="callback", customer_phone="+14155552671"
        ),
        record("active", work_item_id="cb-active", type="callback", customer_phone="+14155552672"),
        record("offered", work_item_id="t-offered"),
        record("active", work_item_id="t-active"),
        record("hold", work_item_id="t-hold", type="chat"),
        record("wrap_up", work_item_id="t-wrap", type="review"),
        record("queued", agent_id=None, work_item_id="t-queued"),  # left the Inbox meanwhile
        record("active", agent_id="someone-else", work_item_id="t-other"),
        record("archived", work_item_id="t-archived"),
    ]


def ids(rows: list[Any]) -> list[str]:
    return [row.work_item_id for row in rows]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("all", {"t-offered", "t-active", "t-hold", "t-wrap"}),
        ("active", {"t-active"}),
        ("hold", {"t-hold"}),
        ("wrap_up", {"t-wrap"}),
    ],
)
def test_status_filter_applies_to_items_and_never_to_outbound(
    status: InboxFilter, expected: set[str]
) -> None:
    inbox = build_inbox(AGENT, mixed_records(), status=status, tz=ZoneInfo("UTC"), now=NOW)

    assert set(ids(inbox.items)) == expected
    assert set(ids(inbox.outbound)) == {"cb-offered", "cb-active"}
    assert all(row.outbound for row in inbox.outbound)
    assert list(inbox.model_dump(mode="json"))[:5] == [
        "agent_id",
        "status",
        "tz",
        "outbound",
        "items",
    ]


def test_rows_carry_badge_subject_status_and_due_label() -> None:
    records = [
        record("active", work_item_id="t-1", sub_type="refund", due_at="2026-11-27T20:00:00Z"),
        record("offered", work_item_id="c-1", type="chat", description="Hi"),
    ]
    inbox = build_inbox(AGENT, records, status="all", tz=ZoneInfo("Asia/Tokyo"), now=NOW)

    task_row, chat_row = inbox.items  # same priority: the one with a due date first
    assert (task_row.badge, task_row.subject, task_row.status) == ("TASK", "Refund", "active")
    assert task_row.due_label == "Tomorrow"  # 05:00 on the 28th in Tokyo
    assert (chat_row.badge, chat_row.subject, chat_row.due_label) == (None, "Hi", None)
    assert inbox.tz == "Asia/Tokyo"
    body = inbox.model_dump(mode="json")
    assert body["items"][0]["due_at"] == "2026-11-27T20:00:00Z"


def test_order_is_priority_then_due_date_then_age() -> None:
    records = [
        record("active", work_item_id="low", priority=8),
        record("active", work_item_id="no-due", priority=2),
        record("active", work_item_id="due-later", priority=2, due_at="2026-12-05T00:00:00Z"),
        record("active", work_item_id="due-soon", priority=2, due_at="2026-12-01T00:00:00Z"),
        record("active", work_item_id="critical", priority=1),
    ]
    inbox = build_inbox(AGENT, records, status="all", tz=ZoneInfo("UTC"), now=NOW)
    assert ids(inbox.items) == ["critical", "due-soon", "due-later", "no-due", "low"]


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "utc", "America", "../etc/passwd", "x" * 300])
def test_unknown_time_zones_are_refused(name: str) -> None:
    with pytest.raises(UnknownTimezone):
        timezone_named(name)


class FixedReader:
    def __init__(self, records: list[StoredItem]) -> None:
        self.records = records

    async def inbox(self, agent_id: str) -> list[StoredItem]:
        return self.records


async def get(path: str, **params: str) -> httpx.Response:
    app = FastAPI()
    install_auth(app, AuthConfig(secret=SECRET))
    app.include_router(inbox_router(FixedReader(mixed_records()), lambda: NOW))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        headers=bearer(), transport=transport, base_url="http://test"
    ) as http:
        return await http.get(path, params=params)


async def test_http_inbox_defaults_to_all_in_utc() -> None:
    response = await get(f"/v1/agents/{AGENT}/inbox")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["tz"]) == ("all", "UTC")
    assert [row["work_item_id"] for row in body["outbound"]] == ["cb-active", "cb-offered"]
    assert body["outbound"][0]["badge"] == "CALLBACK"
    assert len(body["items"]) == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": "Europe/../../etc"}, "tz"),
        ({"tz": "Europe Paris"}, "tz"),
        ({"status": "offered"}, "status"),
        ({"status": "ALL"}, "status"),
    ],
)
async def test_http_invalid_tz_or_status_is_422_naming_it(
    params: dict[str, str], field: str
) -> None:
    response = await get(f"/v1/agents/{AGENT}/inbox", **params)
    assert response.status_code == 422
    assert [err["loc"] for err in response.json()["detail"]] == [["query", field]]


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "Europe/Paris", "Pacific/Kiritimati", "UTC"])
def test_an_item_stored_due_at_the_end_of_the_calendar_still_reads(tz: str) -> None:
    """Accepted before dates were range-checked: the Inbox must still answer."""
    stored = record("active", work_item_id="far")
    stored.item["due_at"] = "9999-12-31T23:59:59Z"
    inbox = build_inbox(AGENT, [stored], status="all", tz=ZoneInfo(tz), now=NOW)
    assert inbox.items[0].due_label == "9999-12-31"
    assert inbox.model_dump(mode="json")["items"][0]["due_at"] == "9999-12-31T23:59:59Z"


@pytest.mark.parametrize(
    "due", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2200-01-01T00:00:00Z"]
)
def test_a_new_item_due_out_of_range_is_refused_naming_due_at(due: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CreateWorkItem.model_validate({"type": "task", "due_at": due})
    [error] = refused.value.errors()
    assert (error["loc"], error["type"]) == (("due_at",), "datetime_range")
