"""Triage what sweeps collect: every new item gets a stored, logged Decision.

Each workspace gets its own pipeline (duplicate clusters are per workspace),
built from the default triage configuration plus the workspace's own:

- ``triage``: an optional triage config file under the home (any section);
- ``reply_policy.knowledge``: its approved saved replies; ``approved_intents``
  decides which intents may get a draft at all;
- ``owners``: ``queues`` maps a routing queue to the owner for this client, and
  ``default`` owns every queue the routing leaves without one;
- the workspace's known customers: authors of stored items that triage kept, or a
  person restored, as not spam (the spam filter never drops them);
- the workspace's cases within the duplicate window (``remember_case``), so a
  near-duplicate a later sweep collects joins the stored case.

Cases: a near-duplicate from another author or thread is stored as a member of the
first item's case (``items.case_id``, status ``in_case``, or ``paused`` when a stop
rule fired on its own text); the case's first item holds its own id and carries the
case's priority (a member that reads higher, as the viral rule makes it, raises it in
a new decision row). The same author's repeat in the same thread is ``merged``.

The item is already stored when this runs (see ``agent.sweep``). An item whose
triage failed, or whose sweep was killed between storing and triaging it, stays
``new``; the next sweep of the workspace triages those first (``catch_up``), so
nothing is lost and nothing is triaged twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select, update

from agent.store import Decision as DecisionRow
from agent.store import Item, ItemStatus, Review, ReviewAction, Store, status_after, utcnow
from agent.triage import Decision as TriageDecision
from agent.triage import Pipeline, TriageError, TriageInput, load_config
from agent.triage.workspace import workspace_config
from runlogs import ActivityLog, NewEvent
from workspaces.models import Workspace
from workspaces.paths import Home

CATCH_UP_BATCH = 500  # stored-but-undecided items triaged per commit
OCR_REVIEW_BELOW = 0.80  # OCR'd text below this confidence goes to a person, never dropped
# what a person's "not spam" overrules when a dropped item is restored
OVERRULED_BY_PERSON = ("spam", "duplicates")


class SweepTriage:
    """The sweep's ``on_item`` callback: triage, store the decision, log it."""

    def __init__(
        self, home: Home, workspaces: dict[str, Workspace], store: Store, log: ActivityLog
    ):
        self.home = home
        self.workspaces = workspaces
        self.store = store
        self.log = log
        self._pipelines: dict[str, Pipeline] = {}

    def pipeline(self, workspace_id: str) -> Pipeline:
        if workspace_id not in self._pipelines:
            ws = self.workspaces.get(workspace_id)  # gone from the configuration: defaults
            config = workspace_config(self.home, ws) if ws is not None else load_config(None)
            pipe = Pipeline(config)
            for author in self.known_authors(workspace_id):
                pipe.remember_author(workspace_id, author)
            self.remember_cases(pipe, workspace_id)
            self._pipelines[workspace_id] = pipe
        return self._pipelines[workspace_id]

    def known_authors(self, workspace_id: str) -> set[str]:
        """Authors with a stored item that triage kept, or a person restored, as not spam."""
        with self.store.session() as s:
            kept = s.exec(
                select(Item.author)
                .join(DecisionRow, col(DecisionRow.item_id) == col(Item.id))
                .where(
                    Item.workspace == workspace_id,
                    DecisionRow.action != "drop",
                    DecisionRow.intent != "spam",
                )
                .distinct()
            ).all()
            restored = s.exec(
                select(Item.author)
                .join(Review, col(Review.item_id) == col(Item.id))
                .where(Item.workspace == workspace_id, Review.action == ReviewAction.RESTORE)
                .distinct()
            ).all()
        return {author for author in (*kept, *restored) if author}

    def remember_cases(self, pipe: Pipeline, workspace_id: str) -> None:
        """Seed the pipeline's clusters with the workspace's items of the duplicate window
        that a near-duplicate may join: stand-alone items and cases' first items."""
        since = utcnow() - timedelta(minutes=pipe.config.dedup.window_minutes)
        open_to_join = (ItemStatus.NEW.value, ItemStatus.DROPPED.value, ItemStatus.MERGED.value)
        with self.store.session() as s:
            firsts = s.exec(
                select(Item)
                .where(
                    Item.workspace == workspace_id,
                    col(Item.seen_at) >= since,
                    col(Item.status).not_in(open_to_join),
                    or_(col(Item.case_id).is_(None), col(Item.case_id) == col(Item.id)),
                )
                .order_by(col(Item.id))
            ).all()
            ids = [i.id for i in firsts if i.case_id is not None]
            members = (
                s.exec(
                    select(Item).where(col(Item.case_id).in_(ids), col(Item.id).not_in(ids))
                ).all()
                if ids
                else []
            )
        by_case: dict[int, list[Item]] = {}
        for member in members:
            by_case.setdefault(member.case_id or 0, []).append(member)
        for first in firsts:
            joined = by_case.get(first.id or 0, [])
            pipe.remember_case(
                triage_input(first),
                1 + len(joined),
                [(m.author, m.thread, str(m.id)) for m in joined],
            )

    def __call__(self, item: Item) -> None:
        self.batch([item])

    def batch(self, items: list[Item]) -> None:
        """Triage stored items in order; their decisions are committed in one transaction
        and logged in one append per workspace. An item whose triage fails stays ``new``
        (logged as a failed step); the next sweep tries it again."""
        decided: list[tuple[Item, TriageDecision]] = []
        failed: list[tuple[Item, TriageError]] = []
        for item in items:
            try:
                decided.append((item, self._triage(item)))
            except TriageError as exc:
                failed.append((item, exc))
        self.record_many(decided)
        for item, error in failed:
            self.log.append(
                item.workspace,
                "step_failed",
                run_id=item.run_id,
                step="triage",
                kind="triage",
                item=item.id,
                error=str(error),
            )

    def catch_up(self, workspace_id: str, batch_size: int = CATCH_UP_BATCH) -> int:
        """Triage the workspace's stored items still waiting for a decision, oldest first,
        in batches of one commit each; how many there were."""
        done = 0
        after = 0
        while True:
            with self.store.session() as s:
                waiting = list(
                    s.exec(
                        select(Item)
                        .where(
                            Item.workspace == workspace_id,
                            Item.status == "new",
                            col(Item.id) > after,
                        )
                        .order_by(col(Item.id))
                        .limit(batch_size)
                    ).all()
                )
            if not waiting:
                return done
            self.batch(waiting)
            done += len(waiting)
            after = waiting[-1].id or after

    def _triage(self, item: Item, skip: tuple[str, ...] = ()) -> TriageDecision:
        decision = self.pipeline(item.workspace).triage(triage_input(item), skip=skip)
        return uncertain_text(item, decision)

    def not_spam(self, item: Item) -> DecisionRow:
        """A person says a dropped item is not spam: triage it again without the spam
        filter and the duplicate check. The row is returned for the caller to store."""
        row = decision_row(item, self._triage(item, skip=OVERRULED_BY_PERSON))
        self.pipeline(item.workspace).remember_author(item.workspace, item.author)
        return row

    def record_many(self, decided: list[tuple[Item, TriageDecision]]) -> list[DecisionRow]:
        """Store the decisions and the items' new status in one transaction, then log
        them (one append per workspace)."""
        if not decided:
            return []
        rows = [decision_row(item, decision) for item, decision in decided]
        by_status: dict[str, list[int]] = {}
        for item, decision in decided:
            by_status.setdefault(stored_status(decision).value, []).append(item.id or 0)
        with self.store.session() as s:
            s.add_all(rows)
            for status, ids in by_status.items():
                s.exec(update(Item).where(col(Item.id).in_(ids)).values(status=status))
            raised = join_cases(s, decided, rows)
            # -- webhooks (issue 16): item.p1 for P1 decisions, in the same transaction;
            # a case is one event (its first item's), however many customers it holds
            from agent.webhooks import events as webhook_events

            told = [
                (item, row)
                for (item, decision), row in zip(decided, rows, strict=True)
                if stored_status(decision) != ItemStatus.IN_CASE
            ] + raised
            webhook_events.triage_recorded(s, [i for i, _ in told], [r for _, r in told])
        lines: dict[str, list[NewEvent]] = {}
        for item, decision in decided:
            lines.setdefault(item.workspace, []).append(
                NewEvent(
                    "decision",
                    item.run_id,
                    data={
                        "item": item.id,
                        "action": decision.action,
                        "intent": decision.intent,
                        "priority": decision.priority,
                        "queue": decision.queue,
                        "owner": decision.owner,
                        "pause_reasons": list(decision.pause_reasons),
                        "confidence": round(decision.confidence, 3),
                        "draft_source": decision.draft_source,
                        "why": list(decision.why),
                        # case membership: the case (its first item) this item joined,
                        # or the earlier item a repeat was merged into
                        "case": int(decision.case_of) if decision.case_of else None,
                        "merged_into": (
                            int(decision.merged_into) if decision.merged_into else None
                        ),
                    },
                )
            )
        for workspace, entries in lines.items():
            self.log.append_many(workspace, entries)
        return rows


def triage_input(item: Item) -> TriageInput:
    return TriageInput(
        id=str(item.id),
        text=item.text,
        platform=item.platform,
        kind=item.kind,
        author=item.author,
        account=item.account,
        workspace=item.workspace,
        posted_at=item.posted_at,
        thread=item.thread,
    )


def stored_status(decision: TriageDecision) -> ItemStatus:
    """The item's status once ``decision`` is stored: a case member waits ``in_case`` (or
    ``paused``, on its own), a repeat dropped by the duplicate check is ``merged``."""
    if decision.merged_into and decision.action == "drop":
        return ItemStatus.MERGED
    status = status_after(decision.action)
    if decision.case_of and status == ItemStatus.TRIAGED:
        return ItemStatus.IN_CASE
    return status


_RANK = {"none": 0, "P3": 1, "P2": 2, "P1": 3}
# a case's first item in one of these still gathers its members' reply
OPEN_CASE = (
    ItemStatus.NEW.value,
    ItemStatus.TRIAGED.value,
    ItemStatus.IN_REVIEW.value,
    ItemStatus.PAUSED.value,
)


def join_cases(
    s: Session, decided: list[tuple[Item, TriageDecision]], rows: list[DecisionRow]
) -> list[tuple[Item, DecisionRow]]:
    """Store the members' case ids, mark each case's first item, and raise a first item's
    priority to its highest member's (a new decision row); the raised ones are returned."""
    members: dict[int, list[tuple[Item, DecisionRow]]] = {}
    for (item, decision), row in zip(decided, rows, strict=True):
        if decision.case_of and decision.action != "drop" and decision.case_of.isdigit():
            members.setdefault(int(decision.case_of), []).append((item, row))
    in_batch = {item.id: row for item, row in zip((i for i, _ in decided), rows, strict=True)}
    raised: list[tuple[Item, DecisionRow]] = []
    for case_id, joined in members.items():
        first = s.get(Item, case_id)
        if first is None:
            continue
        current = (
            in_batch.get(case_id)
            or s.exec(
                select(DecisionRow)
                .where(DecisionRow.item_id == case_id)
                .order_by(col(DecisionRow.id).desc())
            ).first()
        )
        ids = [item.id for item, _ in joined]
        s.exec(update(Item).where(col(Item.id).in_(ids)).values(case_id=case_id))
        # a member paused for no reason but the case's own (the first item's pause: every
        # customer asking for the refund of a double charge) waits in the case, decided
        # with it; one paused for a reason of its own (its card number) is on its own
        case_reasons = (
            set(current.pause_reasons) if current and current.action == "pause" else set()
        )
        with_case = [
            item.id
            for item, row in joined
            if row.action == "pause" and case_reasons and set(row.pause_reasons) <= case_reasons
        ]
        if with_case:
            s.exec(
                update(Item)
                .where(col(Item.id).in_(with_case))
                .values(status=ItemStatus.IN_CASE.value)
            )
        if first.status not in OPEN_CASE:
            # the case was answered or closed already: the new customer is in it, and in
            # the queue on their own (nobody waits behind a closed case)
            for status, now in ((ItemStatus.TRIAGED, "review"), (ItemStatus.PAUSED, "pause")):
                own = [i.id for i, r in joined if (r.action == "pause") == (now == "pause")]
                s.exec(
                    update(Item)
                    .where(col(Item.id).in_(own), col(Item.status) == ItemStatus.IN_CASE.value)
                    .values(status=status.value)
                )
        first.case_id = case_id
        s.add(first)
        top = max((row for _, row in joined), key=lambda r: _RANK.get(r.priority or "", 0))
        if current is None or _RANK.get(top.priority or "", 0) <= _RANK.get(
            current.priority or "", 0
        ):
            continue
        s.flush()
        size = int(
            s.exec(select(func.count()).select_from(Item).where(Item.case_id == case_id)).one()
        )
        row = DecisionRow.model_validate(
            current.model_dump(exclude={"id", "created_at"})
            | {
                "priority": top.priority,
                "action": "escalate" if current.action == "review" else current.action,
                "why": [*current.why, f"priority.case:members={size}->{top.priority}"],
            }
        )
        s.add(row)
        raised.append((first, row))
    return raised


def uncertain_text(item: Item, decision: TriageDecision) -> TriageDecision:
    """Text OCR read with low confidence is not trusted to drop an item or draft a reply:
    a person reads it against the crop. Pauses and escalations stand."""
    confidence = item.ocr_confidence
    if confidence is None or confidence >= OCR_REVIEW_BELOW:
        return decision
    if decision.action == "drop":
        decision.action = "review"
    decision.draft, decision.draft_source = None, None
    decision.why.append(
        f"ocr_low_confidence: {item.ocr_fields or 'text'} read from the screen's pixels at "
        f"{confidence:.2f} (below {OCR_REVIEW_BELOW:.2f}); check it against the crop"
    )
    return decision


def decision_row(item: Item, decision: TriageDecision) -> DecisionRow:
    """The stored form of a triage Decision; the SLA clock starts when the item was seen."""
    due = (
        item.seen_at + timedelta(minutes=decision.sla_minutes)
        if decision.sla_minutes is not None
        else None
    )
    return DecisionRow(
        item_id=item.id or 0,
        action=decision.action,
        intent=decision.intent,
        priority=decision.priority,
        queue=decision.queue,
        owner=decision.owner,
        sla_minutes=decision.sla_minutes,
        sla_due_at=due,
        confidence=decision.confidence,
        pause_reasons=list(decision.pause_reasons),
        why=list(decision.why),
        draft=decision.draft,
        draft_source=decision.draft_source,
        duplicate_of=decision.duplicate_of,
        cluster_id=decision.cluster_id,
    )
