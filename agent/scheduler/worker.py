"""``inbox-agent worker``: Celery workers over Redis that run planned sweeps and sends.

Each host runs workers for the queues of what it has: ``host.NAME`` (the profiles
and devices whose ``host:`` is NAME) and the shared ``inbox-agent`` queue. State is
in a PostgreSQL every host shares (``INBOX_AGENT_DB``); the broker is
``INBOX_AGENT_BROKER`` (a ``redis://`` URL).

Acknowledgement is late (``task_acks_late``, ``task_reject_on_worker_lost``): a run
whose worker dies is delivered again, to the next worker of that queue, once the
broker's visibility timeout (``INBOX_AGENT_BROKER_VISIBILITY_S``) has passed. The
rerun waits while the first holder's lease on the run is alive (``RunHeld``: retried)
and collects nothing twice once it runs (stable item keys, leases in the store).
"""

from __future__ import annotations

import os
from typing import Any

from agent.scheduler.config import BROKER_ENV
from agent.scheduler.dispatch import RUN_TASK

VISIBILITY_ENV = "INBOX_AGENT_BROKER_VISIBILITY_S"
DEFAULT_VISIBILITY_S = 3600.0
RETRY_HELD_S = 10.0

_runtime: Any = None


def broker_url() -> str | None:
    return os.environ.get(BROKER_ENV) or None


def make_app(url: str) -> Any:
    from celery import Celery

    app = Celery("inbox-agent", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue="inbox-agent",
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": float(os.environ.get(VISIBILITY_ENV, DEFAULT_VISIBILITY_S))
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )

    @app.task(name=RUN_TASK, bind=True, max_retries=None)
    def run_planned_task(self: Any, tick_id: int) -> dict[str, Any]:
        from agent.scheduler.execute import RunHeld, run_planned
        from agent.store.types import this_host

        try:
            outcome = run_planned(
                runtime(), tick_id, worker=f"{this_host()} {self.request.hostname}"
            )
        except RunHeld as exc:
            raise self.retry(countdown=RETRY_HELD_S, exc=exc) from exc
        return {"tick": outcome.tick, "result": outcome.result, "run_id": outcome.run_id}

    return app


def runtime() -> Any:
    """This worker process's runtime, opened on its first run (after the pool forked)."""
    global _runtime
    if _runtime is None:
        from agent.runtime import open_runtime
        from workspaces.paths import Home

        _runtime = open_runtime(Home.resolve())
    return _runtime


def run_worker(app: Any, *, queues: list[str], concurrency: int, name: str, loglevel: str) -> None:
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(queues),
            "--concurrency",
            str(concurrency),
            "--hostname",
            name,
            "--loglevel",
            loglevel,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
