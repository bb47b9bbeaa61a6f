"""A scripted pilot day for the report tests, made with the store and the review actions.

Three workspaces of two clients; items collected today and eight days ago (so two ISO
weeks), each decided as triage decides (``SweepTriage.record_many``, the sweep's own
path), then what reviewers did: approvals as drafted and edited, a saved edit, a
rejection, corrections, reassignments, escalations, resolutions, a restore, a follow-up
and two takeovers (``agent.review.actions``). The outbox's outcomes (sent, failed,
waiting) and the sweeps (ok, drift, stopped, failed, a reply run that stopped) are
recorded as the outbox and sweeps record them.

``Script`` keeps what triage concluded for each item (a reviewer's change overwrites
parts of the stored decision), for the tests' own, independent counts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlmodel import col, update

from agent.config import load_catalog
from agent.decide import SweepTriage, decision_row
from agent.review import actions
from agent.review.auth import get_user, grant, hash_password
from agent.review.followups import set_follow_up
from agent.review.queries import draft_hash, latest_decision
from agent.runtime import Runtime
from agent.store import (
    Item,
    ItemCreate,
    OutboxEntry,
    User,
    add_item,
    finish_run,
    start_run,
    utcnow,
)
from agent.store.models import Run
from agent.triage import Decision as TriageDecision
from runlogs import ActivityLog
from workspaces.paths import Home

PASSWORD = "correct horse battery staple"
ACME_WEB, ACME_IG, GLOBEX = "acme-web", "acme-insta", "globex-web"
CLIENTS = {ACME_WEB: "Acme Corp", ACME_IG: "Acme Corp", GLOBEX: "Globex <Inc>"}
LOGIN_SHOT = "screenshots/ab/ab12-login.png"


@functools.cache
def password_hash() -> str:
    """PASSWORD's argon2 hash, made once (each one costs half a second of CPU)."""
    return hash_password(PASSWORD)


def workspace_yaml(workspace: str) -> str:
    return (
        f'id: {workspace}\nclient: "{CLIENTS[workspace]}"\nplatform: sandbox\nsurface: web\n'
        "environment:\n  kind: browser_profile\n  start_url: http://127.0.0.1:9\n"
        "  expected_account: '@brand'\n"
        "flows:\n  inbox: sandbox-inbox\n  reply: sandbox-reply\nselectors: sandbox-web\n"
    )


def configure(home: Home) -> None:
    folder = home.config_dir("workspaces")
    folder.mkdir(parents=True, exist_ok=True)
    for ws in CLIENTS:
        (folder / f"{ws}.yaml").write_text(workspace_yaml(ws))


@dataclass(frozen=True)
class Triaged:
    """What triage concluded (before any person changed it)."""

    action: str
    intent: str
    priority: str
    queue: str | None
    drafted: bool


@dataclass
class Script:
    runtime: Runtime
    now: datetime
    triage: dict[int, Triaged] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # the script's names for items
    due: str = ""  # the follow-up date set on a12

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.runtime.store


def _decision(name: str, ws: str) -> TriageDecision:
    """Triage's decision for the script's kinds of message (as the pipeline writes one)."""
    owner = f"{ws}-support"
    presets = {
        "question": TriageDecision(
            name, "product_question", "P3", "review", queue="support", owner=owner,
            sla_minutes=240, draft="Thanks for asking! It ships in 2 days.",
            draft_source="shipping-times", confidence=0.93,
            why=["intent.model:product_question", "route:support",
                 "draft.saved_reply:shipping-times"],
        ),
        "order": TriageDecision(
            name, "order_issue", "P2", "review", queue="support", owner=owner, sla_minutes=60,
            confidence=0.88, why=["intent.model:order_issue", "route:support"],
        ),
        "outage": TriageDecision(
            name, "outage", "P1", "escalate", queue="incidents", owner=f"{ws}-oncall",
            sla_minutes=15, confidence=0.95, why=["intent.model:outage", "route:incidents"],
        ),
        "private": TriageDecision(
            name, "account_access", "P2", "pause", pause_reasons=["private_data.email"],
            queue="support", owner=owner, sla_minutes=60, confidence=0.9,
            why=["private_data.email: a***@x.com", "route:support"],
        ),
        "unowned": TriageDecision(
            name, "partnership", "P3", "pause", pause_reasons=["routing.unknown_owner"],
            confidence=0.8, why=["intent.model:partnership", "rule:routing.unknown_owner"],
        ),
        "spam": TriageDecision(
            name, "spam", "none", "drop", confidence=0.98, why=["spam.model:0.98"],
        ),
        "duplicate": TriageDecision(
            name, "product_question", "P3", "drop", queue="support", owner=owner,
            duplicate_of="k-dup", why=["duplicates:k-dup"],
        ),
        "sales": TriageDecision(
            name, "sales_lead", "P3", "review", queue="sales", owner="acme-sales",
            sla_minutes=480, confidence=0.86, why=["intent.model:sales_lead", "route:sales"],
        ),
        "praise": TriageDecision(
            name, "praise", "P3", "review", queue="community", owner=owner, sla_minutes=1440,
            draft="Thank you so much!", draft_source="thanks", confidence=0.97,
            why=["intent.model:praise", "route:community", "draft.saved_reply:thanks"],
        ),
        "billing": TriageDecision(
            name, "billing_refund", "P2", "review", queue="support", owner=owner,
            sla_minutes=120, confidence=0.84, why=["intent.model:billing_refund", "route:support"],
        ),
        "complaint": TriageDecision(
            name, "complaint", "P2", "review", queue="support", owner=owner, sla_minutes=60,
            confidence=0.82, why=["intent.model:complaint", "route:support"],
        ),
    }  # fmt: skip
    return presets[name]


def _user(script: Script, name: str) -> User:
    with script.store.session() as s:
        user = get_user(s, name)
        assert user is not None
        return user


def _hash(script: Script, item_id: int) -> str:
    with script.store.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        return draft_hash(item, latest_decision(s, item_id))


class Day:
    """The script's verbs, each the way the product does it."""

    def __init__(self, script: Script, triage: SweepTriage) -> None:
        self.s = script
        self.triage = triage
        self.n = 0

    def collect(
        self,
        key: str,
        ws: str,
        kind: str,
        *,
        ago: float,
        posted: float | None = 10,
        message_kind: str = "comment",
    ) -> int:
        """An item a sweep stored ``ago`` minutes before now (posted ``posted`` earlier)."""
        self.n += 1
        seen = self.s.now - timedelta(minutes=ago)
        with self.s.store.session() as s:
            row, _ = add_item(s, ItemCreate(
                workspace=ws, platform="sandbox", account="@brand", thread=f"t-{key}",
                kind=message_kind, author=f"customer{self.n}",
                author_handle=f"@customer{self.n}", text=f"message {key}",
                posted_at=None if posted is None else seen - timedelta(minutes=posted),
            ))  # fmt: skip
            row.seen_at = seen
            s.add(row)
        decision = _decision(kind, ws)
        assert row.id is not None
        self.triage.record_many([(row, decision)])
        self.s.triage[row.id] = Triaged(
            decision.action, decision.intent, decision.priority, decision.queue,
            decision.draft is not None,
        )  # fmt: skip
        self.s.ids[key] = row.id
        return row.id

    def approve(self, who: str, key: str, text: str | None = None) -> OutboxEntry:
        item_id = self.s.ids[key]
        with self.s.store.session() as s:
            decision = latest_decision(s, item_id)
        reply = text if text is not None else (decision.draft if decision else "") or ""
        return actions.approve(
            self.s.store, item_id, _user(self.s, who), reply,
            seen_draft_hash=_hash(self.s, item_id), catalog=self.s.runtime.catalog,
            log=self.s.runtime.log,
        )  # fmt: skip

    def sent(self, entry: OutboxEntry) -> None:
        """What the outbox records when the reply is on the screen."""
        with self.s.store.session() as s:
            s.exec(update(OutboxEntry).where(col(OutboxEntry.id) == entry.id)  # type: ignore[call-overload]
                   .values(state="sent", sent_at=utcnow(), attempts=1))  # fmt: skip
            s.exec(update(Item).where(col(Item.id) == entry.item_id).values(status="replied"))  # type: ignore[call-overload]

    def failed(self, entry: OutboxEntry, reason: str) -> None:
        with self.s.store.session() as s:
            s.exec(update(OutboxEntry).where(col(OutboxEntry.id) == entry.id)  # type: ignore[call-overload]
                   .values(state="failed", last_error=reason, attempts=3))  # fmt: skip

    def do(self, verb: str, who: str, key: str, **kw: object) -> None:
        item_id = self.s.ids[key]
        user = _user(self.s, who)
        log = self.s.runtime.log
        if verb == "edit":
            actions.save_draft(self.s.store, item_id, user, str(kw["text"]),
                               seen_draft_hash=_hash(self.s, item_id), log=log)  # fmt: skip
        else:
            getattr(actions, verb)(self.s.store, item_id, user, log=log, **kw)

    def run(
        self,
        ws: str,
        status: str,
        *,
        reason: str | None = None,
        kind: str = "sweep",
        days_ago: int = 0,
        missed: int = 0,
        message: str | None = None,
    ) -> str:
        """A run of the workspace, recorded as a sweep (or the outbox's reply run) does."""
        with self.s.store.session() as s:
            run = start_run(s, ws, kind)
            if days_ago:
                run.started_at = self.s.now - timedelta(days=days_ago)
                s.add(run)
            finish_run(s, run.id, status, stop_reason=reason, new_items=1, seen_items=3,
                       unreadable=2 if status == "drift" else 0, missed=missed)  # fmt: skip
            run_id = run.id
        if reason is not None:
            self.s.runtime.log.append(
                ws, "stop", run_id=run_id, reason=reason, message=message,
                screenshot=LOGIN_SHOT if reason == "login_required" else None,
            )  # fmt: skip
        return run_id


def scripted_day(home: Home, store) -> Script:  # type: ignore[no-untyped-def]
    """The whole day (see the module's docstring); returns the script's record."""
    configure(home)
    catalog = load_catalog(home)
    assert catalog.problems == [], catalog.problems
    runtime = Runtime(home, catalog, store, ActivityLog(home.logs_dir))
    script = Script(runtime, utcnow())
    with store.session() as s:
        for name, role, grants in (
            ("ann", "approver", CLIENTS), ("rob", "reviewer", [GLOBEX]),
            ("vic", "viewer", [ACME_WEB]), ("root", "admin", []),
        ):  # fmt: skip
            user = User(name=name, role=role, password_hash=password_hash())
            s.add(user)
            s.flush()
            for ws in grants:
                grant(s, user, ws)
    workspaces = {k: v.model for k, v in catalog.workspaces.items()}
    day = Day(script, SweepTriage(home, workspaces, store, runtime.log))
    week = 8 * 24 * 60  # eight days ago: the ISO week before
    # what sweeps collected, and triage decided
    for key, ws, kind, ago, posted in (
        ("a1", ACME_WEB, "question", 300, 20), ("a2", ACME_WEB, "question", 200, 5),
        ("a3", ACME_WEB, "question", 150, None), ("a4", ACME_WEB, "question", 120, 10),
        ("a5", ACME_WEB, "order", 100, 30), ("a6", ACME_WEB, "sales", 90, 10),
        ("a7", ACME_WEB, "outage", 45, 3), ("a8", ACME_WEB, "private", 400, 10),
        ("a9", ACME_WEB, "unowned", 60, 10), ("a10", ACME_WEB, "spam", 30, 1),
        ("a11", ACME_WEB, "duplicate", 25, 1), ("a12", ACME_WEB, "question", 10, 2),
        ("a13", ACME_WEB, "order", week + 60, 45), ("a14", ACME_WEB, "question", week + 30, 5),
        ("i1", ACME_IG, "question", 80, 4), ("i2", ACME_IG, "praise", 70, 2),
        ("g1", GLOBEX, "question", 50, 10), ("g2", GLOBEX, "billing", 140, 10),
        ("g3", GLOBEX, "complaint", 35, None), ("g4", GLOBEX, "order", week, 60),
    ):  # fmt: skip
        day.collect(key, ws, kind, ago=ago, posted=posted,
                    message_kind="dm" if ws == ACME_IG else "comment")  # fmt: skip
    day.run(ACME_WEB, "ok", days_ago=8)
    day.run(ACME_WEB, "ok")
    day.run(GLOBEX, "ok", days_ago=8)
    # what reviewers did
    day.sent(day.approve("ann", "a1"))
    day.failed(day.approve("ann", "a2", "Thanks! It ships on Monday."),
               "after 3 attempts: login_required: the login page was shown")  # fmt: skip
    day.do("edit", "ann", "a3", text="Thanks for asking! It ships tomorrow.")
    day.approve("ann", "a3")
    day.do("reject", "ann", "a4", reason="wrong product")
    day.do("correct", "ann", "a5", intent="complaint", priority="P1")
    day.do("resolve", "ann", "a5", note="called the customer")
    day.do("assign", "ann", "a6", owner="acme-partnerships")
    day.do("escalate", "ann", "a6", owner="acme-sales-lead", reason="big account")
    day.do("resolve", "ann", "a7", note="status page updated")
    day.do("assign", "ann", "a9", owner="acme-support")

    def not_spam(item: Item):  # type: ignore[no-untyped-def]
        return decision_row(item, _decision("order", item.workspace))

    actions.restore(store, script.ids["a10"], _user(script, "ann"), not_spam, log=runtime.log)
    again = _decision("order", ACME_WEB)  # triage's second word on it, routed this time
    script.triage[script.ids["a10"]] = replace(
        script.triage[script.ids["a10"]],
        intent=again.intent,
        priority=again.priority,
        queue=again.queue,
    )
    script.due = (script.now.date() + timedelta(days=3)).isoformat()
    set_follow_up(store, script.ids["a12"], _user(script, "ann"),
                  script.now.date() + timedelta(days=3), note="customer sends photos",
                  log=runtime.log)  # fmt: skip
    day.sent(day.approve("ann", "a13", "Sorry! A new one is on its way."))
    day.sent(day.approve("ann", "a14"))
    day.approve("ann", "i1")
    day.sent(day.approve("rob", "g1"))
    day.do("correct", "rob", "g2", queue="billing")
    day.approve("rob", "g2", "Refunded: you will see it in 3 days.")
    day.do("escalate", "rob", "g3", owner="globex-finance", reason="refund over limit")
    day.do("resolve", "rob", "g4")
    ann, rob = _user(script, "ann"), _user(script, "rob")
    actions.take_over(store, ACME_WEB, ann, log=runtime.log)
    actions.hand_back(store, ACME_WEB, ann, log=runtime.log)
    actions.take_over(store, GLOBEX, rob, log=runtime.log)
    # the sweeps and sends after that: a login wall (then recovered), drift, a challenge
    day.run(ACME_WEB, "stopped", reason="login_required", message="the login page was shown")
    day.run(ACME_WEB, "stopped", reason="login_required", kind="reply",
            message="the login page was shown")  # fmt: skip
    day.run(ACME_WEB, "ok")
    day.run(ACME_IG, "ok", missed=1)
    day.run(GLOBEX, "drift", missed=2)
    day.run(GLOBEX, "stopped", reason="challenge", message="a captcha was shown")
    day.run(GLOBEX, "failed", reason="crashed", message="the browser did not start")
    script.now = utcnow()
    return script


def runs_of(store, workspace: str) -> list[Run]:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    with store.session() as s:
        return list(s.exec(select(Run).where(Run.workspace == workspace)))


def as_utc(value: object) -> datetime | None:
    """A time as raw SQL returns it (SQLite: naive text; PostgreSQL: aware)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(app, name: str):  # type: ignore[no-untyped-def]
    """A TestClient signed in as ``name`` (https, so the Secure cookie is sent)."""
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="https://testserver")
    page = client.get("/login")
    token = _CSRF.search(page.text)
    assert token, "no csrf_token on the login page"
    r = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client
