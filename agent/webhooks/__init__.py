"""Signed webhooks: tell the places teams work about P1 items, SLAs about to pass or passed,
sweeps that stopped, takeovers and hand-backs, and replies sent or failed.

Modules, one job each: ``config`` (``webhooks.yaml``), ``events`` (what is recorded where it
happens), ``sla`` (the time-based scan), ``deliveries`` (the store's outbox of deliveries:
fan-out, claims, outcomes), ``payloads`` (the JSON body), ``slack`` (the Slack message),
``signing`` (Standard Webhooks signatures and ``verify``), ``sender`` (the background
sender with retries), ``errors``.

Importing this package imports nothing else: the sweep, the outbox and triage import
``events`` only, and the HTTP client loads with ``sender``.
"""
