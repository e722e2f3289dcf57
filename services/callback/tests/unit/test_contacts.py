"""Campaign uploads: CSV and JSON contact lists, row by row."""

from __future__ import annotations

import json

import pytest
from callback.contacts import ContactsInvalid, TooManyContacts, check_rows, csv_rows, json_rows

HEADER = "customer_phone,customer_name,reason,priority\n"


def test_csv_rows_become_contacts_with_blank_cells_absent() -> None:
    raw = ("\ufeff" + HEADER + "+14155552671,Ada,,3\n\n(415) 555-2672,,Renewal,\n").encode()

    rows = csv_rows(raw, 10)

    assert rows == [
        {"customer_phone": "+14155552671", "customer_name": "Ada", "priority": 3},
        {"customer_phone": "(415) 555-2672", "reason": "Renewal"},
    ]
    checked = check_rows(rows, "US")
    assert [c.customer_phone for c in checked.valid] == ["+14155552671", "+14155552672"]
    assert checked.rejected == []


def test_bad_rows_are_reported_by_number_and_the_rest_kept() -> None:
    raw = (
        HEADER + "+14155552671,Ada,,\nabc,Bob,,\n,Carol,,\n+14155552673,Dan,,7\n"
        "+14155552674,Eve,,,extra\n"
    ).encode()

    checked = check_rows(csv_rows(raw, 10), "US")

    assert len(checked.valid) == 1
    assert [row for row, _ in checked.rejected] == [2, 3, 4, 5]
    errors = dict(checked.rejected)
    assert errors[2][0].startswith("customer_phone: ")
    assert errors[3] == ["customer_phone: Field required"]
    assert errors[4][0].startswith("priority: ")
    assert errors[5] == ["more cells than the header has columns"]


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"name,reason\nAda,x\n", "customer_phone column"),
        (b"customer_phone,colour\n+14155552671,blue\n", "unknown CSV columns: colour"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_an_unreadable_csv_is_refused_as_a_whole(raw: bytes, why: str) -> None:
    with pytest.raises(ContactsInvalid, match=why):
        csv_rows(raw, 10)


def test_uploads_are_bounded() -> None:
    rows = HEADER + "".join(f"+1415555{2600 + i},,,\n" for i in range(3))
    with pytest.raises(TooManyContacts):
        csv_rows(rows.encode(), 2)
    with pytest.raises(TooManyContacts):
        json_rows(json.dumps([{"customer_phone": "+14155552671"}] * 3).encode(), 2)
    assert len(csv_rows(rows.encode(), 3)) == 3


def test_json_contacts_are_checked_row_by_row() -> None:
    rows = json_rows(
        json.dumps(
            [
                {"customer_phone": "+442079460958", "customer_name": "Grace", "priority": 1},
                "not an object",
                {"customer_phone": "+14155552671", "scheduled_at": "2030-01-01T00:00:00Z"},
                {"customer_phone": "+14155552671", "queue": "outbound-sales"},
            ]
        ).encode(),
        10,
    )

    checked = check_rows(rows, None)

    assert [(c.customer_phone, int(c.priority)) for c in checked.valid] == [
        ("+442079460958", 1),
        ("+14155552671", 5),
    ]
    assert checked.valid[1].queue == "outbound-sales"
    assert [row for row, _ in checked.rejected] == [2, 3]
    assert checked.rejected[1][1] == ["scheduled_at: Extra inputs are not permitted"]


@pytest.mark.parametrize("raw", [b"{}", b"[", b'"x"'])
def test_json_that_is_not_an_array_is_refused(raw: bytes) -> None:
    with pytest.raises(ContactsInvalid):
        json_rows(raw, 10)
