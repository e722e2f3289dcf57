"""Shared runtime pieces of the Switchboard services (no business rules live here)."""
