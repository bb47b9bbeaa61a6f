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
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import Session, col, func, select

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
    "all": None,
}
SLA_STATES = ("breached", "due_soon", "ok", "none")
PRIORITIES = ("P1", "P2", "P3", "none")
# The largest id the store's integer keys hold on every backend: sa.Integer is 32 bits
# on PostgreSQL (64 on SQLite, where 2^31 rows is far beyond any store's reach).
MAX_ID = 2**31 - 1
DUE_SOON = timedelta(minutes=30)
PAGE_SIZE = 50


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
    workspace: str | None = None
    intent: str | None = None
    priority: str | None = None
    sla: str | None = None
    status: str = "pending"
    page: int = 1


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
            shown = value if len(value) <= 60 else value[:60] + "…"
            raise BadFilter(f"unknown {what} {shown!r} (known: {', '.join(known)})")
    return f


@dataclass
class QueueRow:
    item: Item
    decision: Decision | None
    sla: str
    left: str


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    now: datetime = field(default_factory=utcnow)


def _latest_decision_id() -> Any:
    """The newest decision id of the outer query's item (an index lookup per item)."""
    newer = sa.orm.aliased(Decision)
    return (
        sa.select(func.max(newer.id))
        .where(col(newer.item_id) == col(Item.id))
        .correlate(Item)
        .scalar_subquery()
    )


def _conditions(f: QueueFilter, visible: set[str] | None, now: datetime) -> tuple[list[Any], bool]:
    """The WHERE terms, and whether any of them needs the decision."""
    cond: list[Any] = []
    if visible is not None:
        cond.append(col(Item.workspace).in_(sorted(visible)))
    if f.workspace:
        cond.append(Item.workspace == f.workspace)
    statuses = STATUS_FILTERS.get(f.status, PENDING)
    if statuses is not None:
        cond.append(col(Item.status).in_(statuses))
    on_items = len(cond)
    if f.intent:
        cond.append(Decision.intent == f.intent)
    if f.priority:
        cond.append(Decision.priority == f.priority)
    due = col(Decision.sla_due_at)
    if f.sla == "breached":
        cond.append(due <= now)
    elif f.sla == "due_soon":
        cond.append(sa.and_(due > now, due <= now + DUE_SOON))
    elif f.sla == "ok":
        cond.append(due > now + DUE_SOON)
    elif f.sla == "none":
        cond.append(due.is_(None))
    return cond, len(cond) > on_items


def status_counts(
    session: Session, visible: set[str] | None, workspace: str | None = None
) -> dict[str, int]:
    """How many items each status filter holds (workspace grants applied), for the chips:
    so dropped items, which a person may want to restore, are never out of sight."""
    if visible is not None and not visible:
        return dict.fromkeys(STATUS_FILTERS, 0)
    stmt = sa.select(col(Item.status), func.count()).group_by(col(Item.status))
    if visible is not None:
        stmt = stmt.where(col(Item.workspace).in_(sorted(visible)))
    if workspace:
        stmt = stmt.where(col(Item.workspace) == workspace)
    by_status = {status: int(n) for status, n in session.execute(stmt).all()}
    return {
        name: sum(n for st, n in by_status.items() if statuses is None or st in statuses)
        for name, statuses in STATUS_FILTERS.items()
    }


def queue(
    session: Session, f: QueueFilter, visible: set[str] | None, *, page_size: int = PAGE_SIZE
) -> QueuePage:
    """One page of the queue, soonest SLA deadline first (no deadline last).

    Two steps keep it fast with many items: the ids of one page are sorted and
    cut in SQL (item and decision ids only), then just those rows are loaded.
    """
    now = utcnow()
    if visible is not None and not visible:
        return QueuePage([], 0, 1, 1, now)
    cond, needs_decision = _conditions(f, visible, now)
    joined = col(Decision.id) == _latest_decision_id()
    counted = sa.select(func.count()).select_from(Item)
    if needs_decision:
        counted = counted.outerjoin(Decision, joined)
    total = int(session.execute(counted.where(*cond)).scalar_one())
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, f.page), pages)
    due = col(Decision.sla_due_at)
    ids = session.execute(
        sa.select(col(Item.id), col(Decision.id))
        .select_from(Item)
        .outerjoin(Decision, joined)
        .where(*cond)
        .order_by(due.is_(None), due, col(Item.seen_at), col(Item.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
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
    return QueuePage(rows, total, page, pages, now)


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


def item_detail(session: Session, item: Item, *, thread_limit: int = 50) -> ItemDetail:
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
    return ItemDetail(
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
