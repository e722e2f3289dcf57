"""A result names the code it ran: the commit, and whether the code differed from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from switchboard_devtools.revision import git_revision


def git(checkout: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def checkout_with_one_commit(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "router.py").write_text("ROUTE = 1\n")
    (tmp_path / "chaos" / "results").mkdir(parents=True)
    (tmp_path / "chaos" / "results" / "latest.json").write_text("{}\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "one")
    return tmp_path


def test_a_clean_checkout_is_named_by_its_commit(tmp_path: Path) -> None:
    checkout = checkout_with_one_commit(tmp_path)

    assert git_revision(checkout) == git(checkout, "rev-parse", "--short", "HEAD")


def test_changed_code_is_marked_but_a_rewritten_result_is_not(tmp_path: Path) -> None:
    checkout = checkout_with_one_commit(tmp_path)
    sha = git(checkout, "rev-parse", "--short", "HEAD")

    (checkout / "chaos" / "results" / "latest.json").write_text('{"seconds": 1}\n')
    assert git_revision(checkout) == sha

    (checkout / "router.py").write_text("ROUTE = 2\n")
    assert git_revision(checkout) == f"{sha}+changes"


def test_outside_a_checkout_the_revision_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert git_revision(tmp_path) == "unknown"
