"""Schemathesis against the running service's own OpenAPI document: requests that fit
it and requests that break it never get a 5xx, nor an answer it does not document."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import RunningWorkItem

pytestmark = pytest.mark.integration

EXAMPLES = 40  # per operation and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
Operation = APIOperation[Any, Any, Any, Any]
# /metrics answers Prometheus text, which health.py does not document (FastAPI says JSON).
UNDOCUMENTED_CONTENT = {"/metrics"}


def fuzz_operation(
    operation: Operation, mode: GenerationMode, base_url: str, session: requests.Session
) -> None:
    checks = CHECKS[:2] if operation.path in UNDOCUMENTED_CONTENT else CHECKS

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure here is a regression
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case[Operation]) -> None:
        case.call_and_validate(base_url=base_url, session=session, checks=checks, timeout=10)

    run()


def fuzz(base_url: str) -> list[str]:
    """Every operation in both modes; what failed, one line (and its repro) each."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    with requests.Session() as session:
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                failures.append(f"an operation schemathesis cannot read: {result.err()}")
                continue
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    fuzz_operation(operation, mode, base_url, session)
                except Unsatisfiable:  # nothing to get wrong (no parameters, a free string)
                    assert mode is GenerationMode.NEGATIVE, operation.label
                # every failure is reported, not just the first (FailureGroup is a
                # BaseExceptionGroup)
                except (Exception, BaseExceptionGroup) as exc:
                    failures.append(f"{operation.label} ({mode}): {exc}")
    return failures


# schemathesis itself draws from `random` inside its strategies
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_the_api_answers_only_what_its_openapi_documents(
    workitem: RunningWorkItem,
) -> None:
    # schemathesis calls synchronously: in a thread, while this loop serves the requests
    failures = await asyncio.to_thread(fuzz, workitem.base_url)

    assert failures == [], "\n\n".join(failures)
