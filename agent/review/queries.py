"""What the review queue reads: pending items with their latest decision, one item in detail.

Every query takes the set of workspaces the person may see (None for an admin)
and filters on it in SQL, so an ungranted workspace's rows never leave the
database. An item's *draft hash* fingerprints what a reviewer saw (the item's
text and status, the decision and its draft); an approval carrying an old hash
is refused. An item id outside the store's range (1 to ``MAX_ID``) is simply absent,
and a filter value nobody could have stored is refused (``check_filter``) rather than
answered with an empty page.
"""

from __future__ import annotations

import hashlib
import json
import math
import shlex
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.sql import operators as sa_operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import Session, col, func, select

from agent.days import parse_day
from agent.review.errors import ReviewError
from agent.store import Decision, Item, ItemStatus, OutboxEntry, Review, Takeover, utcnow
from agent.store.types import this_host
from devices.errors import DriverError
from devices.factory import sandbox_url
from devices.models import DeviceEntry
from devices.playwright_driver import chromium_path as _chromium
from flows.runner import expand_env
from workspaces.models import BrowserProfile, Workspace
from workspaces.paths import Home

if TYPE_CHECKING:
    from agent.config import Catalog

PENDING = (ItemStatus.TRIAGED.value, ItemStatus.IN_REVIEW.value, ItemStatus.PAUSED.value)
STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {
    "pending": PENDING,
    "approved": (ItemStatus.APPROVED.value, ItemStatus.REPLIED.value),
    "resolved": (ItemStatus.RESOLVED.value,),
    "dropped": (ItemStatus.DROPPED.value,),
    # members of another item's case, and a customer's repeats merged into their first item
    "in_case": (ItemStatus.IN_CASE.value,),
    "merged": (ItemStatus.MERGED.value,),
    "all": None,
}
SLA_STATES = ("breached", "due_soon", "ok", "none")
PRIORITIES = ("P1", "P2", "P3", "none")
# The largest id the store's integer keys hold on every backend: sa.Integer is 32 bits
# on PostgreSQL (64 on SQLite, where 2^31 rows is far beyond any store's reach).
MAX_ID = 2**31 - 1
DUE_SOON = timedelta(minutes=30)
PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 200)
MAX_QUERY = 500  # characters of search input
MAX_WORDS = 16  # search words used (the rest are ignored)


def draft_hash(item: Item, decision: Decision | None) -> str:
    """A short fingerprint of everything an approval depends on."""
    parts: list[Any] = [item.id, item.text, item.status]
    if decision is not None:
        parts += [decision.id, decision.action, decision.draft, decision.owner]
    blob = json.dumps(parts, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def sla_state(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "none"
    if due <= now:
        return "breached"
    return "due_soon" if due - now <= DUE_SOON else "ok"


def format_left(due: datetime | None, now: datetime) -> str:
    """``"1h 05m left"``, ``"12m overdue"`` or ``"no SLA"``."""
    if due is None:
        return "no SLA"
    seconds = int((due - now).total_seconds())
    text = format_span(seconds)
    return f"{text} left" if seconds > 0 else f"{text} overdue"


def format_span(seconds: float) -> str:
    """A length of time as the queue writes it: ``"12m"``, ``"1h 05m"``, ``"3d 4h"``."""
    minutes = int(abs(seconds)) // 60
    text = f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
    if minutes >= 48 * 60:
        text = f"{minutes // 1440}d {minutes % 1440 // 60}h"
    return text


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: the filters, the search words and which page.

    ``q`` are search words, matched against the item's text and author with the
    database's own full-text search (see ``search_words``). ``author`` is one author,
    matched exactly but ignoring case (as the database lowers letters: SQLite only the
    ASCII ones), against the author's name or handle.
    ``mine`` keeps the items assigned to the signed-in user: those whose latest
    decision's owner (what the queue's "owner" column and a reassign set) is the
    user's name. ``since`` and ``until`` are UTC days, both included, on the item's
    ``seen_at`` (when a sweep first stored it: always known, unlike ``posted_at``,
    which is only what the screen showed). ``page_size`` is one of ``PAGE_SIZES``;
    a page past the last one shows the last one.
    """

    workspace: str | None = None
    intent: str | None = None
    priority: str | None = None
    sla: str | None = None
    status: str = "pending"
    page: int = 1
    q: str | None = None
    author: str | None = None
    mine: bool = False
    since: date | None = None
    until: date | None = None
    page_size: int = PAGE_SIZE
    due: bool = False


def valid_id(item_id: int) -> bool:
    """True when ``item_id`` could name a stored row (else it is absent, not an error)."""
    return 0 < item_id <= MAX_ID


class BadFilter(ReviewError):
    """A queue filter value that names no status, priority, SLA state or intent (400)."""


def default_intents() -> list[str]:
    from agent.triage import load_config  # the default taxonomy (configuration)

    return list(load_config().taxonomy.intents)


def known_intents(home: Home, catalog: Catalog) -> list[str]:
    """The intents triage can assign in this home: the default taxonomy's, then those a
    workspace's own triage file adds (a file that does not load adds none)."""
    from agent.triage import load_config
    from agent.triage.errors import TriageConfigError

    out = default_intents()
    for loaded in catalog.workspaces.values():
        if loaded.model.triage is None:
            continue
        try:
            extra = load_config(home.root / loaded.model.triage).taxonomy.intents
        except (TriageConfigError, OSError):
            continue  # validate reports it
        out += [i for i in extra if i not in out]
    return out


def check_filter(f: QueueFilter, intents: Collection[str]) -> QueueFilter:
    """``f`` when every value it names exists; else BadFilter naming the value and the choices.

    ``intents`` are the ones triage can assign (the taxonomies in use); empty values
    mean "all" and pass.
    """
    choices: list[tuple[str, str | None, Collection[str]]] = [
        ("status", f.status, list(STATUS_FILTERS)),
        ("priority", f.priority, PRIORITIES),
        ("sla", f.sla, SLA_STATES),
        ("intent", f.intent, intents),
    ]
    for what, value, known in choices:
        if value and value not in known:
            raise BadFilter(f"unknown {what} {_shown(value)!r} (known: {', '.join(known)})")
    _check_shape(f)
    return f


def _shown(value: str) -> str:
    return value if len(value) <= 60 else value[:60] + "…"


def _check_shape(f: QueueFilter) -> None:
    """The checks that need no taxonomy: page size, lengths, the date range."""
    if f.page_size not in PAGE_SIZES:
        allowed = ", ".join(map(str, PAGE_SIZES))
        raise BadFilter(f"page size {f.page_size} is not one of {allowed}")
    if f.q and len(f.q) > MAX_QUERY:
        raise BadFilter(f"search text is longer than {MAX_QUERY} characters")
    if f.author and len(f.author) > 255:
        raise BadFilter("author is longer than 255 characters (no stored author is)")
    if f.author and any(unicodedata.category(ch) in ("Cc", "Cs") for ch in f.author):
        raise BadFilter("author holds control characters (no stored author does)")
    if f.since and f.until and f.since > f.until:
        raise BadFilter(f"the date range starts ({f.since}) after it ends ({f.until})")


# The queue's query string parameters that are filters (what a saved view may hold).
FILTER_KEYS = (
    "workspace", "intent", "priority", "sla", "status",
    "q", "author", "mine", "since", "until", "page_size", "due",
)  # fmt: skip
_YES, _NO = ("1", "true", "on", "yes"), ("", "0", "false", "off", "no")


def _parse_int(what: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise BadFilter(f"{what} {_shown(value)!r} is not a whole number") from None


def _yes_no(what: str, value: str | None) -> bool:
    said = (value or "").strip().lower()
    if said not in _YES + _NO:
        raise BadFilter(f"{what} {_shown(said)!r} is not yes or no (use 1 or 0)")
    return said in _YES


def filter_from_params(params: Mapping[str, str | None]) -> QueueFilter:
    """The QueueFilter a query string names (``FILTER_KEYS`` and ``page``; other keys are
    ignored), or BadFilter naming the value that is not a date, number or yes/no.

    Empty values mean "all", as in the queue's links. Values that must name something
    the taxonomy knows (status, intent…) are checked by ``check_filter``.
    """

    def text(key: str) -> str | None:
        value = params.get(key)
        return value.strip() or None if value else None

    mine, due = _yes_no("mine", params.get("mine")), _yes_no("due", params.get("due"))
    page = _parse_int("page", params.get("page"), 1)
    if not 1 <= page <= 1_000_000:
        raise BadFilter(f"page {page} is not between 1 and 1000000")
    f = QueueFilter(
        workspace=text("workspace"),
        intent=text("intent"),
        priority=text("priority"),
        sla=text("sla"),
        status=text("status") or "pending",
        page=page,
        q=text("q"),
        author=text("author"),
        mine=mine,
        since=parse_day("since", params.get("since"), BadFilter),
        until=parse_day("until", params.get("until"), BadFilter),
        page_size=_parse_int("page size", params.get("page_size"), PAGE_SIZE),
        due=due,
    )
    _check_shape(f)
    return f


def filter_params(f: QueueFilter) -> dict[str, str]:
    """The query string parameters of ``f``'s filters (defaults left out; no ``page``)."""
    out = {
        "workspace": f.workspace or "",
        "intent": f.intent or "",
        "priority": f.priority or "",
        "sla": f.sla or "",
        "status": "" if f.status == "pending" else f.status,
        "q": f.q or "",
        "author": f.author or "",
        "mine": "1" if f.mine else "",
        "since": f.since.isoformat() if f.since else "",
        "until": f.until.isoformat() if f.until else "",
        "page_size": "" if f.page_size == PAGE_SIZE else str(f.page_size),
        "due": "1" if f.due else "",
    }
    return {k: v for k, v in out.items() if v}


@dataclass
class QueueRow:
    item: Item
    decision: Decision | None
    sla: str
    left: str
    # the case this row's item is the first of: members, platforms, threads, oldest SLA
    # (an ``agent.review.cases.CaseSummary``; None: not a case)
    case: Any = None


@dataclass
class QueuePage:
    """One page of the queue: its rows, how many items match, and where it is."""

    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    now: datetime = field(default_factory=utcnow)
    page_size: int = PAGE_SIZE


def search_words(q: str | None) -> list[str]:
    """The words of search input, as plain text the database's search never reads as syntax.

    A word is a run of letters, digits and combining marks in any script; everything
    else (quotes, ``*``, ``-``, ``:``, parentheses, punctuation) only separates words, so
    ``NEAR``, ``AND`` or ``OR`` are words like any other. At most ``MAX_WORDS`` are
    used. Input with no word (empty, only punctuation) means no search.
    """
    words: list[str] = []
    current: list[str] = []
    for ch in (q or "")[:MAX_QUERY] + " ":
        if unicodedata.category(ch)[0] in "LNM":
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    return list(dict.fromkeys(words))[:MAX_WORDS]


def fts5_query(words: Sequence[str]) -> str:
    """An FTS5 MATCH expression: every word, each a quoted prefix token (``"refun"*``)."""
    return " ".join(f'"{w}"*' for w in words)


def tsquery_text(words: Sequence[str]) -> str:
    """A ``to_tsquery`` input: every word, each a quoted prefix lexeme (``'refun':*``)."""
    return " & ".join(f"'{w}':*" for w in words)


# PostgreSQL: the expression the GIN index ix_items_search is built on (migration 0009);
# a query must use the very same expression for the index to serve it.
PG_SEARCH_VECTOR = "to_tsvector('simple'::regconfig, items.author || ' ' || items.text)"


def _search_condition(words: Sequence[str], dialect: str, *, steer: bool = False) -> Any:
    """Items whose text or author holds every word (as a word or a word's beginning).

    SQLite: the FTS5 table ``items_fts`` (unicode61: case folded for every script,
    accents kept). PostgreSQL: ``to_tsvector('simple', …)`` through a GIN index
    (lower-cased as the database's locale does; accents kept). On both, "cafe" does
    not find "café", and a text in a script written without spaces (Japanese, Chinese)
    is one word per run of characters, found by its start.
    """
    if dialect == "postgresql":
        return sa.text(
            f"{PG_SEARCH_VECTOR} @@ to_tsquery('simple'::regconfig, :search_q)"
        ).bindparams(search_q=tsquery_text(words))
    fts = sa.table("items_fts", sa.column("rowid"))
    match = sa.literal_column("items_fts").op("MATCH")(fts5_query(words))
    return _plus(col(Item.id), steer).in_(sa.select(fts.c.rowid).where(match))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _plus(column: Any, steer: bool) -> Any:
    """``column``, or on SQLite ``+column``: the same value, but a term SQLite's planner
    may not use an index for (its documented way to steer a plan)."""
    if not steer:
        return column
    return UnaryExpression(column, operator=sa_operators.custom_op("+"), type_=column.type)


def _split_conditions(
    f: QueueFilter,
    visible: set[str] | None,
    now: datetime,
    *,
    d: Any = Decision,
    user: str | None = None,
    dialect: str = "sqlite",
    steer: bool = False,
) -> tuple[list[Any], list[Any]]:
    """The WHERE terms on the item, and those on its latest decision ``d``.

    ``steer``: the item terms are written so no index on ``items`` serves them (SQLite's
    fast page walks the decisions in deadline order instead).
    """
    cond: list[Any] = []
    workspace = _plus(col(Item.workspace), steer)
    if visible is not None:
        cond.append(workspace.in_(sorted(visible)))
    if f.workspace:
        cond.append(workspace == f.workspace)
    statuses = STATUS_FILTERS.get(f.status, PENDING)
    if statuses is not None:
        cond.append(_plus(col(Item.status), steer).in_(statuses))
    seen = _plus(col(Item.seen_at), steer)
    if f.since:
        cond.append(seen >= _day_start(f.since))
    if f.until:
        cond.append(seen < _day_start(f.until + timedelta(days=1)))
    if f.due:
        cond.append(_plus(col(Item.follow_up_on), steer) <= now.date())
    if f.author:  # the database lowers both sides, so they are lowered alike
        who = func.lower(sa.literal(f.author.strip(), sa.String))
        cond.append(
            sa.or_(func.lower(col(Item.author)) == who, func.lower(col(Item.author_handle)) == who)
        )
    words = search_words(f.q)
    if words:
        cond.append(_search_condition(words, dialect, steer=steer))
    on_decision: list[Any] = []
    if f.mine:
        if not user:
            raise BadFilter("'assigned to me' needs a signed-in user")
        on_decision.append(d.owner == user)
    if f.intent:
        on_decision.append(d.intent == f.intent)
    if f.priority:
        on_decision.append(d.priority == f.priority)
    due = d.sla_due_at
    if f.sla == "breached":
        on_decision.append(due <= now)
    elif f.sla == "due_soon":
        on_decision.append(sa.and_(due > now, due <= now + DUE_SOON))
    elif f.sla == "ok":
        on_decision.append(due > now + DUE_SOON)
    elif f.sla == "none":
        on_decision.append(due.is_(None))
    return cond, on_decision


def _conditions(
    f: QueueFilter,
    visible: set[str] | None,
    now: datetime,
    *,
    user: str | None = None,
    dialect: str = "sqlite",
) -> tuple[list[Any], bool]:
    """The WHERE terms (on ``Item`` and ``Decision``), and whether any needs the decision."""
    on_item, on_decision = _split_conditions(f, visible, now, user=user, dialect=dialect)
    return on_item + on_decision, bool(on_decision)


def _is_latest(d: Any) -> Any:
    """``d`` is its item's newest decision (no decision of the item has a higher id)."""
    newer = sa.orm.aliased(Decision)
    return ~sa.exists().where(col(newer.item_id) == d.item_id, col(newer.id) > d.id)


def _latest() -> Any:
    """Every item's newest decision, as a subquery joined to the items (PostgreSQL runs it
    as one hash anti-join, SQLite as an index probe per item)."""
    return sa.orm.aliased(
        Decision, sa.select(Decision).where(_is_latest(Decision)).subquery("latest")
    )


def status_counts(
    session: Session, visible: set[str] | None, workspace: str | None = None
) -> dict[str, int]:
    """How many items each status filter holds (workspace grants applied), for the chips:
    so dropped items, which a person may want to restore, are never out of sight."""
    if visible is not None and not visible:
        return dict.fromkeys(STATUS_FILTERS, 0)
    # Grouped by workspace too, in the order of ix_items_queue: no sort, no temporary table.
    stmt = sa.select(col(Item.status), func.count()).group_by(col(Item.workspace), col(Item.status))
    if visible is not None:
        stmt = stmt.where(col(Item.workspace).in_(sorted(visible)))
    if workspace:
        stmt = stmt.where(col(Item.workspace) == workspace)
    by_status: dict[str, int] = {}
    for status, n in session.execute(stmt).all():
        by_status[status] = by_status.get(status, 0) + int(n)
    return {
        name: sum(n for st, n in by_status.items() if statuses is None or st in statuses)
        for name, statuses in STATUS_FILTERS.items()
    }


def queue(
    session: Session,
    f: QueueFilter,
    visible: set[str] | None,
    *,
    user: str | None = None,
    page_size: int | None = None,
) -> QueuePage:
    """One page of the queue, soonest SLA deadline first (no deadline last), then the
    item seen first, then the lower id.

    ``user`` is the viewer's name (what ``f.mine`` matches); ``page_size`` overrides
    ``f.page_size``. With many items: the total is counted on the items alone when no
    filter needs the decision; a page near the start is read by walking the decisions in
    deadline order (``_early_page``); any other page sorts the matching items' ids in
    SQL. Only the ids of one page are sorted and cut, then just those rows are loaded.
    """
    if page_size is None:
        _check_shape(f)
        page_size = f.page_size
    elif page_size < 1:
        raise BadFilter(f"page size {page_size} is not one of {', '.join(map(str, PAGE_SIZES))}")
    now = utcnow()
    if visible is not None and not visible:
        return QueuePage([], 0, 1, 1, now, page_size)
    dialect = session.get_bind().dialect.name
    latest = _latest()
    on_item, on_decision = _split_conditions(f, visible, now, d=latest, user=user, dialect=dialect)
    counted = sa.select(func.count()).select_from(Item)
    if on_decision:
        counted = counted.outerjoin(latest, latest.item_id == col(Item.id))
    total = int(session.execute(counted.where(*on_item, *on_decision)).scalar_one())
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, f.page), pages)
    offset = (page - 1) * page_size
    early = None
    if total:
        early = _early_page(session, f, visible, now, user, dialect, total, offset, page_size)
    ids: list[Any] = early if early is not None else []
    if early is None:
        # A page past the middle is cut from the far end (the sort keeps fewer rows).
        due = latest.sla_due_at
        order = [due.is_(None), due, col(Item.seen_at), col(Item.id)]
        backwards = offset + page_size > total - offset
        if backwards:
            order = [term.desc() for term in order]
        stmt = (
            sa.select(col(Item.id), latest.id)
            .select_from(Item)
            .outerjoin(latest, latest.item_id == col(Item.id))
            .where(*on_item, *on_decision)
            .order_by(*order)
        )
        if backwards:
            stmt = stmt.offset(max(0, total - offset - page_size)).limit(
                min(page_size, total - offset)
            )
        else:
            stmt = stmt.offset(offset).limit(page_size)
        ids = list(session.execute(stmt).all())
        if backwards:
            ids.reverse()
    items = {
        i.id: i for i in session.exec(select(Item).where(col(Item.id).in_([r[0] for r in ids])))
    }
    wanted = [r[1] for r in ids if r[1] is not None]
    decisions = {
        d.id: d for d in session.exec(select(Decision).where(col(Decision.id).in_(wanted)))
    }
    rows = []
    for item_id, decision_id in ids:
        decision = decisions.get(decision_id)
        due_at = decision.sla_due_at if decision else None
        rows.append(
            QueueRow(items[item_id], decision, sla_state(due_at, now), format_left(due_at, now))
        )
    _with_cases(session, rows, now)
    return QueuePage(rows, total, page, pages, now, page_size)


def _with_cases(session: Session, rows: list[QueueRow], now: datetime) -> None:
    """A case's row carries its summary, and the SLA of its oldest member."""
    from agent.review import cases  # it builds on this module

    found = cases.summaries(
        session, [r.item.id for r in rows if r.item.id and r.item.case_id == r.item.id]
    )
    for r in rows:
        r.case = found.get(r.item.id or 0)
        if r.case is not None:
            r.sla, r.left = sla_state(r.case.oldest_due, now), format_left(r.case.oldest_due, now)


# A page near the queue's start is read from the decisions with the soonest deadlines: at
# most this many, found through ix_decisions_due, whatever the filters.
EARLY_SCAN = 10_000


def _early_page(
    session: Session,
    f: QueueFilter,
    visible: set[str] | None,
    now: datetime,
    user: str | None,
    dialect: str,
    total: int,
    offset: int,
    limit: int,
) -> list[Any] | None:
    """The page's (item id, decision id) rows, read by walking the decisions in deadline
    order, or None when that walk would be long or does not fill the page.

    Correct because the queue's order puts every item whose latest decision is due before
    ``bound`` (the ``EARLY_SCAN``-th soonest deadline) ahead of all others: a full page
    found among those is the page. The walk is chosen when, at the share of decisions the
    filters keep (``total`` of about ``max(id)``), the page should lie well within them.
    """
    top = session.execute(sa.select(func.max(col(Decision.id)))).scalar_one() or 0
    if (offset + limit) * top > EARLY_SCAN * total // 2:
        return None
    due = col(Decision.sla_due_at)
    bound = session.execute(
        sa.select(due).where(due.is_not(None)).order_by(due).offset(EARLY_SCAN).limit(1)
    ).scalar_one_or_none()
    d: Any = sa.orm.aliased(Decision)
    on_item, on_decision = _split_conditions(
        f, visible, now, d=d, user=user, dialect=dialect, steer=dialect == "sqlite"
    )
    walk = [d.sla_due_at.is_not(None), _is_latest(d)]
    if bound is not None:
        walk.append(d.sla_due_at < bound)
    rows = session.execute(
        sa.select(col(Item.id), d.id)
        .select_from(d)
        .join(Item, col(Item.id) == d.item_id)
        .where(*walk, *on_item, *on_decision)
        .order_by(d.sla_due_at, col(Item.seen_at), col(Item.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows) if len(rows) == limit else None


def latest_decision(session: Session, item_id: int) -> Decision | None:
    stmt = select(Decision).where(Decision.item_id == item_id).order_by(col(Decision.id).desc())
    return session.exec(stmt).first()


def visible_item(session: Session, item_id: int, visible: set[str] | None) -> Item | None:
    if not valid_id(item_id):
        return None
    item = session.get(Item, item_id)
    if item is None or (visible is not None and item.workspace not in visible):
        return None
    return item


@dataclass
class ThreadEntry:
    """One message of an item's conversation, with what triage made of it."""

    item: Item
    decision: Decision | None
    own: bool  # written by the workspace's own account: a reply the brand sent
    current: bool  # the item the page is about


@dataclass
class ItemDetail:
    item: Item
    decision: Decision | None
    thread: list[Item]
    reviews: list[Review]
    outbox: list[OutboxEntry]
    takeover: Takeover | None
    hash: str
    sla: str
    left: str
    # The whole thread in order, the item itself included (``conversation=True`` only):
    # at most ``CONVERSATION_LIMIT`` messages around the item, of ``conversation_total``.
    conversation: list[ThreadEntry] = field(default_factory=list)
    conversation_total: int = 0


CONVERSATION_LIMIT = 200


def item_detail(
    session: Session, item: Item, *, thread_limit: int = 50, conversation: bool = False
) -> ItemDetail:
    """The item with its decision, reviews and outbox; ``thread`` holds the thread's other
    items. ``conversation`` adds the whole thread in order (``thread_conversation``)."""
    assert item.id is not None
    decision = latest_decision(session, item.id)
    thread = session.exec(
        select(Item)
        .where(Item.workspace == item.workspace, Item.thread == item.thread, Item.id != item.id)
        .order_by(col(Item.posted_at), col(Item.seen_at), col(Item.id))
        .limit(thread_limit)
    ).all()
    reviews = session.exec(
        select(Review).where(Review.item_id == item.id).order_by(col(Review.id))
    ).all()
    outbox = session.exec(select(OutboxEntry).where(OutboxEntry.item_id == item.id)).all()
    now = utcnow()
    due = decision.sla_due_at if decision else None
    detail = ItemDetail(
        item=item,
        decision=decision,
        thread=list(thread),
        reviews=list(reviews),
        outbox=list(outbox),
        takeover=active_takeover(session, item.workspace),
        hash=draft_hash(item, decision),
        sla=sla_state(due, now),
        left=format_left(due, now),
    )
    if conversation:
        detail.conversation, detail.conversation_total = thread_conversation(session, item)
    return detail


def active_takeover(session: Session, workspace: str) -> Takeover | None:
    stmt = select(Takeover).where(Takeover.workspace == workspace, col(Takeover.ended_at).is_(None))
    return session.exec(stmt).first()


def active_takeovers(session: Session, visible: set[str] | None) -> list[Takeover]:
    stmt = select(Takeover).where(col(Takeover.ended_at).is_(None))
    if visible is not None:
        stmt = stmt.where(col(Takeover.workspace).in_(sorted(visible)))
    return list(session.exec(stmt.order_by(col(Takeover.workspace))).all())


def known_workspaces(session: Session, catalog_ids: set[str]) -> set[str]:
    """Workspaces in the configuration or with items in the store (for an admin's filters)."""
    rows = session.exec(select(Item.workspace).distinct()).all()
    return set(catalog_ids) | set(rows)


def open_session_command(
    home: Home, ws: Workspace, devices: Mapping[str, DeviceEntry] | None = None
) -> str:
    """The command a person holding a takeover runs to open the workspace's live session."""
    env = ws.environment
    if isinstance(env, BrowserProfile):
        profile = home.profiles_dir / ws.profile_name
        url = expand_env(env.start_url)
        return f"{chromium_path()} --user-data-dir={shlex.quote(str(profile))} {shlex.quote(url)}"
    entry = (devices or {}).get(env.device)
    if entry is None:
        return f"scrcpy -s <serial of {env.device}>  # then open {env.app_package}"
    if entry.driver == "sandbox":
        serial = entry.serial or entry.id
        screen = f"{sandbox_url(entry)}/device/{serial}/screenshot"
        return f"the sandbox device {serial}: its screen is {screen}"
    serial = shlex.quote(entry.serial or "SERIAL")
    where = this_host()
    if entry.driver == "appium" and entry.appium_url:
        where = urlsplit(entry.appium_url).hostname or where
    return f"scrcpy -s {serial}  # on {where}, where adb sees it; then open {env.app_package}"


def chromium_path() -> str:
    try:
        return _chromium()
    except DriverError:
        return "chromium"


# -- the item page: its conversation, and where it stands in the queue ------------


def _own(item: Item) -> bool:
    """Written by the workspace's own account (as a sweep tells: the author's handle is
    the account's); such items are stored resolved and never triaged."""
    from flows.templates import handle

    return bool(item.account) and handle(item.author_handle or item.author) == handle(item.account)


def thread_conversation(
    session: Session, item: Item, *, limit: int = CONVERSATION_LIMIT
) -> tuple[list[ThreadEntry], int]:
    """The item's thread in the order it was written (posted time, else when a sweep saw
    it), the item included, each message with its latest decision; at most ``limit``
    messages around the item. With how many the thread holds."""
    assert item.id is not None
    written = func.coalesce(col(Item.posted_at), col(Item.seen_at))
    ids = [
        int(r[0])
        for r in session.execute(
            sa.select(col(Item.id))
            .where(col(Item.workspace) == item.workspace, col(Item.thread) == item.thread)
            .order_by(written, col(Item.seen_at), col(Item.id))
        ).all()
    ]
    total = len(ids)
    if total > limit:
        at = ids.index(item.id) if item.id in ids else 0
        start = min(max(0, at - limit // 2), total - limit)
        ids = ids[start : start + limit]
    items = {i.id: i for i in session.exec(select(Item).where(col(Item.id).in_(ids)))}
    newest = (
        sa.select(col(Decision.item_id), func.max(col(Decision.id)))
        .where(col(Decision.item_id).in_(ids))
        .group_by(col(Decision.item_id))
    )
    latest = {int(d) for _, d in session.execute(newest).all()}
    decisions = {
        d.item_id: d for d in session.exec(select(Decision).where(col(Decision.id).in_(latest)))
    }
    entries = [
        ThreadEntry(items[i], decisions.get(i), _own(items[i]), i == item.id)
        for i in ids
        if i in items
    ]
    return entries, total


@dataclass(frozen=True)
class QueuePlace:
    """Where an item stands in one filtered queue, in the queue's own order."""

    index: int | None  # from 0; None: the item is not in this queue
    total: int  # items in the queue
    previous: int | None  # the item before it (None: it is the first, or not in it)
    next: int | None  # the item after it; for an item not in the queue, the queue's first
    page_size: int

    def page_of(self, index: int) -> int:
        """The queue page showing the item at ``index``."""
        return index // self.page_size + 1


PLACE_SCAN_PAGES = 5  # queue pages searched for an item: its page and the two either side


def item_at(
    session: Session, f: QueueFilter, visible: set[str] | None, index: int, *, user: str | None
) -> int | None:
    """The id of the item at ``index`` (from 0) of the filtered queue, in its order."""
    if index < 0:
        return None
    one = queue(session, replace(f, page=index + 1), visible, user=user, page_size=1)
    return one.rows[0].item.id if one.page == index + 1 and one.rows else None


def queue_place(
    session: Session, f: QueueFilter, visible: set[str] | None, item_id: int, *, user: str | None
) -> QueuePlace:
    """Where ``item_id`` stands in the queue ``f`` shows (``queue`` itself pages it, so the
    order and the filters are the queue's): its page first, then the pages around it."""
    first = queue(session, f, visible, user=user)
    size = f.page_size
    order = [first.page]
    for step in range(1, PLACE_SCAN_PAGES):
        order += [p for p in (first.page - step, first.page + step) if 1 <= p <= first.pages]
    for page in order[:PLACE_SCAN_PAGES]:
        if page == first.page:
            rows = first.rows
        else:
            rows = queue(session, replace(f, page=page), visible, user=user).rows
        ids = [r.item.id for r in rows]
        if item_id not in ids:
            continue
        k = ids.index(item_id)
        index = (page - 1) * size + k
        before = ids[k - 1] if k > 0 else item_at(session, f, visible, index - 1, user=user)
        if k + 1 < len(ids):
            after: int | None = ids[k + 1]
        else:
            after = item_at(session, f, visible, index + 1, user=user)
        return QueuePlace(index, first.total, before, after, size)
    top = item_at(session, f, visible, 0, user=user)
    return QueuePlace(None, first.total, None, top, size)


def next_in_queue(
    session: Session,
    f: QueueFilter,
    visible: set[str] | None,
    item_id: int,
    was: int | None,
    *,
    user: str | None,
) -> tuple[int, int] | None:
    """After an action on ``item_id``, which stood at ``was`` in the queue (None: it was not
    in it), the item to go on with and its index: the one that now stands where the item
    did (the item left the queue) or just after it (it is still there). None: no more."""
    start = was if was is not None else 0
    for index in (start, start + 1):
        found = item_at(session, f, visible, index, user=user)
        if found is None:
            return None
        if found != item_id:
            return found, index
    return None
