"""Test helpers: scrape a service's ``/metrics`` as an operator's Prometheus would."""

from __future__ import annotations

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

# What prometheus_client exports of any Python process (kept: operators use them).
PROCESS_PREFIXES = ("process_", "python_")
# The families every service exports (counters are named without their _total suffix).
COMMON_FAMILIES = frozenset(
    {
        "switchboard_http_requests",
        "switchboard_http_request_duration_seconds",
        "switchboard_redis_up",
    }
)
COMMAND_FAMILIES = frozenset(
    {
        "switchboard_commands",
        "switchboard_command_duration_seconds",
        "switchboard_dead_letters",
    }
)
OUTBOX_FAMILIES = frozenset(
    {
        "switchboard_outbox_published",
        "switchboard_outbox_pending",
        "switchboard_outbox_oldest_age_seconds",
    }
)
DEADLINE_FAMILIES = frozenset(
    {
        "switchboard_deadlines_fired",
        "switchboard_deadline_lateness_seconds",
        "switchboard_deadlines_pending",
        "switchboard_deadlines_overdue",
        "switchboard_deadlines_uncounted",
    }
)


async def scrape(http: httpx.AsyncClient) -> dict[str, Metric]:
    """The families ``GET /metrics`` answers, by name."""
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    families = text_string_to_metric_families(response.text)
    return {family.name: family for family in families}


def service_families(families: dict[str, Metric]) -> set[str]:
    """The names of the families that are not the Python process's."""
    return {name for name in families if not name.startswith(PROCESS_PREFIXES)}


def value(families: dict[str, Metric], sample: str, **labels: str) -> float | None:
    """The value of the sample named ``sample`` whose labels include ``labels``."""
    for family in families.values():
        for s in family.samples:
            if s.name == sample and labels.items() <= s.labels.items():
                return float(s.value)
    return None


def label_values(families: dict[str, Metric], family: str, label: str) -> set[str]:
    """Every value ``label`` takes in the samples of ``family``."""
    return {s.labels[label] for s in families[family].samples if label in s.labels}
