"""Why a flow halts.

Hierarchy::

    FlowStop                a named stop: reason is one of flows.models.STOP_REASONS
    FlowDefinitionError     the flow cannot run as written (unknown variable, selector)

A FlowStop is control flow, not a crash (like Scrapy's CloseSpider(reason)):
the sweep records the reason, a screenshot and a log event, and ends
``stopped``.
"""

from __future__ import annotations

from devices.errors import Evidence


class FlowStop(Exception):
    def __init__(self, reason: str, message: str, evidence: Evidence | None = None):
        self.reason = reason
        self.message = message
        self.evidence = evidence or Evidence()
        super().__init__(f"{reason}: {message}")


class FlowDefinitionError(Exception):
    pass
