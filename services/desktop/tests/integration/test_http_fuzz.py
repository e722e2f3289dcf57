"""Schemathesis against the running gateway's own OpenAPI document: requests to the
routes that hand requests on, fitting it and breaking it, never get a 5xx nor an answer
it does not document. Sent as an agent (commands are the agent's own), so both routes
take the valid ones."""

from __future__ import annotations

import pytest
from switchboard_devtools.testing_http import assert_answers_only_what_it_documents

from .conftest import RunningDesktop, agent

pytestmark = pytest.mark.integration


# schemathesis itself draws from `random` inside its strategies
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_the_api_answers_only_what_its_openapi_documents(desktop: RunningDesktop) -> None:
    await assert_answers_only_what_it_documents(
        desktop.base_url,
        headers=agent("fuzz-agent"),
        paths=["/v1/desktop/commands", "/v1/desktop/workitems"],
    )
