"""How the router applies its script calls: planned calls executed together, and the
deadlines fired (plain code over the Lua scripts; what each record becomes is planned in
router.plans)."""

from __future__ import annotations

from collections.abc import Sequence

from router.scripts import RouterScripts, ScriptCall

# deadlines applied by one script call: fewer calls, but each call holds Redis longer
FIRE_PER_CALL = 25


class RouterEngine:
    """Routes items to agents; every change is one atomic script."""

    def __init__(self, scripts: RouterScripts, *, default_disposition: str) -> None:
        self._scripts = scripts
        self._default_disposition = default_disposition

    async def execute(self, calls: Sequence[ScriptCall]) -> list[str]:
        """Run planned calls in order, pipelined."""
        return await self._scripts.run_calls(calls)

    async def _one(self, call: ScriptCall) -> str:
        [outcome] = await self._scripts.run_calls([call])
        return outcome

    def _fire_call(
        self, members: Sequence[str], now_ms: int | None, part: int | None
    ) -> ScriptCall:
        args = {
            "members": list(members),
            "part": part,
            "default_disposition": self._default_disposition,
        }
        return ScriptCall("fire", args, now_ms=now_ms)

    async def fire(self, member: str, now_ms: int | None = None, part: int | None = None) -> str:
        """Apply one due deadline of partition ``part``'s set (None: the single set); a
        no-op if another replica already did."""
        [outcome] = (await self._one(self._fire_call([member], now_ms, part))).split()
        return outcome

    async def fire_many(
        self, members: Sequence[str], now_ms: int, part: int | None = None
    ) -> list[str]:
        """Apply due deadlines of partition ``part``'s set (None: the single set),
        ``FIRE_PER_CALL`` per script call, all in one round trip; one outcome per
        member, in order."""
        [outcomes] = await self.fire_sets([(part, members)], now_ms)
        return outcomes

    async def fire_sets(
        self, sets: Sequence[tuple[int | None, Sequence[str]]], now_ms: int
    ) -> list[list[str]]:
        """``fire_many`` for the due members of several sets, all in one round trip;
        the outcomes per set."""
        calls, sizes = [], []
        for part, members in sets:
            chunks = [members[i : i + FIRE_PER_CALL] for i in range(0, len(members), FIRE_PER_CALL)]
            calls += [self._fire_call(chunk, now_ms, part) for chunk in chunks]
            sizes.append(len(chunks))
        outcomes = iter(await self._scripts.run_calls(calls))
        return [[o for _ in range(n) for o in next(outcomes).split()] for n in sizes]
