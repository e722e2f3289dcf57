"""Schemathesis against the running callback service's own OpenAPI document (callbacks,
campaigns, health): requests that fit it and requests that break it never get a 5xx,
nor an answer it does not document."""

from __future__ import annotations

import pytest
from switchboard_devtools.testing_http import assert_answers_only_what_it_documents

from .conftest import RunningCallback

pytestmark = pytest.mark.integration


# schemathesis itself draws from `random` inside its strategies
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_the_api_answers_only_what_its_openapi_documents(service: RunningCallback) -> None:
    await assert_answers_only_what_it_documents(service.base_url)
