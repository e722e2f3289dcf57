"""Switchboard callback service: callback requests, scheduling and retries."""
