"""The results: ``chaos/results/latest.json`` (one row per scenario, every count, the
brokers, the git sha) and ``latest.md`` (the same as a Markdown table)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from switchboard_devtools.revision import git_revision

from chaos.checker import MUST_BE_ZERO

RESULTS = Path(__file__).parent / "results"
COLUMNS = (
    ("items", "items"),
    ("lost", "lost"),
    ("double_offers", "double offers"),
    ("over_capacity", "over capacity"),
    ("deadlines_zero", "deadline 0x"),
    ("deadlines_twice", "deadline 2x"),
    ("missing_events", "missing events"),
    ("commands_lost", "desktop commands lost"),
    ("desktop_missed", "desktop log missed"),
    ("stream_missed", "desktop stream missed"),
    ("duplicates", "duplicates (ok)"),
    ("stuck", "stuck"),
    ("http_5xx", "HTTP 5xx (503)"),
    ("dead_letters", "DLQ"),
    ("faults", "faults"),
)


def ok(row: dict[str, Any]) -> bool:
    if "error" in row:
        return False
    return not any(row.get(k) for k in (*MUST_BE_ZERO, "half_initialised", "unbounded_memory"))


def _cell(row: dict[str, Any], key: str) -> str:
    if key == "http_5xx":
        return f"{row.get('http_5xx', 0)} ({row.get('http_503', 0)})"
    value = row.get(key, "")
    return str(value)


def markdown(doc: dict[str, Any]) -> str:
    head = ["#", "scenario", *[title for _, title in COLUMNS], "ok"]
    lines = [
        f"Chaos run {doc['finished_at']} on {doc['brokers']}, git {doc['git_sha']}, "
        f"{doc['mode']} mode, {doc['seconds']:.0f} s.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for row in doc["scenarios"]:
        cells = [str(row["number"]), row["name"], *[_cell(row, k) for k, _ in COLUMNS]]
        cells.append("skipped" if "skipped" in row else ("yes" if ok(row) else "**no**"))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *_notes(doc)]
    return "\n".join(lines) + "\n"


def _notes(doc: dict[str, Any]) -> list[str]:
    out = []
    for row in doc["scenarios"]:
        problems = {k: v for k, v in row.get("examples", {}).items() if v}
        if "error" in row:
            out.append(f"- {row['number']} {row['name']}: error: {row['error']}")
        if "skipped" in row:
            out.append(f"- {row['number']} {row['name']}: not run: {row['skipped']}")
        for count, examples in problems.items():
            out.append(f"- {row['number']} {row['name']}, {count}: {'; '.join(examples[:3])}")
        if row.get("half_initialised"):
            out.append(
                f"- {row['number']} {row['name']}: {row['half_initialised']} half-initialised"
            )
    return out


def write(
    scenarios: list[dict[str, Any]], brokers: str, mode: str, seconds: float, stem: str = "latest"
) -> Path:
    """``<stem>.json`` and ``<stem>.md`` in ``chaos/results``; returns the Markdown's path."""
    RESULTS.mkdir(exist_ok=True)
    sha = git_revision()
    scenarios = [{**row, "brokers": brokers, "git_sha": sha} for row in scenarios]
    doc = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_sha": sha,
        "brokers": brokers,
        "mode": mode,
        "seconds": round(seconds, 1),
        "must_be_zero": list(MUST_BE_ZERO),
        "scenarios": scenarios,
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(doc))
    return RESULTS / f"{stem}.md"
