"""The scheduler: ``inbox-agent run`` plans every workspace's sweeps and hands them on.

- ``config``   the home's ``scheduler.yaml`` (caps, per-platform spacing, tick length)
- ``cadence``  when a workspace is due next (its schedule, SLA cadence, quiet and
               business hours, jitter, spacing), a pure function of the store's facts
- ``ticks``    the store's record of planned runs (``sweep_ticks``), claimed once
- ``planner``  one tick: what is due, what the caps allow, what is skipped and why
- ``execute``  running one planned run: its lease, the sweep, the outbox
- ``dispatch`` in-process (a thread pool) or Celery over Redis (``worker``)
- ``service``  the long-running loop (APScheduler), leadership and SIGTERM
- ``status``   what ``inbox-agent status`` and the review UI show
"""
