"""Every Redis key Switchboard uses is built here.

All keys of one tenant share the hash tag ``{sb:<tenant>}`` so a Lua script that
touches several of them stays inside one Redis Cluster slot. Lua scripts build the same
names with ``key.<builder>(...)``, generated from these methods
(:func:`switchboard_runtime.lua.key_builders`): a builder is a method of plain string
arguments whose result starts with the tag.
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

    def generation(self) -> str:
        """String: ``init:<id>`` or ``reset:<id>``, the generation of the tenant's state
        (see switchboard_runtime.generation); gone when the store lost its state."""
        return f"{self.tag}:generation"

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

    # Router keys.

    def router_item(self, work_item_id: str) -> str:
        """Hash: the router's view of an item (status, queue, offer, agent, kind)."""
        return f"{self.tag}:ri:{work_item_id}"

    def item_rejected_by(self, work_item_id: str) -> str:
        """Set: agents who rejected or skipped the item."""
        return f"{self.tag}:ri:{work_item_id}:rejected"

    def queue(self, name: str, kind: str) -> str:
        """Sorted set: waiting items of one kind (voice, chat, async), scored
        priority * 1e13 + created epoch ms."""
        return f"{self.tag}:q:{name}:{kind}"

    def queue_agents(self, name: str, kind: str) -> str:
        """Sorted set: available agents of a queue with a free slot of one kind, scored by
        when they were last offered work."""
        return f"{self.tag}:qa:{name}:{kind}"

    def round_robin(self, queue: str) -> str:
        """String: the agent a round-robin queue offered work to last."""
        return f"{self.tag}:rr:{queue}"

    def offer_sequence(self) -> str:
        """String: the counter offer ids are numbered from."""
        return f"{self.tag}:offer-seq"

    def queue_config(self) -> str:
        """Hash: queue name -> routing strategy."""
        return f"{self.tag}:queue-config"

    def agent(self, agent_id: str) -> str:
        """Hash: status, capacity and used slots per kind, last offer time."""
        return f"{self.tag}:ag:{agent_id}"

    def agents_by_status(self) -> str:
        """Hash: status -> how many agents have it (for the agents-per-status gauge)."""
        return f"{self.tag}:agents-by-status"

    def agent_items(self, agent_id: str) -> str:
        """Set: items offered to or held by the agent."""
        return f"{self.tag}:ag:{agent_id}:items"

    def agent_queues(self, agent_id: str) -> str:
        return f"{self.tag}:ag:{agent_id}:queues"

    def agent_skills(self, agent_id: str) -> str:
        return f"{self.tag}:ag:{agent_id}:skills"

    def deadlines(self) -> str:
        """Sorted set: offer (o|offer|item) and wrap-up (w|item) deadlines by due epoch ms,
        of agents whose partition of agent.commands is not known (agents last seen by a
        router before 2026-12-01) and as routers before then kept all of them. Every
        replica fires it as it always did, so an upgrade loses nothing."""
        return f"{self.tag}:deadlines"

    def deadlines_of(self, partition: int) -> str:
        """Sorted set: as ``deadlines``, of the agents whose commands arrive on this
        partition of agent.commands; only the replica that owns the partition fires it,
        once its consumer has applied every command sent before the deadline (see
        switchboard_runtime.watermarks)."""
        return f"{self.tag}:deadlines:{partition}"

    # Work item read model (the Inbox).

    def agent_inbox(self, agent_id: str) -> str:
        """Sorted set: work item ids in the agent's Inbox, scored by entry time (epoch ms)."""
        return f"{self.tag}:inbox:{agent_id}"

    def parked(self, queue: str) -> str:
        """Sorted set: outbound items skipped too often, left for supervisors."""
        return f"{self.tag}:parked:{queue}"

    # Callback service.

    def callback(self, callback_id: str) -> str:
        """Hash: a callback request (``doc``: the record as JSON, ``version``: a counter)."""
        return f"{self.tag}:cb:{callback_id}"

    def open_callbacks(self) -> str:
        """Hash: open status (scheduled, waiting, in_progress) -> how many callbacks have it."""
        return f"{self.tag}:cb-by-status"

    def callback_open(self, queue: str, phone: str) -> str:
        """String: the open callback for this E.164 number in this queue (merges duplicates)."""
        return f"{self.tag}:cb-open:{queue}:{phone}"

    def callback_of_item(self, work_item_id: str) -> str:
        """String: the callback an outbound work item was created for."""
        return f"{self.tag}:cb-item:{work_item_id}"

    def callback_request(self, request_key: str) -> str:
        """String: ``<outcome>:<callback id>`` an idempotent callback request produced."""
        return f"{self.tag}:cb-req:{request_key}"

    def callback_deadlines(self) -> str:
        """Sorted set: callback due times (due|cb|attempt) and window ends (window|cb) by
        epoch ms, of callbacks written while the partition count of callback.commands was
        not known, and as services before 2026-12-01 kept all of them; every replica fires
        it as it always did."""
        return f"{self.tag}:cb-deadlines"

    def callback_deadlines_of(self, partition: int) -> str:
        """Sorted set: as ``callback_deadlines``, of the callbacks whose commands (keyed by
        callback id) arrive on this partition of callback.commands; fired only by the
        replica that owns it, up to its watermark (see switchboard_runtime.watermarks)."""
        return f"{self.tag}:cb-deadlines:{partition}"

    def campaign(self, campaign_id: str) -> str:
        """Hash: a progressive-dial campaign (queue, callbacks per status, load counters)."""
        return f"{self.tag}:campaign:{campaign_id}"

    def campaign_callbacks(self, campaign_id: str) -> str:
        """Set: the ids of the callbacks a campaign created."""
        return f"{self.tag}:campaign-cbs:{campaign_id}"

    # Desktop gateway.

    def desktop_log(self, agent_id: str) -> str:
        """Stream: every event addressed to the agent, for its desktop streams and their
        resumption; entry ids are the SSE ids; trimmed to the resume window."""
        return f"{self.tag}:desk-log:{agent_id}"

    def desktop_channel(self) -> str:
        """Pub/sub channel: the ids of agents whose desktop log grew (not a key: a name in
        the tenant's slot)."""
        return f"{self.tag}:desk-news"
