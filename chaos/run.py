"""``make chaos``: the fault-injection suite on three Apache Kafka brokers and Redis.

    python -m chaos.run [--long] [--only 9,1,7]

Quick mode (the default, for CI) keeps each scenario small and the whole run under ten
minutes, skipping what no longer fits; ``--long`` runs more load and more faults. Each
scenario is checked by ``chaos/checker.py``; the rows go to ``chaos/results/latest.json``
and ``latest.md``. The exit code is 1 when a count that must be zero is not, 2 when the
time budget left scenarios out (a partial run is not a pass), else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from chaos import report, scenarios, scenarios_more, slow_link
from chaos.harness import Size
from chaos.stack import Brokers, brokers

# (number as in the issue, name, scenario), in the order they run: easiest first
PLAN: list[tuple[str, str, scenarios.Scenario]] = [
    ("9", "poison messages, failing handler", scenarios.poison),
    ("1", "SIGKILL each service", scenarios.sigkill),
    ("7", "Kafka broker killed", scenarios.broker_kill),
    ("6", "Redis link cut", scenarios.redis_cut),
    ("5", "Redis restart with AOF", scenarios.redis_aof),
    ("5", "Redis restart empty", scenarios.redis_empty),
    ("2", "zombie router", scenarios_more.zombie),
    ("3", "rebalance storm 2-5-2", scenarios_more.storm),
    ("10", "accept vs expiry, dup/reordered", scenarios_more.rough_agents),
    ("8", "slow Kafka link", slow_link.slow_kafka),
    ("4", "clock offsets ±2 s", scenarios_more.clocks),
]
QUICK_BUDGET_S = 570.0


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos.run", description=__doc__)
    parser.add_argument("--long", action="store_true", help="more load, more faults")
    parser.add_argument("--only", default="", help="scenario numbers, e.g. 9,1,7")
    parser.add_argument("--logs", type=Path, default=None, help="where service logs go")
    parser.add_argument(
        "--budget",
        type=float,
        default=QUICK_BUDGET_S,
        help="quick mode: seconds after which the scenarios left are skipped (0: none)",
    )
    return parser.parse_args(argv)


def _size(long: bool) -> Size:
    if long:
        return Size(items=600, rate=30.0, agents=30, capacity=3, settle_s=240.0)
    return Size(items=120, rate=12.0, agents=32, capacity=2, settle_s=90.0)


async def _one(
    number: str, name: str, scenario: scenarios.Scenario, stack: Brokers, logs: Path, long: bool
) -> dict[str, Any]:
    started = time.monotonic()
    print(f"== {number}. {name}", flush=True)
    try:
        row = await scenario(stack, logs, _size(long), long)
    except Exception as failure:  # one scenario's failure is its row
        traceback.print_exc()
        row = {"error": f"{type(failure).__name__}: {failure}"[:300]}
    row = {"number": number, "name": name, **row, "seconds": round(time.monotonic() - started)}
    print(f"   {_brief(row)}", flush=True)
    return row


def _brief(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"error: {row['error']}"
    shown = ("items", "lost", "double_offers", "deadlines_zero", "deadlines_twice", "stuck")
    return ", ".join(f"{k}={row.get(k)}" for k in shown) + f" ({row['seconds']} s)"


async def _run(args: argparse.Namespace, logs: Path) -> tuple[list[dict[str, Any]], Path]:
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    plan = [step for step in PLAN if not only or step[0] in only]
    began, rows = time.monotonic(), []
    with brokers(logs) as stack:
        print(f"brokers up in {time.monotonic() - began:.0f} s: {stack.describe()}", flush=True)
        for number, name, scenario in plan:
            spent = time.monotonic() - began
            if not args.long and args.budget and spent > args.budget:
                rows.append({"number": number, "name": name, "skipped": "time budget"})
                continue
            rows.append(await _one(number, name, scenario, stack, logs, args.long))
        described = stack.describe()
    mode, seconds = "long" if args.long else "quick", time.monotonic() - began
    return rows, report.write(rows, described, mode, seconds, results_stem(bool(only), args.long))


def results_stem(some: bool, long: bool) -> str:
    """Where a run's results go: ``latest`` (quick), ``latest-long``, or ``partial`` for a
    run of some scenarios only, so that neither replaces the last whole quick run."""
    return "partial" if some else "latest-long" if long else "latest"


def main(argv: list[str] | None = None) -> int:
    args = _args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="chaos-logs-"))
    print(f"service logs in {logs}", flush=True)
    rows, written = asyncio.run(_run(args, logs))
    print(written.read_text())
    code = exit_code(rows)
    if code == 2:
        print(
            "some scenarios were not run (time budget): a partial run is not a pass; "
            "run them with CHAOS_ONLY=... or --budget 0",
            file=sys.stderr,
        )
    return code


def exit_code(rows: list[dict[str, Any]]) -> int:
    """1 when a scenario failed a count that must be zero (or broke), else 2 when the time
    budget left scenarios out, else 0."""
    if any("skipped" not in r and not report.ok(r) for r in rows):
        return 1
    return 2 if any("skipped" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
