"""Fixtures shared by every test directory (real brokers for the session)."""

pytest_plugins = ["switchboard_devtools.testing"]
