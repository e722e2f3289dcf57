"""Which code a measurement ran: the commit, and whether the work tree differed from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

# Files the measuring tools write themselves: their change is the result, not the code.
RESULTS = (":!chaos/results", ":!bench/results")


def git_revision(checkout: Path | None = None) -> str:
    """The short commit sha, with ``+changes`` when tracked files differ from it."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=checkout,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        clean = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", ".", *RESULTS], cwd=checkout, check=False
        ).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha if clean == 0 else f"{sha}+changes"
