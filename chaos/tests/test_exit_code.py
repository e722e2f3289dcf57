"""make chaos's exit code: a failed count fails the run, and so does a scenario the time
budget left out (a partial run is not a pass); and which results file a run writes."""

from __future__ import annotations

from chaos.run import exit_code, results_stem

PASSED = {"number": "9", "name": "poison", "items": 120, "lost": 0}


def test_every_scenario_run_and_clean_passes() -> None:
    assert exit_code([PASSED, {**PASSED, "number": "1"}]) == 0


def test_a_scenario_left_out_by_the_time_budget_is_not_a_pass() -> None:
    assert exit_code([PASSED, {"number": "4", "name": "clocks", "skipped": "time budget"}]) == 2


def test_a_lost_item_fails_the_run_whatever_was_skipped() -> None:
    lost = {**PASSED, "number": "1", "lost": 1}
    assert exit_code([lost, {"number": "4", "name": "clocks", "skipped": "time budget"}]) == 1


def test_a_scenario_that_broke_fails_the_run() -> None:
    assert exit_code([{"number": "3", "name": "storm", "error": "TimeoutError: ..."}]) == 1


def test_a_run_of_some_scenarios_or_the_long_mode_keeps_the_last_quick_run() -> None:
    assert [results_stem(False, False), results_stem(False, True)] == ["latest", "latest-long"]
    assert [results_stem(True, False), results_stem(True, True)] == ["partial", "partial"]
