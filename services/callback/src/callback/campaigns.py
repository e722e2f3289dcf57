"""Progressive-dial campaigns: contact lists loaded as callbacks, counted by status."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from switchboard_schemas.callback import RequestCallback
from switchboard_schemas.fields import format_time

from callback.callbacks import Callbacks
from callback.context import Placement, RequestContext, RequestOutcome
from callback.model import Source
from callback.store import CallbackStore

log = structlog.get_logger(__name__)


class Campaigns:
    """Loads contacts through the callback requests, so duplicates merge as they would."""

    def __init__(
        self,
        callbacks: Callbacks,
        store: CallbackStore,
        *,
        concurrency: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._callbacks = callbacks
        self._store = store
        self._concurrency = concurrency
        self._clock = clock

    async def load(
        self, campaign_id: str, contacts: Sequence[RequestCallback], rejected: int, queue: str
    ) -> dict[str, int]:
        """Load the valid contacts as progressive-dial callbacks, due now; count the rest."""
        await self._store.open_campaign(campaign_id, queue, format_time(self._clock()))
        if rejected:
            await self._store.count_rejected(campaign_id, rejected)
        ctx = RequestContext(correlation_id=f"campaign:{campaign_id}")
        placement = Placement(Source.PROGRESSIVE_DIAL, campaign_id, queue)
        limit = asyncio.Semaphore(self._concurrency)

        async def load(contact: RequestCallback) -> RequestOutcome:
            async with limit:
                return (await self._callbacks.request(contact, ctx, placement)).outcome

        outcomes = await asyncio.gather(*(load(contact) for contact in contacts))
        counts = {
            "loaded": sum(1 for outcome in outcomes if outcome == "created"),
            "merged": sum(1 for outcome in outcomes if outcome != "created"),
        }
        log.info("campaign_contacts_loaded", campaign_id=campaign_id, rejected=rejected, **counts)
        return counts

    async def get(self, campaign_id: str) -> dict[str, str] | None:
        """The campaign's record (queue, callbacks per status, upload counters)."""
        return await self._store.campaign(campaign_id)
