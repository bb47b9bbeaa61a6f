"""The outbox: approved replies go out exactly once, or end ``failed`` with a reason.

States: ``approved`` → ``sending`` → ``sent`` | ``failed``. A send holds the
workspace's lease, claims the entry (``sending``, attempts + 1, committed), runs
the workspace's reply flow, and records the outcome. The reply flow itself
checks the thread before typing: if the reply is already there (the process
died between "sent" and "recorded"), the entry is marked sent without sending
again. An entry left in ``sending`` by a killed process is picked up by the
next ``send``; after ``max_attempts`` it ends ``failed``, where a person sees it.

Stop rules are checked again on the final text: private data in a public
comment blocks the send. Every failure names its cause: the stop reason and its
message, or, when the reply flow ended without sending, which ``if_visible``
branches it took.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from agent.leases import LeaseHeld
from agent.runtime import Runtime
from agent.store import Item, OutboxEntry, utcnow
from agent.sweep import Sweeper, SweepResult
from devices.errors import DriverError
from flows.models import Flow, ForEach, IfVisible

SENDABLE = ("approved", "sending")
FinalCheck = Callable[[str, str], list[str]]


def private_data_in_public(text: str, kind: str) -> list[str]:
    """Stop-rule ids that block ``text`` as a reply of ``kind`` (public comments only)."""
    if kind != "comment":
        return []
    from agent.triage.normalize import fold, normalize
    from agent.triage.rules import private_data

    return [hit.rule_id for hit in private_data.check(fold(normalize(text)))]


@dataclass
class SendResult:
    entry: int
    item: int
    workspace: str
    state: str
    already_posted: bool = False
    error: str | None = None
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outbox:
    rt: Runtime
    max_attempts: int = 3
    final_check: FinalCheck = private_data_in_public
    sweeper: Sweeper | None = None

    def __post_init__(self) -> None:
        if self.sweeper is None:
            self.sweeper = self.rt.sweeper()

    def pending(self, workspace: str | None = None) -> list[OutboxEntry]:
        with self.rt.store.session() as s:
            query = select(OutboxEntry).where(col(OutboxEntry.state).in_(SENDABLE))
            if workspace:
                query = query.where(OutboxEntry.workspace == workspace)
            return list(s.exec(query.order_by(col(OutboxEntry.approved_at))).all())

    def send(self, workspace: str | None = None) -> list[SendResult]:
        """Send every pending entry, one browser start per workspace."""
        by_workspace: dict[str, list[OutboxEntry]] = {}
        for entry in self.pending(workspace):
            by_workspace.setdefault(entry.workspace, []).append(entry)
        results: list[SendResult] = []
        for ws_id, entries in by_workspace.items():
            results.extend(self._send_workspace(ws_id, entries))
        return results

    def _send_workspace(self, ws_id: str, entries: list[OutboxEntry]) -> list[SendResult]:
        assert self.sweeper is not None
        sweeper = self.sweeper
        ws = self.rt.catalog.workspace(ws_id)
        results: list[SendResult] = []
        ready: list[tuple[OutboxEntry, Item]] = []
        for entry in entries:
            checked = self._precheck(entry, ws)
            if isinstance(checked, SendResult):
                results.append(checked)
            else:
                ready.append((entry, checked))
        if not ready:
            return results

        def held(holder: str) -> list[SendResult]:
            return results + [
                SendResult(e.id or 0, e.item_id, ws.id, e.state, error=f"taken over by {holder}")
                for e, _ in ready
            ]

        try:
            holder = sweeper.taken_over_by(ws.id)  # before waiting for a device a person holds
            if holder:
                return held(holder)
            with sweeper.leased(ws):
                holder = sweeper.taken_over_by(ws.id)
                if holder:
                    return held(holder)
                driver = None
                try:
                    for entry, item in ready:
                        if driver is None:
                            driver = sweeper.open_driver(ws)
                        result = self._send_leased(entry, item, ws, driver)
                        results.append(result)
                        if (result.error or "").startswith("crashed"):
                            driver.close()  # start a fresh browser for the next entry
                            driver = None
                finally:
                    if driver is not None:
                        driver.close()
        except LeaseHeld as exc:
            results.extend(
                SendResult(e.id or 0, e.item_id, ws.id, e.state, error=str(exc)) for e, _ in ready
            )
        except DriverError as exc:  # the browser did not start: entries stay pending
            results.extend(
                SendResult(e.id or 0, e.item_id, ws.id, e.state, error=str(exc))
                for e, _ in ready
                if e.id not in {r.entry for r in results}
            )
        return results

    def _precheck(self, entry: OutboxEntry, ws: Any) -> Item | SendResult:
        """The item, or the failure that makes sending pointless (recorded as failed)."""
        with self.rt.store.session() as s:
            item = s.get(Item, entry.item_id)
        if item is None:
            return self._fail(entry, "the item is gone from the store")
        blocked = self.final_check(entry.text, item.kind)
        if blocked:
            return self._fail(entry, "stop rule on the final text: " + ", ".join(blocked))
        why = self.rt.catalog.why_no_reply(ws.id, item.kind)
        if why is not None:
            return self._fail(entry, why)
        return item

    # -- one entry -----------------------------------------------------------------
    def _log(self, entry: OutboxEntry, type_: str, run_id: str | None = None, **data: Any) -> None:
        self.rt.log.append(
            entry.workspace, type_, run_id=run_id, outbox=entry.id, item=entry.item_id, **data
        )

    def _set(self, entry_id: int, **values: Any) -> None:
        with self.rt.store.session() as s:
            s.execute(update(OutboxEntry).where(col(OutboxEntry.id) == entry_id).values(**values))
            # -- webhooks (issue 16): reply.sent / reply.failed, in the same transaction
            from agent.webhooks import events as webhook_events

            webhook_events.outbox_state_set(s, entry_id, values.get("state"))

    def _fail(self, entry: OutboxEntry, reason: str, run_id: str | None = None) -> SendResult:
        assert entry.id is not None
        self._set(entry.id, state="failed", last_error=reason)
        self._log(entry, "reply_failed", run_id, reason=reason, final=True)
        return SendResult(
            entry.id, entry.item_id, entry.workspace, "failed", error=reason, run_id=run_id
        )

    def _send_leased(self, entry: OutboxEntry, item: Item, ws: Any, driver: Any) -> SendResult:
        assert entry.id is not None and self.sweeper is not None
        with self.rt.store.session() as s:  # claim: only an entry still sendable
            claimed = (
                s.connection()
                .execute(
                    update(OutboxEntry)
                    .where(col(OutboxEntry.id) == entry.id, col(OutboxEntry.state).in_(SENDABLE))
                    .values(state="sending", attempts=OutboxEntry.attempts + 1)
                )
                .rowcount
            )
            fresh = s.get(OutboxEntry, entry.id)
        if not claimed or fresh is None:
            return SendResult(entry.id, entry.item_id, ws.id, fresh.state if fresh else "gone")
        self._log(fresh, "reply_sending", attempt=fresh.attempts)
        flow = self.rt.catalog.flows[ws.flows.reply].model
        pack = self.rt.catalog.selectors[ws.selectors].model
        account = ws.environment.expected_account
        extra = {
            "thread": item.thread,
            "reply_text": fresh.text,
            "item_message_id": item.message_id or "",
            "item_text": item.text,
            "item_kind": item.kind,
            "item_author": item.author,
            "account_name": account.lstrip("@"),
        }
        result = self.sweeper.run_flow(ws, flow, pack, extra=extra, kind="reply", driver=driver)
        if result.status == "ok" and result.reply is not None:
            already = bool(result.reply.get("already_posted"))
            self._set(entry.id, state="sent", sent_at=utcnow(), last_error=None)
            with self.rt.store.session() as s:
                row = s.get(Item, item.id)
                if row is not None:
                    row.status = "replied"
                    s.add(row)
            self._log(
                fresh,
                "reply_sent",
                result.run_id,
                already_posted=already,
                text_hash=fresh.text_hash,
            )
            return SendResult(entry.id, item.id or 0, ws.id, "sent", already, run_id=result.run_id)
        reason = self._failure_reason(result, flow, item)
        if fresh.attempts >= self.max_attempts:
            return self._fail(fresh, f"after {fresh.attempts} attempts: {reason}", result.run_id)
        self._set(entry.id, state="approved", last_error=reason)
        self._log(
            fresh, "reply_failed", result.run_id, reason=reason, final=False, attempt=fresh.attempts
        )
        return SendResult(
            entry.id, item.id or 0, ws.id, "approved", error=reason, run_id=result.run_id
        )

    def _failure_reason(self, result: SweepResult, flow: Flow, item: Item) -> str:
        """Why a reply flow run did not send: never an empty cause."""
        if result.stop_reason:
            message = (result.message or "").strip() or "no message"
            return f"{result.stop_reason}: {message}"
        if result.status != "ok":
            return f"the reply flow ended {result.status} without a stop reason"
        reason = (
            f"the reply flow {flow.id!r} ran no send_reply step for a {item.kind} item: "
            "check its if_visible branches"
        )
        branches = self._branches_taken(result.run_id, item.workspace, flow)
        return f"{reason} ({'; '.join(branches)})" if branches else reason

    def _branches_taken(self, run_id: str | None, workspace: str, flow: Flow) -> list[str]:
        """``if_visible 'post_detail' (step 3): not shown, the else branch ran``, from the log."""
        if run_id is None:
            return []
        out: list[str] = []
        for event in self.rt.log.events(workspace, run_id=run_id):
            data = event.data
            if event.type != "step_ok" or "visible" not in data:
                continue
            path = str(data.get("step", ""))
            step = _step_at(flow, path)
            name = f" {step.if_visible.selector!r}" if isinstance(step, IfVisible) else ""
            shown = bool(data["visible"])
            branch = "then" if shown else "else"
            out.append(
                f"if_visible{name} (step {path}): {'shown' if shown else 'not shown'}, "
                f"the {branch} branch ran"
            )
        return out


def _step_at(flow: Flow, path: str) -> Any:
    """The step a runner path names ("3", "3.else.1", "2.4.1" inside a for_each), or None."""
    steps: list[Any] = flow.steps
    step: Any = None
    parts = iter(path.split("."))
    for part in parts:
        current: str | None = part
        if isinstance(step, IfVisible):
            steps = step.if_visible.then if part == "then" else step.if_visible.otherwise
            current = next(parts, None)
        elif isinstance(step, ForEach):
            steps = step.for_each.steps  # ``part`` is the entry's number
            current = next(parts, None)
        if current is None or not current.isdigit() or not 0 < int(current) <= len(steps):
            return None
        step = steps[int(current) - 1]
    return step
