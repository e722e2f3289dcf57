"""Whatever a record holds, it costs only itself, in the router's batches and alone: valid
events of the router's contract (real models, real decoder) mixed with noise and mutations
known to invalidate them, over two topics and four partitions. A record's fate comes from
how it was built, never from the decoder; no offset handed over passes an unsettled one."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, cast

from aiokafka import AIOKafkaProducer, TopicPartition
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from structlog.testing import capture_logs
from switchboard_runtime.batch import BatchPipeline
from switchboard_runtime.commits import OffsetCommitter
from switchboard_runtime.dispatch import On
from switchboard_runtime.dlq import SourceRecord
from switchboard_runtime.pipeline import CommandInvalid, CommandPipeline, DecodeRules
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.fields import ID_PATTERN
from switchboard_schemas.registry import AGENT_COMMAND_MODELS, WORKITEM_EVENT_MODELS
from switchboard_schemas.topics import AGENT_COMMANDS, WORKITEM_EVENTS, dlq_topic

EVENTS, COMMANDS, TENANT, MAX_BYTES, TIMEOUT_S = WORKITEM_EVENTS, AGENT_COMMANDS, "acme", 16384, 3
ROUTED = ("workitem.created", "workitem.cancel_requested")  # the router's, of the events
HANDLED = {EVENTS: {t: WORKITEM_EVENT_MODELS[t] for t in ROUTED}, COMMANDS: AGENT_COMMAND_MODELS}
MODELS = {**HANDLED[EVENTS], **HANDLED[COMMANDS]}
PARTITIONS = ((EVENTS, 0), (EVENTS, 1), (COMMANDS, 0), (COMMANDS, 2))
Headers = tuple[tuple[str, bytes], ...]
Fates = frozenset[str]  # "applied", "skipped" or "dlq:<error code>"
Path = tuple[str, ...]  # ("time",) in the envelope, ("data", "agent_id") in the payload
STAGE = {1: "not_cloudevent", 2: "schema_violation"}  # the code of an invalid value at a path
NULL = cast(bytes, None)  # Kafka header values are nullable: aiokafka hands them over as None


def dlq(*codes: str) -> Fates:
    return frozenset(f"dlq:{code}" for code in codes)


SKIPPED, APPLIED, BUG = frozenset({"skipped"}), frozenset({"applied"}), dlq("processing_error")
IDS = st.from_regex(ID_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 128)
TEXT = st.text(max_size=12)  # never a lone surrogate; any other character is fine
ZONES = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
EDGES = ["1970-01-01T00:00:00Z", "1970-01-01T01:00:00+01:00", "2199-12-31T23:59:59.999999Z"]
IN_RANGE = st.datetimes(datetime(1970, 1, 2), datetime(2199, 12, 30), timezones=ZONES)
TIMES = st.sampled_from(EDGES) | IN_RANGE.map(datetime.isoformat)
OVERFLOWING = ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"]  # not even in UTC
OUTSIDE = ["2200-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2199-12-31T20:00:00-05:00"]
FAR = st.datetimes(max_value=datetime(1969, 12, 30)) | st.datetimes(datetime(2200, 1, 2))
BAD_TIMES = st.sampled_from(OVERFLOWING + OUTSIDE) | FAR.map(lambda t: f"{t.isoformat()}+00:00")


def envelope(ce_id: str, ce_type: str, data: Any, **attrs: Any) -> dict[str, Any]:
    ev = {"specversion": "1.0", "id": ce_id, "source": "tests/properties", "type": ce_type}
    return {**ev, "time": "2025-03-01T09:30:00Z", "tenantid": TENANT, "data": data, **attrs}


def edited(ev: dict[str, Any], path: Path, literal: bytes | None = None) -> bytes:
    """``ev``'s JSON with ``literal`` (any bytes) at ``path``, or without that field."""
    copy = json.loads(json.dumps(ev))
    target = copy["data"] if len(path) == 2 else copy
    target.pop(path[-1], None)
    if literal is not None:
        target[path[-1]] = "@@hole@@"
    return json.dumps(copy).encode().replace(b'"@@hole@@"', literal or b"", 1)


def paths(ev: dict[str, Any], kind: str) -> list[Path]:
    data = [("data", k) for k, v in ev["data"].items() if isinstance(v, str) or kind != "strings"]
    if kind == "strings":  # not the type: a type nobody handles is skipped on the events topic
        return [("id",), ("source",), ("subject",), ("correlationid",), ("origin",), *data]
    if kind == "times":
        return [("time",), *(path for path in data if path[1].endswith("_at"))]
    if kind == "any":
        return [*((k,) for k in ("specversion", "id", "source", "type", "time", "data")), *data]
    return [(kind,)]  # that field of the envelope


DEEP_OBJECTS = st.integers(1000, 2000).map(lambda d: b"[" + b'{"a":' * d + b"1" + b"}" * d + b"]")
DEEP = DEEP_OBJECTS | st.integers(1000, 6000).map(lambda d: b"[" * d + b"]" * d)  # < 12 kB
LONE = [rb'"\ud800"', rb'"a\udfff"', rb'"\udc00\ud800"', rb'"\uDBFF!"']
NOT_UTF8 = [b'"\xff"', b'"x\xc0\x80"', b'"\xed\xa0\x80"', b'"\xe2\x82"', b'"\x80"']
NOT_A_NUMBER = [b"NaN", b"Infinity", b"-Infinity", b"1" + b"0" * 5000]
WRONG_TYPE = [b"[{}]", b"[[]]", b"[1]", b"1e400", b"-1e400"]  # no field takes those
SPLICES = [  # bad values, the paths they go to, the record's codes ("": its path's STAGE)
    (BAD_TIMES.map(lambda t: json.dumps(t).encode()), "times", ("",)),
    (DEEP, "any", ("not_json", "")),  # hypothesis raises the recursion limit: it may parse
    (st.sampled_from(LONE), "strings", ("not_json", "")),
    (st.sampled_from(LONE), "origin", ("not_json", "")),  # an extension attribute
    (st.sampled_from(NOT_UTF8), "strings", ("not_json",)),
    (st.sampled_from(NOT_A_NUMBER), "any", ("not_json",)),
    (st.sampled_from(WRONG_TYPE), "any", ("",)),
]


@st.composite
def mutated(draw: st.DrawFn, ev: dict[str, Any]) -> tuple[bytes | None, Fates]:
    """``ev`` spliced with a bad value, truncated, too big, not an object, or incomplete."""
    raw, kind = json.dumps(ev).encode(), draw(st.integers(0, 3))
    if kind == 0:
        literals, where, codes = draw(st.sampled_from(SPLICES))
        path = draw(st.sampled_from(paths(ev, where)))
        return edited(ev, path, draw(literals)), dlq(*(c or STAGE[len(path)] for c in codes))
    if kind == 1:
        return raw[: draw(st.integers(0, len(raw) - 1))], dlq("not_json")
    if kind == 2 and draw(st.booleans()):  # valid JSON but for the spaces that make it too big
        return raw + b" " * (MAX_BYTES - len(raw) + draw(st.integers(1, 64))), dlq("oversized")
    if kind == 2:
        other = draw(st.sampled_from([[ev], json.dumps(ev), None, 1, True, "x", []]))
        return json.dumps(other).encode(), dlq("not_json")
    required = [("data", n) for n, f in MODELS[ev["type"]].model_fields.items() if f.is_required()]
    path = draw(st.sampled_from([*paths(ev, "any")[:6], *required]))
    return edited(ev, path), dlq("schema_violation" if path == ("data",) else STAGE[len(path)])


KINDS = ("valid",) * 9 + ("mutated",) * 8 + ("tenant", "type", "noise")
BEHAVIOURS = ("ok",) * 6 + ("plan_bug", "plan_invalid", "exec_bug", "decode_bug")
FATES = {"ok": APPLIED, "plan_invalid": dlq("unroutable")}  # any other behaviour: BUG
NOISE = st.none() | st.binary(max_size=40) | st.text(max_size=20).map(str.encode)
ELSEWHERE = {"tenant": ("tenantid", "someone-else"), "type": ("type", "agent.dance")}
OPTIONAL = {"subject": IDS, "correlationid": IDS, "origin": TEXT}  # origin: an extension


@dataclass(frozen=True)
class Case:
    record: SourceRecord  # its key names its behaviour
    fates: Fates
    ce_id: str

    tp = property(lambda self: (self.record.topic, self.record.partition))  # its TopicPartition
    at = property(lambda self: (self.record.topic, self.record.partition, self.record.offset))


@st.composite
def record_of(draw: st.DrawFn, topic: str, partition: int, offset: int, n: int) -> Case:
    """A contract example in a varied envelope, unless its kind says not; its key: its plan's."""
    ce_type, kind = draw(st.sampled_from(sorted(HANDLED[topic]))), draw(st.sampled_from(KINDS))
    examples = cast(dict[str, Any], MODELS[ce_type].model_config["json_schema_extra"])
    attrs = draw(st.fixed_dictionaries({"time": TIMES}, optional=OPTIONAL))
    ev = envelope(f"ev-{n}", ce_type, dict(draw(st.sampled_from(examples["examples"]))), **attrs)
    value: bytes | None = json.dumps(ev, ensure_ascii=draw(st.booleans())).encode()
    behaviour, fates = draw(st.sampled_from(BEHAVIOURS)), dlq("not_json", "not_cloudevent")
    if kind == "noise":
        value, ev["type"], behaviour = draw(NOISE), "", "ok"
    elif kind in ELSEWHERE:  # someone else's: skipped on the shared events topic
        ev[ELSEWHERE[kind][0]], behaviour = ELSEWHERE[kind][1], "ok"
        value, fates = json.dumps(ev).encode(), dlq(f"unknown_{kind}")
        fates = SKIPPED if topic == EVENTS else fates
    elif kind == "mutated":
        (value, fates), behaviour = draw(mutated(ev)), "ok"
    else:
        fates = FATES.get(behaviour, BUG)
    named = [(("sb-type", ev["type"].encode()),), (("sb-type", NULL),)] if ev["type"] else []
    headers = draw(st.sampled_from([(), *named]))
    record = SourceRecord(topic, partition, offset, behaviour.encode(), value, headers)
    return Case(record, fates, f"ev-{n}")


@st.composite
def streams(draw: st.DrawFn) -> list[list[Case]]:  # batches; offsets grow, with gaps
    next_offset = {p: draw(st.integers(0, 10**9)) for p in PARTITIONS}
    cases = []
    for n in range(draw(st.integers(1, 24))):
        p = draw(st.sampled_from(PARTITIONS))
        cases.append(draw(record_of(*p, next_offset[p], n)))
        next_offset[p] += draw(st.integers(1, 2))
    cuts = sorted({0, len(cases), *draw(st.lists(st.integers(1, len(cases)), max_size=5))})
    return [cases[start:end] for start, end in itertools.pairwise(cuts)]


class Buggy(CommandPipeline):  # the real pipeline, with a bug for records keyed decode_bug
    async def decode(self, record: SourceRecord) -> tuple[CloudEvent, BaseModel] | None:
        if record.key == b"decode_bug":
            raise RuntimeError("a bug on the way to decode_command")
        return await super().decode(record)


class World:
    """The DLQ producer, committing consumer and Redis with scripts the pipelines talk to."""

    def __init__(self, stream: list[list[Case]]) -> None:
        self.stream, self.cases = stream, [case for batch in stream for case in batch]
        self.behaviour = {case.ce_id: (case.record.key or b"").decode() for case in self.cases}
        self.applied, self.passed, self.dead = list[str](), list[Case](), dict[Any, Any]()
        self.sends, self.committed = 0, dict[TopicPartition, int]()
        common: dict[str, Any] = {"service": "props", "tenant": TENANT, "attempts": 1}
        common |= {"max_bytes": MAX_BYTES, "default_region": "US"}
        rules = partial(DecodeRules, **common)  # events: a shared topic, others' are skipped
        self.decoders = {
            t: Buggy(
                rules(models=ms, ignore_unknown_types=t == EVENTS),
                cast(AIOKafkaProducer, self),
                {ce: On(m, self.handle) for ce, m in ms.items()},
            )
            for t, ms in HANDLED.items()
        }
        plans = {t: {ce: On(m, self.plan) for ce, m in ms.items()} for t, ms in HANDLED.items()}
        self.pipeline = BatchPipeline(self.decoders, plans, self.execute, service="props")
        self.committer = OffsetCommitter()

    async def send_and_wait(self, topic: str, value: bytes, key: bytes, headers: Headers) -> None:
        h, self.sends = dict(headers), self.sends + 1
        source = h["sb-source-topic"].decode(), h["sb-source-partition"], h["sb-source-offset"]
        self.dead[(source[0], int(source[1]), int(source[2]))] = (topic, value, key, h)

    def plan(self, event: CloudEvent, _payload: BaseModel) -> str:
        bug = self.behaviour.get(event.id)
        if bug in ("plan_bug", "plan_invalid"):  # a bug, or a command that cannot be applied
            raise KeyError(event.id) if bug == "plan_bug" else CommandInvalid("unroutable", "?")
        return event.id

    async def execute(self, plans: Sequence[str]) -> list[str]:
        for plan in plans:  # a failing script leaves the ones before it applied
            if self.behaviour.get(plan) == "exec_bug":
                raise RuntimeError(f"ERR user_script: {plan}")
            self.applied += [] if plan in self.applied else [plan]
        return ["applied"] * len(plans)

    async def handle(self, event: CloudEvent, payload: BaseModel) -> str:
        return (await self.execute([self.plan(event, payload)]))[0]

    def fate(self, case: Case) -> set[str]:
        dead = self.dead.get(case.at)
        fate = {f"dlq:{dead[3]['sb-error'].decode()}"} if dead else set()
        return fate | ({"applied"} if case.ce_id in self.applied else set())

    def check_offsets(self, upto: Mapping[Any, int]) -> None:  # the unsettled below upto
        unsettled = [c for c in self.cases if not self.fate(c) and c.fates != SKIPPED]
        self.passed += [c for c in unsettled if c.record.offset < upto.get(c.tp, -1)]

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.update(offsets)

    def hand_over(self, records: list[SourceRecord]) -> None:
        self.check_offsets({(r.topic, r.partition): r.offset + 1 for r in records})
        self.committer.applied(self, records)

    async def route(self) -> World:  # what router.handlers.on_router_batch does
        for records in ([case.record for case in batch] for batch in self.stream):
            applied = partial(self.hand_over, records)
            await asyncio.wait_for(self.pipeline.submit(records, applied), TIMEOUT_S)
        await asyncio.wait_for(self.pipeline.close(), TIMEOUT_S)
        await asyncio.wait_for(self.committer.flush(), TIMEOUT_S)
        return self

    async def handle_each(self) -> World:  # a service's subscriber: commit once handled
        for case in self.cases:
            await asyncio.wait_for(self.decoders[case.record.topic].handle(case.record), TIMEOUT_S)
            self.check_offsets({case.tp: case.record.offset + 1})
        return self

    def check(self) -> None:
        """Each record met one of its fates, in partition order; no offset passed it unsettled."""
        assert self.sends == len(self.dead), "a record was dead-lettered twice"
        assert set(self.dead) <= {case.at for case in self.cases}
        for case, r in ((case, case.record) for case in self.cases):
            fate, dead = self.fate(case) or {"skipped"}, self.dead.get(case.at)
            assert len(fate) == 1, (fate, case)
            assert fate <= case.fates, (fate, case)
            assert not dead or dead[:3] == (dlq_topic(r.topic), r.value, r.key)
            assert not dead or dead[3]["sb-error-detail"]
        partition_of = {case.ce_id: case.tp for case in self.cases}
        for tp in PARTITIONS:
            expected = [c.ce_id for c in self.cases if c.tp == tp and c.fates == APPLIED]
            assert [i for i in self.applied if partition_of[i] == tp] == expected
        assert self.passed == [], "offsets passed records neither applied nor dead-lettered"


def case(n: int, topic: str, ce_type: str, data: Any, fates: Fates, **attrs: Any) -> Case:
    headers, bug = attrs.pop("headers", ()), attrs.pop("bug", "ok")
    value = json.dumps(envelope(f"ev-{n}", ce_type, data, **attrs)).encode()
    return Case(SourceRecord(topic, 0, n, bug.encode(), value, headers), fates, f"ev-{n}")


ACCEPT = {"agent_id": "agent-1", "offer_id": "of-1", "work_item_id": "wi-1"}
CREATED = {"work_item_id": "wi-1", "type": "task", "created_at": "2025-03-01T09:30:00Z"}
EXPLICIT = [  # issue 9, what this test found, and the brief's own examples of wrong types
    case(0, COMMANDS, "offer.accept", ACCEPT, dlq("not_cloudevent"), time=OVERFLOWING[0]),
    case(1, COMMANDS, "offer.accept", ACCEPT, APPLIED),
    case(2, EVENTS, "workitem.created", CREATED, dlq("not_json"), origin="\ud800"),
    case(3, EVENTS, "workitem.created", CREATED, APPLIED, headers=(("sb-type", NULL),)),
    case(4, EVENTS, "workitem.cancel_requested", {"work_item_id": "wi-1"}, APPLIED),
    case(5, COMMANDS, "offer.accept", ACCEPT, BUG, bug="decode_bug"),
    case(6, COMMANDS, "offer.accept", ACCEPT, dlq("not_cloudevent"), type=[]),
    case(7, COMMANDS, "offer.accept", "x", dlq("not_cloudevent")),
    case(8, EVENTS, "workitem.created", {**CREATED, "priority": {}}, dlq("schema_violation")),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example([EXPLICIT])
@given(streams())
def test_a_bad_record_costs_only_itself_in_a_batch_and_alone(stream: list[list[Case]]) -> None:
    with capture_logs(), asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:  # its own
        batched, alone = runner.run(World(stream).route()), runner.run(World(stream).handle_each())
    batched.check()
    assert batched.committed == {case.tp: case.record.offset + 1 for case in batched.cases}
    alone.check()
