"""The background sender: one pass scans SLAs, fans new events out to the webhooks that
want them, and delivers what is due, with retries.

A pass claims at most ``batch`` due deliveries and posts each once (a timeout per request,
no redirects followed). A 2xx answer delivers it. Anything else — another status, a
connection error, a timeout, a secret missing from the environment — is retried with
exponential backoff and jitter: attempt ``n`` waits ``first_delay_seconds · 2^(n-1)``
(at most ``max_delay_seconds``), a random amount between half that and all of it, or the
receiver's ``Retry-After`` when that is longer. After ``max_attempts`` the delivery is
``failed`` with its last error, where ``inbox-agent webhooks deliveries`` shows it. A
delivery whose webhook is gone from ``webhooks.yaml`` is failed saying so.

The clock, the HTTP transport and the random source are injected (tests drive retries with
a clock, not with sleeps). The scheduler runs a pass every tick in a job of its own, so a
slow receiver delays neither planning nor a sweep; sweeps only ever insert events.
Errors name the webhook and the URL's host, never the URL's path, query or a secret.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from agent.store import Store, utcnow
from agent.store.types import this_host
from agent.webhooks import deliveries, payloads, slack
from agent.webhooks.config import Webhook, WebhooksConfig, redact_url, webhooks_config
from agent.webhooks.errors import WebhookError
from agent.webhooks.signing import secret_key, sign_headers
from agent.webhooks.sla import scan_sla

if TYPE_CHECKING:
    from agent.runtime import Runtime
    from agent.store.models import WebhookEvent

USER_AGENT = "inbox-agent-webhooks/1"
ERROR_CHARS = 500
PRUNE_EVERY = 360  # passes (an hour at the default 10 s tick)


@dataclass(frozen=True)
class Attempt:
    """How one request went: ``status`` (None: no answer) and, unless 2xx, why."""

    status: int | None
    error: str | None = None
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class PassReport:
    sla_events: int = 0
    fanned_out: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


def _clean_error(text: str, url: str) -> str:
    """An error message safe to store and show: the URL reduced to its host."""
    return text.replace(url, redact_url(url))[:ERROR_CHARS]


@dataclass
class Sender:
    store: Store
    config: WebhooksConfig
    client_of: Callable[[str], str | None] = lambda _ws: None
    clock: Callable[[], datetime] = utcnow
    transport: httpx.BaseTransport | None = None
    rng: random.Random = field(default_factory=random.Random)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    batch: int = 50
    holder: str = field(
        default_factory=lambda: f"webhooks {this_host()} pid {os.getpid()} {uuid.uuid4().hex[:8]}"
    )
    passes: int = 0

    @property
    def stale_after(self) -> timedelta:
        """A claim older than this was left by a sender that died mid-request."""
        return timedelta(seconds=self.config.retry.timeout_seconds + 60)

    def delay(self, attempts: int, retry_after_s: float | None = None) -> timedelta:
        """How long to wait after the ``attempts``-th failed attempt."""
        retry = self.config.retry
        full = min(retry.max_delay_seconds, retry.first_delay_seconds * 2 ** (attempts - 1))
        wait = self.rng.uniform(full / 2, full)
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, retry.max_delay_seconds))
        return timedelta(seconds=wait)

    def run_once(self, should_stop: Callable[[], bool] = lambda: False) -> PassReport:
        """One pass: SLA events, fan-out, then the due deliveries (until ``should_stop``)."""
        report = PassReport()
        report.sla_events = scan_sla(
            self.store, now=self.clock(), warning_minutes=self.config.sla_warning_minutes
        )
        report.fanned_out = deliveries.fan_out(
            self.store, self.config.webhooks, self.client_of, now=self.clock()
        )
        claimed = deliveries.claim_due(
            self.store,
            now=self.clock(),
            holder=self.holder,
            limit=self.batch,
            stale_after=self.stale_after,
        )
        for claim in claimed:
            if should_stop():  # the rest stay claimed; a later pass takes them once stale
                break
            self._deliver(claim, report)
        if self.passes % PRUNE_EVERY == 0:
            deliveries.prune(self.store, older_than=self.clock() - deliveries.KEEP)
        self.passes += 1
        return report

    def _deliver(self, claim: deliveries.Claimed, report: PassReport) -> None:
        d = claim.delivery
        assert d.id is not None
        hook = next((h for h in self.config.webhooks if h.name == d.webhook), None)
        if hook is None:
            error = f"webhook {d.webhook} is no longer in webhooks.yaml"
            deliveries.mark_failed(
                self.store, d.id, self.holder, now=self.clock(), status=None, error=error
            )
            report.failed += 1
            return
        attempt = self.post(hook, claim.event)
        now = self.clock()
        if attempt.ok:
            assert attempt.status is not None
            deliveries.mark_delivered(self.store, d.id, self.holder, now=now, status=attempt.status)
            report.delivered += 1
            return
        error = attempt.error or "no answer"
        if d.attempts >= self.config.retry.max_attempts:
            error = f"after {d.attempts} attempt{'s' if d.attempts != 1 else ''}: {error}"
            deliveries.mark_failed(
                self.store, d.id, self.holder, now=now, status=attempt.status, error=error
            )
            report.failed += 1
            return
        at = now + self.delay(d.attempts, attempt.retry_after_s)
        deliveries.mark_retry(
            self.store, d.id, self.holder, at=at, status=attempt.status, error=error
        )
        report.retried += 1

    def request(self, hook: Webhook, event: WebhookEvent) -> tuple[str, bytes, dict[str, str]]:
        """The URL, body and headers of one attempt now (``WebhookError`` when a variable
        the webhook names is missing, or its secret is unusable)."""
        url = hook.resolved_url(self.environ)
        client = self.client_of(event.workspace) if event.workspace else None
        review_url = self.config.review_url
        if hook.kind == "slack":
            data = payloads.event_data(event, hook, client=client, review_url=review_url)
            body = payloads.json_body(slack.message(event.type, data))
        else:
            body = payloads.json_body(
                payloads.envelope(event, hook, client=client, review_url=review_url)
            )
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        secret = hook.secret(self.environ)
        if secret is not None:
            headers.update(sign_headers(secret_key(secret), event.event_id, self.clock(), body))
        return url, body, headers

    def post(self, hook: Webhook, event: WebhookEvent) -> Attempt:
        """Send ``event`` to ``hook`` once; never raises for the receiver's sake."""
        try:
            url, body, headers = self.request(hook, event)
        except WebhookError as exc:
            return Attempt(None, str(exc))
        timeout = self.config.retry.timeout_seconds
        try:
            with httpx.Client(
                transport=self.transport, timeout=timeout, follow_redirects=False
            ) as client:
                response = client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Attempt(None, f"no answer from {redact_url(url)} within {timeout:g} s")
        except httpx.HTTPError as exc:
            detail = _clean_error(f"{type(exc).__name__}: {exc}", url)
            return Attempt(None, f"{redact_url(url)}: {detail}")
        if 200 <= response.status_code < 300:
            return Attempt(response.status_code)
        snippet = " ".join(response.text[:200].split())
        error = _clean_error(
            f"HTTP {response.status_code} from {redact_url(url)}"
            + (f": {snippet}" if snippet else ""),
            url,
        )
        return Attempt(response.status_code, error, _retry_after(response))


def client_lookup(rt: Runtime) -> Callable[[str], str | None]:
    """workspace -> its client name, from the home's configuration."""
    clients = rt.catalog.clients()
    return clients.get


def sender_for(rt: Runtime, **options: Any) -> Sender:
    """A sender for the home's ``webhooks.yaml`` (``ConfigError`` when it has problems)."""
    config = webhooks_config(rt.home.root, rt.catalog)
    return Sender(rt.store, config, client_of=client_lookup(rt), **options)
