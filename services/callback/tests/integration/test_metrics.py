"""What an operator scraping the callback service's /metrics sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from switchboard_devtools.testing import eventually
from switchboard_devtools.testing_metrics import (
    COMMAND_FAMILIES,
    COMMON_FAMILIES,
    DEADLINE_FAMILIES,
    OUTBOX_FAMILIES,
    scrape,
    service_families,
    value,
)

from .conftest import RunningCallback, new_phone

pytestmark = pytest.mark.integration


DUE_WINDOW = ("due", "window")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_only_the_callback_families_are_exported(service: RunningCallback) -> None:
    families = await scrape(service.http)

    expected = COMMON_FAMILIES | COMMAND_FAMILIES | OUTBOX_FAMILIES | DEADLINE_FAMILIES
    assert service_families(families) == expected | {"switchboard_callbacks_open"}
    statuses = {s.labels["status"] for s in families["switchboard_callbacks_open"].samples}
    assert statuses == {"scheduled", "waiting", "in_progress"}
    assert value(families, "switchboard_redis_up") == 1.0
    assert {s.labels["kind"] for s in families["switchboard_deadlines_pending"].samples} == {
        "due",
        "window",
    }


async def counts(service: RunningCallback) -> tuple[float, ...]:
    """Pending due and window deadlines, and open scheduled callbacks."""
    families = await scrape(service.http)
    samples = families["switchboard_deadlines_pending"].samples
    due, window = (sum(s.value for s in samples if s.labels["kind"] == k) for k in DUE_WINDOW)
    scheduled = value(families, "switchboard_callbacks_open", status="scheduled")
    assert scheduled is not None
    return due, window, scheduled


async def new_callback(service: RunningCallback) -> str:
    later = datetime.now(UTC) + timedelta(hours=1)
    body = {
        "customer_phone": new_phone(),
        "scheduled_at": iso(later),
        "window_end": iso(later + timedelta(hours=1)),
    }
    response = await service.http.post("/v1/callbacks", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["callback_id"])


async def test_a_scheduled_callback_counts_as_pending_deadlines_and_open(
    service: RunningCallback,
) -> None:
    """Other tests' callbacks may fire meanwhile: a round counts only when nothing else
    changed between the two scrapes."""

    async def scheduled_one() -> bool:
        before = await counts(service)
        await new_callback(service)
        return await counts(service) == tuple(n + 1 for n in before)

    async def cancelled_one() -> bool:
        callback_id = await new_callback(service)
        before = await counts(service)
        response = await service.http.delete(f"/v1/callbacks/{callback_id}")
        assert response.status_code == 200, response.text
        return await counts(service) == tuple(n - 1 for n in before)

    await eventually(scheduled_one, timeout=20)
    await eventually(cancelled_one, timeout=20)
    families = await scrape(service.http)
    created = {"method": "POST", "route": "/v1/callbacks", "status": "201"}
    assert value(families, "switchboard_http_requests_total", **created)
