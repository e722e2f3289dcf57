"""The router state machine (test_state_machine.py) with deadlines kept per partition of
agent.commands: the router knows the partition count from the start, or learns it
mid-way (an upgrade: deadlines set before stay in the single set, and are still
answered and fired there). The invariants also check each deadline is in the set its
item names ('dpart'), its agent's partition's."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule, run_state_machine_as_test
from switchboard_devtools.testing import Brokers

from .routerkit import QUEUES, Harness, strategies_config
from .test_state_machine import RouterMachine

pytestmark = pytest.mark.integration


class PartitionedRouterMachine(RouterMachine):
    @initialize(
        strategies=st.dictionaries(
            st.sampled_from(QUEUES), st.sampled_from(["longest_idle", "least_busy", "round_robin"])
        ),
        partitions=st.sampled_from([None, 1, 3]),
    )
    def configure(self, strategies: dict[str, str], partitions: int | None) -> None:
        self.h = Harness(self.redis, strategies_config(strategies), partitions)
        self.run(self.h.setup())

    @precondition(lambda self: self.h.partitions is None)
    @rule()
    def upgrade(self) -> None:
        """A router that knows the partitions takes over from one that did not."""
        self.h.partitions = 3


def test_router_state_machine_with_partitioned_deadlines(brokers: Brokers) -> None:
    PartitionedRouterMachine.brokers = brokers
    run_state_machine_as_test(
        PartitionedRouterMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=50,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
