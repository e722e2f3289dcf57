"""Switchboard desktop gateway: what a person's browser talks to (see docs/desktop.md)."""
