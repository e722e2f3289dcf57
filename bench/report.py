"""Writing the results: bench/results/latest.json, a Markdown table, and a PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROWS = [
    (
        "throughput (items/s, created -> offer.made)",
        "throughput_items_per_s",
        "baseline forwarder (msgs/s)",
        "baseline_forward_msgs_per_s",
    ),
    (
        "offer latency at 1,000 items/s (ms)",
        "offer_latency_ms",
        "one Kafka hop (ms)",
        "baseline_hop_ms",
    ),
    ("deadline lateness (ms)", "deadline_lateness_ms", "", ""),
    ("scale ratio (100k queued + 10k agents vs 100 + 100)", "scale_ratio", "", ""),
    ("full lifecycle (completions/s)", "lifecycle_per_s", "", ""),
    (
        "burst: 200 concurrent POST /v1/workitems",
        "burst_creates",
        "200 concurrent GET /health/live",
        "baseline_burst_live",
    ),
    (
        "desktop fan-out: 2,000 streams, 1,000 offers/s (Kafka -> client)",
        "desktop_fanout",
        "one Kafka hop at 1,000 msgs/s (ms)",
        "baseline_fanout_hop_ms",
    ),
    ("Redis bytes per queued item", "redis_bytes_per_queued_item", "", ""),
    ("Redis bytes per agent", "redis_bytes_per_agent", "", ""),
    ("router RSS (MB)", "router_rss_mb", "", ""),
]


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_cell(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.3f}"
    return "" if value is None else str(value)


def table(results: dict[str, Any]) -> str:
    lines = ["| figure | value | baseline | value |", "|---|---|---|---|"]
    for label, key, base_label, base_key in ROWS:
        base = _cell(results.get(base_key)) if base_key else ""
        lines.append(f"| {label} | {_cell(results.get(key))} | {base_label} | {base} |")
    return "\n".join(lines)


def write(
    results: dict[str, Any], series: dict[str, Any], out_dir: Path, stem: str = "latest"
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / f"{stem}.md").write_text(table(results) + "\n")
    return plot(series, out_dir / f"{stem}.png")


def plot(series: dict[str, Any], path: Path) -> Path:
    import matplotlib  # noqa: PLC0415 - only the report needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    latencies = series.get("offer_latency_ms", [])
    if latencies:
        left.hist(latencies, bins=60, color="#4c72b0")
    left.set_title("offer latency at 1,000 items/s")
    left.set_xlabel("ms from upstream publish to offer.made at the desktop")
    left.set_ylabel("offers")
    offers = sorted(series.get("throughput_offers_ms", []))
    if offers:
        start = offers[0]
        bins = int((offers[-1] - start) / 250) + 1
        counts = [0] * bins
        for t in offers:
            counts[int((t - start) / 250)] += 1
        right.plot([i * 0.25 for i in range(bins)], [c * 4 for c in counts], color="#dd8452")
    right.set_title("throughput over time (offer.made at the desktop)")
    right.set_xlabel("seconds")
    right.set_ylabel("offers per second")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
