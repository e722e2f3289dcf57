"""Switchboard work item service."""
