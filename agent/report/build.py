"""Building a report: check what was asked for, read the facts, count them by group.

``ReportRequest`` is what a person asks (days, workspaces, clients); ``build_report``
checks it against the home's configuration and the store (an unknown workspace or
client, or a date range that ends before it starts, is a ``ReportError`` naming it),
reads the facts once and counts every measure in total, by ISO week, by client and
by workspace, and every detail table in total. ``visible`` are the workspaces the
person may see (None: all, an admin): the rows of the others never leave the database,
and naming one is the same error as naming one that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlmodel import select

from agent import days
from agent.errors import UserError
from agent.report import compute, tables
from agent.report.compute import Ratio, Value
from agent.report.facts import Facts, ItemFacts, RunFact, Scope, TakeoverFact, read_facts
from agent.report.measures import MEASURES
from agent.store import Item, Run, Store, utcnow

UNCONFIGURED = "(not configured)"
T = TypeVar("T")


class ReportError(UserError):
    """A report request that names something that does not exist, or a bad date."""


@dataclass(frozen=True)
class ReportRequest:
    since: date | None = None
    until: date | None = None
    workspaces: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()


def parse_day(what: str, value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` day, or ReportError naming the option (empty: no bound)."""
    return days.parse_day(what, value, ReportError)


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Group:
    """One group's values (a client's, a workspace's): in total and by week."""

    total: dict[str, Value]
    weeks: dict[str, dict[str, Value]]


@dataclass
class Report:
    generated_at: datetime
    request: ReportRequest
    workspaces: list[str]  # in the report
    clients: dict[str, str]  # workspace -> client
    first_seen: datetime | None
    last_seen: datetime | None
    total: dict[str, Value]
    weeks: dict[str, dict[str, Value]]
    by_client: dict[str, Group]
    by_workspace: dict[str, Group]
    tables: dict[str, tables.Table] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-ready data (every measure of every group and week)."""

        def group(g: Group) -> dict[str, Any]:
            return {"total": _plain(g.total), "weeks": {w: _plain(v) for w, v in g.weeks.items()}}

        return {
            "generated_at": self.generated_at.isoformat(),
            "since": self.request.since.isoformat() if self.request.since else None,
            "until": self.request.until.isoformat() if self.request.until else None,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "workspaces": self.workspaces,
            "clients": self.clients,
            "definitions": {
                m.key: {"label": m.label, "unit": m.unit.value, "definition": m.definition}
                for m in MEASURES
            },
            "total": _plain(self.total),
            "weeks": {w: _plain(v) for w, v in self.weeks.items()},
            "by_client": {c: group(g) for c, g in self.by_client.items()},
            "by_workspace": {w: group(g) for w, g in self.by_workspace.items()},
            "tables": {k: {**t.to_dict(), "rows": [_plain(r) for r in t.rows]}
                       for k, t in self.tables.items()},
        }  # fmt: skip


def plain(value: Value) -> Any:
    """A value as JSON holds it (a ratio keeps its numerator and denominator)."""
    if isinstance(value, Ratio):
        share = value.share
        return {"num": value.num, "den": value.den, "share": share}
    if isinstance(value, float):
        return round(value, 3)
    return value


def _plain(values: Mapping[str, Value]) -> dict[str, Any]:
    return {k: plain(v) for k, v in values.items()}


def _known_workspaces(store: Store, configured: Collection[str]) -> set[str]:
    with store.session() as s:
        stored = set(s.exec(select(Item.workspace).distinct()).all())
        stored |= set(s.exec(select(Run.workspace).distinct()).all())
    return set(configured) | stored


def _scope_workspaces(
    request: ReportRequest,
    known: set[str],
    clients: Mapping[str, str],
    visible: Collection[str] | None,
) -> frozenset[str] | None:
    """The workspaces the report covers (None: every one), or ReportError."""
    seen = known if visible is None else known & set(visible)
    for ws in request.workspaces:
        if ws not in seen:
            shown = ", ".join(sorted(seen)) or "none"
            raise ReportError(f"unknown workspace {ws[:80]!r} (known: {shown})")
    chosen: set[str] | None = set(request.workspaces) if request.workspaces else None
    if request.clients:
        names = {clients.get(ws, UNCONFIGURED) for ws in seen}
        by_fold = {n.casefold(): n for n in names}
        wanted = set()
        for name in request.clients:
            if name.strip().casefold() not in by_fold:
                shown = ", ".join(sorted(names)) or "none"
                raise ReportError(f"unknown client {name[:80]!r} (known: {shown})")
            wanted.add(by_fold[name.strip().casefold()])
        of_clients = {ws for ws in seen if clients.get(ws, UNCONFIGURED) in wanted}
        chosen = of_clients if chosen is None else chosen & of_clients
    if chosen is None and visible is not None:
        chosen = set(seen)
    return None if chosen is None else frozenset(chosen)


def _values(
    items: list[ItemFacts], runs: list[RunFact], takeovers: list[TakeoverFact], now: datetime
) -> dict[str, Value]:
    values = compute.item_values(items, now)
    values.update(compute.run_values(runs, takeovers))
    return {m.key: values.get(m.key) for m in MEASURES}


def _split(rows: list[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    out: dict[str, list[T]] = defaultdict(list)
    for row in rows:
        out[key(row)].append(row)
    return out


def _by_week(facts: Facts, now: datetime, weeks: list[str]) -> dict[str, dict[str, Value]]:
    items = _split(facts.items, lambda i: iso_week(i.seen_at))
    runs = _split(facts.runs, lambda r: iso_week(r.started_at))
    taken = _split(facts.takeovers, lambda t: iso_week(t.started_at))
    return {w: _values(items.get(w, []), runs.get(w, []), taken.get(w, []), now) for w in weeks}


def _groups(facts: Facts, now: datetime, key: Callable[[str], str]) -> dict[str, Group]:
    names = sorted(
        {key(i.workspace) for i in facts.items}
        | {key(r.workspace) for r in facts.runs}
        | {key(t.workspace) for t in facts.takeovers}
    )
    out = {}
    for name in names:
        part = Facts(
            [i for i in facts.items if key(i.workspace) == name],
            [r for r in facts.runs if key(r.workspace) == name],
            [t for t in facts.takeovers if key(t.workspace) == name],
        )
        weeks = _weeks(part)
        total = _values(part.items, part.runs, part.takeovers, now)
        out[name] = Group(total, _by_week(part, now, weeks))
    return out


def _weeks(facts: Facts) -> list[str]:
    found = {iso_week(i.seen_at) for i in facts.items}
    found |= {iso_week(r.started_at) for r in facts.runs}
    found |= {iso_week(t.started_at) for t in facts.takeovers}
    return sorted(found)


def build_report(
    store: Store,
    clients: Mapping[str, str],
    request: ReportRequest,
    *,
    visible: Collection[str] | None = None,
    now: datetime | None = None,
) -> Report:
    """The report ``request`` asks for; ``clients`` maps each configured workspace to its
    client (``Workspace.client``); a workspace only the store knows is "(not configured)"."""
    if request.since and request.until and request.since > request.until:
        raise ReportError(f"--since {request.since} is after --until {request.until}")
    now = now or utcnow()
    known = _known_workspaces(store, clients)
    chosen = _scope_workspaces(request, known, clients, visible)
    with store.session() as s:
        facts = read_facts(s, Scope(request.since, request.until, chosen))
    client_of = {ws: clients.get(ws, UNCONFIGURED) for ws in known}
    names = sorted({i.workspace for i in facts.items} | {r.workspace for r in facts.runs})
    seen = [i.seen_at for i in facts.items]
    report = Report(
        generated_at=now,
        request=request,
        workspaces=names if chosen is None else sorted(chosen),
        clients={ws: client_of.get(ws, UNCONFIGURED) for ws in (chosen or names)},
        first_seen=min(seen) if seen else None,
        last_seen=max(seen) if seen else None,
        total=_values(facts.items, facts.runs, facts.takeovers, now),
        weeks=_by_week(facts, now, _weeks(facts)),
        by_client=_groups(facts, now, lambda ws: client_of.get(ws, UNCONFIGURED)),
        by_workspace=_groups(facts, now, lambda ws: ws),
    )
    report.tables = _tables(facts, now)
    return report


def _tables(facts: Facts, now: datetime) -> dict[str, tables.Table]:
    made = [
        tables.times(facts.items),
        tables.escalations(facts.items),
        tables.pauses(facts.items),
        tables.sla_table(facts.items, now, "priority"),
        tables.sla_table(facts.items, now, "intent"),
        tables.load_by_queue(facts.items),
        tables.rework_by_intent(facts.items),
        tables.sweeps_by_workspace(facts.runs, facts.takeovers),
        tables.stops(facts.runs),
        tables.outbox_failures(facts.items),
    ]
    return {t.key: t for t in made}
