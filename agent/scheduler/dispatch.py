"""Handing planned runs on: to this host's thread pool, or to Celery queues over Redis.

In-process (the default, one machine, SQLite is enough): a pool of ``caps.host``
threads runs each planned run with ``execute.run_planned``; stopping waits for the
runs in flight to finish.

Distributed (``INBOX_AGENT_BROKER`` set): each run is sent to its host's queue
(``host.NAME``, or ``inbox-agent`` for a workspace no host is named for), where an
``inbox-agent worker`` picks it up; the store must then be a PostgreSQL every host
shares.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from agent.runtime import Runtime
from agent.scheduler.execute import RunHeld, RunOutcome, run_planned
from agent.scheduler.ticks import finish_tick
from agent.store import SweepTick, utcnow

logger = logging.getLogger(__name__)
RUN_TASK = "inbox_agent.run_planned"


class InProcess:
    """Runs planned runs on this host, at most ``workers`` at once."""

    def __init__(
        self,
        rt: Runtime,
        workers: int,
        *,
        name: str,
        drain_outbox: bool = True,
        on_done: Callable[[RunOutcome], None] | None = None,
    ):
        self.rt = rt
        self.on_done = on_done
        self.name = name
        self.drain_outbox = drain_outbox
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep")
        self.running: dict[int, Future[RunOutcome | None]] = {}
        self._lock = threading.Lock()
        self.outcomes: list[RunOutcome] = []
        rt.triage()  # built once, before threads share it

    def dispatch(self, tick: SweepTick) -> None:
        assert tick.id is not None
        future = self.pool.submit(self._run, tick.id, tick.workspace)
        with self._lock:
            self.running[tick.id] = future

    def _run(self, tick_id: int, workspace: str) -> RunOutcome | None:
        try:
            outcome = run_planned(
                self.rt, tick_id, worker=self.name, drain_outbox=self.drain_outbox
            )
            with self._lock:
                self.outcomes.append(outcome)
            if self.on_done is not None:
                self.on_done(outcome)
            return outcome
        except RunHeld:
            return None
        except Exception as exc:  # noqa: BLE001 - one workspace's failure never stops the rest
            logger.exception("run %s of %s failed", tick_id, workspace)
            message = f"{type(exc).__name__}: {exc}"
            self.rt.log.append(workspace, "sweep_failed", tick=tick_id, error=message[:500])
            finish_tick(
                self.rt.store, tick_id, now=utcnow(), result="failed", run_id=None, outcome=message
            )
            return None
        finally:
            with self._lock:
                self.running.pop(tick_id, None)

    def busy(self) -> int:
        with self._lock:
            return len(self.running)

    def close(self, *, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=not wait)


class ToCelery:
    """Sends each planned run to its host's Celery queue (``agent.scheduler.worker``)."""

    def __init__(self, app: Any):
        self.app = app

    def dispatch(self, tick: SweepTick) -> None:
        self.app.send_task(RUN_TASK, args=[tick.id], queue=tick.queue)

    def busy(self) -> int:
        return 0

    def close(self, *, wait: bool = True) -> None:
        return None
