"""Every Redis key Switchboard uses is built here.

All keys of one tenant share the hash tag ``{sb:<tenant>}`` so a Lua script that
touches several of them stays inside one Redis Cluster slot.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Key builders for one tenant."""

    tenant: str

    @property
    def tag(self) -> str:
        return f"{{sb:{self.tenant}}}"

    def work_item(self, work_item_id: str) -> str:
        """Hash: the work item record (item JSON, status, timestamps, history)."""
        return f"{self.tag}:wi:{work_item_id}"

    def request(self, scope: str, request_key: str) -> str:
        """Hash: what an idempotent request (HTTP Idempotency-Key, CloudEvent id) produced."""
        return f"{self.tag}:req:{scope}:{request_key}"

    def outbox(self, service: str) -> str:
        """Stream: events written atomically with a state change, waiting for the relay."""
        return f"{self.tag}:outbox:{service}"

    def outbox_lease(self, service: str) -> str:
        """String: which relay replica currently publishes ``outbox(service)``."""
        return f"{self.tag}:outbox-lease:{service}"

    def seen_event(self, consumer: str, event_id: str) -> str:
        """String: marks a CloudEvent id already applied by ``consumer``."""
        return f"{self.tag}:seen:{consumer}:{event_id}"

    def work_item_history(self, work_item_id: str) -> str:
        """List: the item's lifecycle steps as JSON entries, oldest first."""
        return f"{self.tag}:wi:{work_item_id}:history"
