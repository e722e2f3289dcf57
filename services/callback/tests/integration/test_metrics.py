"""What an operator scraping the callback service's /metrics sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from switchboard_runtime.testing import eventually
from switchboard_runtime.testing_metrics import (
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


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def pending(service: RunningCallback, kind: str) -> float:
    families = await scrape(service.http)
    samples = families["switchboard_deadlines_pending"].samples
    return sum(s.value for s in samples if s.labels["kind"] == kind)


async def test_only_the_callback_families_are_exported(service: RunningCallback) -> None:
    families = await scrape(service.http)

    expected = COMMON_FAMILIES | COMMAND_FAMILIES | OUTBOX_FAMILIES | DEADLINE_FAMILIES
    assert service_families(families) == expected
    assert value(families, "switchboard_redis_up") == 1.0
    assert {s.labels["kind"] for s in families["switchboard_deadlines_pending"].samples} == {
        "due",
        "window",
    }


async def test_a_scheduled_callback_counts_as_a_pending_due_deadline(
    service: RunningCallback,
) -> None:
    """Other tests' callbacks may fire meanwhile: a round counts only when nothing else
    changed between the two scrapes."""

    async def scheduled_one() -> bool:
        before = await pending(service, "due"), await pending(service, "window")
        later = datetime.now(UTC) + timedelta(hours=1)
        body = {
            "customer_phone": new_phone(),
            "scheduled_at": iso(later),
            "window_end": iso(later + timedelta(hours=1)),
        }
        response = await service.http.post("/v1/callbacks", json=body)
        assert response.status_code == 201, response.text
        after = await pending(service, "due"), await pending(service, "window")
        return after == (before[0] + 1, before[1] + 1)

    await eventually(scheduled_one, timeout=20)
    families = await scrape(service.http)
    created = {"method": "POST", "route": "/v1/callbacks", "status": "201"}
    assert value(families, "switchboard_http_requests_total", **created)
