"""The home's webhooks: ``webhooks.yaml`` beside ``workspaces/`` (optional)::

    sla_warning_minutes: 30          # "about to breach": this long before (at most half the SLA)
    review_url: https://review.acme.example   # optional: messages link to the item's page
    retry: {max_attempts: 10, first_delay_seconds: 30, max_delay_seconds: 3600, timeout_seconds: 10}
    webhooks:
      - name: ops-events
        kind: json                   # Standard Webhooks: signed JSON
        url: https://ops.example.com/hooks/inbox
        secret_env: OPS_WEBHOOK_SECRET   # the variable that holds whsec_…
        events: [item.p1, sla.breached, sweep.stopped]   # default: every event
        workspaces: [acme-instagram] # default: every workspace (clients: by client name)
      - name: support-slack
        kind: slack                  # a Slack incoming-webhook message
        url_env: SUPPORT_SLACK_URL   # Slack's URL is itself the secret

Secrets never come from this file: a signing secret is read from the environment variable
``secret_env`` names, and a URL that holds a credential (Slack's, one with ``user:pass@`` or
a token in its query) from ``url_env``. A literal secret in the file (a ``secret:`` key, a
``whsec_…`` value, such a URL) is refused at its line, without repeating it. Every problem
is a ``ConfigProblem`` (file, line, column, field), as for every other configuration file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, field_validator, model_validator

from agent.store.models import WebhookEventType
from agent.webhooks.errors import SecretMissing, UnknownWebhook
from workspaces.errors import ConfigError, ConfigProblem
from workspaces.models import ENV_NAME, Identifier
from workspaces.paths import WEBHOOKS_FILE
from workspaces.source import Document, YamlSourceError, load_yaml
from workspaces.validation import ConfigModel, parse_model

if TYPE_CHECKING:
    from agent.config import Catalog

ALL_EVENTS: tuple[WebhookEventType, ...] = tuple(WebhookEventType)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Keys that would hold a secret's value; the file names variables instead (``*_env``).
SECRET_KEYS = frozenset({"secret", "signing_secret", "token", "api_key", "password", "key"})
# Query parameters whose value is a credential (``access_token``, ``api-key``, ``sig``…).
_SECRET_PARAM_WORDS = frozenset(
    {"token", "secret", "key", "apikey", "sig", "signature", "password", "auth", "code"}
)
# URLs whose path is the credential (anyone holding one can post to the channel).
_SECRET_URLS = (
    re.compile(r"^https?://hooks\.slack\.com/", re.IGNORECASE),
    re.compile(r"^https?://([a-z0-9-]+\.)?discord(app)?\.com/api/webhooks/", re.IGNORECASE),
    re.compile(r"^https?://[^/]*webhook\.office\.com/", re.IGNORECASE),
)


def url_credential(url: str) -> str | None:
    """Why ``url`` holds a credential (so it belongs in an environment variable), or None."""
    parts = urlsplit(url)
    if parts.username or parts.password or "@" in parts.netloc:
        return "it has user:password@ in it"
    if any(p.match(url) for p in _SECRET_URLS):
        return "its path is the webhook's secret"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_PARAM_WORDS & set(re.split(r"[_\-.]", name.lower())):
            return f"its query has {name}="
    return None


def redact_url(url: str) -> str:
    """What may be shown of a URL: scheme, host and port (never a path or query)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}/…" if parts.scheme else "…"


class Retry(ConfigModel):
    max_attempts: int = Field(10, ge=1, le=50, description="then the delivery is failed")
    first_delay_seconds: float = Field(30, ge=0.1, le=3600)
    max_delay_seconds: float = Field(3600, ge=1, le=86400)
    timeout_seconds: float = Field(10, ge=0.5, le=120, description="per request")


class Webhook(ConfigModel):
    name: Identifier
    kind: Literal["json", "slack"]
    url: str | None = Field(None, description="a URL with no credential in it")
    url_env: ENV_NAME | None = Field(None, description="the variable that holds the URL")
    secret_env: ENV_NAME | None = Field(None, description="the variable that holds the secret")
    events: list[WebhookEventType] = Field(default_factory=lambda: list(ALL_EVENTS))
    workspaces: list[Identifier] = Field(default_factory=list, description="none: all")
    clients: list[str] = Field(default_factory=list, description="none: all")
    include_text: bool = Field(True, description="send the customer's message text")

    @field_validator("url")
    @classmethod
    def _plain_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http:// or https:// URL")
        why = url_credential(value)
        if why is not None:
            raise ValueError(
                f"this URL holds a credential ({why}): put it in an environment variable "
                "and name that variable with url_env"
            )
        return value

    @model_validator(mode="after")
    def _complete(self) -> Webhook:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        if self.kind == "json" and self.secret_env is None:
            raise ValueError(
                "a json webhook is signed: set secret_env to the environment variable that "
                "holds its secret (whsec_…)"
            )
        if not self.events:
            raise ValueError("events is empty: leave it out for every event")
        return self

    def wants(self, event_type: str, workspace: str, client: str | None) -> bool:
        if event_type not in self.events:
            return False
        if self.workspaces and workspace not in self.workspaces:
            return False
        return not self.clients or client in self.clients

    def resolved_url(self, environ: Mapping[str, str] | None = None) -> str:
        if self.url is not None:
            return self.url
        assert self.url_env is not None
        return self._from_env(self.url_env, "the webhook's URL", "url_env", environ)

    def secret(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The signing secret from the environment (None: this webhook is not signed)."""
        if self.secret_env is None:
            return None
        return self._from_env(self.secret_env, "the signing secret", "secret_env", environ)

    def _from_env(self, name: str, holds: str, key: str, environ: Mapping[str, str] | None) -> str:
        value = (environ if environ is not None else os.environ).get(name, "").strip()
        if not value:
            raise SecretMissing(
                f"webhook {self.name}: the environment variable {name} is not set "
                f"(it holds {holds}; {WEBHOOKS_FILE} names it in {key})"
            )
        return value

    def shown_url(self) -> str:
        return self.url if self.url is not None else f"${self.url_env}"


class WebhooksConfig(ConfigModel):
    webhooks: list[Webhook] = Field(default_factory=list)
    sla_warning_minutes: float = Field(30, gt=0, le=24 * 60)
    review_url: str | None = Field(None, pattern=r"^https?://[^\s]+$")
    retry: Retry = Retry()

    def webhook(self, name: str) -> Webhook:
        for hook in self.webhooks:
            if hook.name == name:
                return hook
        known = ", ".join(h.name for h in self.webhooks) or "none"
        raise UnknownWebhook(f"no webhook named {name!r} in {WEBHOOKS_FILE} (known: {known})")


def _walk(
    node: Any, loc: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    yield loc, node
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _walk(child, (*loc, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _walk(child, (*loc, index))


def secret_problems(doc: Document) -> list[ConfigProblem]:
    """Every literal secret in the file, at its line (the value itself is never repeated)."""
    out: list[ConfigProblem] = []

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        line, col = doc.mark(loc)
        out.append(ConfigProblem(str(doc.path), line, col, doc.field_name(loc), message))

    for loc, value in _walk(doc.data):
        key = loc[-1] if loc else None
        if isinstance(key, str) and key.lower() in SECRET_KEYS:
            problem(
                loc,
                "a secret never goes in this file: put it in an environment variable and "
                "name that variable with secret_env",
            )
        elif key in ("secret_env", "url_env") and isinstance(value, str):
            if not _ENV_NAME.match(value):
                problem(
                    loc,
                    f"{key} names the environment variable that holds the value (such as "
                    "OPS_WEBHOOK_SECRET), not the value itself",
                )
        elif isinstance(value, str) and value.strip().startswith("whsec_"):
            problem(
                loc,
                "this is a signing secret: it never goes in this file; put it in an "
                "environment variable and name that variable with secret_env",
            )
    return out


def _duplicate_names(doc: Document) -> list[ConfigProblem]:
    hooks = doc.data.get("webhooks") if isinstance(doc.data, dict) else None
    seen: dict[str, int] = {}
    out = []
    for index, hook in enumerate(hooks if isinstance(hooks, list) else []):
        name = hook.get("name") if isinstance(hook, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            loc = ("webhooks", index, "name")
            line, col = doc.mark(loc)
            message = f"duplicate webhook name {name!r} (also webhooks[{seen[name]}])"
            out.append(ConfigProblem(str(doc.path), line, col, doc.field_name(loc), message))
        else:
            seen[name] = index
    return out


def load_webhooks_config(
    root: Path,
) -> tuple[WebhooksConfig, Document | None, list[ConfigProblem]]:
    """The home's webhooks (none when the file does not exist), and every problem in it."""
    path = root / WEBHOOKS_FILE
    if not path.is_file():
        return WebhooksConfig(), None, []
    try:
        doc = load_yaml(path)
    except YamlSourceError as exc:
        if exc.problem.message == "file is empty":
            return WebhooksConfig(), None, []
        return WebhooksConfig(), None, [exc.problem]
    found = secret_problems(doc)
    flagged = {p.field for p in found}
    model, problems = parse_model(WebhooksConfig, doc)
    found += [p for p in problems if p.field not in flagged]  # said once, the clearer way
    found += _duplicate_names(doc)
    if found:
        return WebhooksConfig(), doc, sorted(found)
    return (model or WebhooksConfig()), doc, []


def reference_problems(
    config: WebhooksConfig, doc: Document, catalog: Catalog
) -> list[ConfigProblem]:
    """Workspaces and clients a webhook names that the configuration does not have."""
    clients = sorted({w.model.client for w in catalog.workspaces.values()})
    out = []
    for i, hook in enumerate(config.webhooks):
        for j, ws in enumerate(hook.workspaces):
            if ws not in catalog.workspaces:
                loc: tuple[str | int, ...] = ("webhooks", i, "workspaces", j)
                line, col = doc.mark(loc)
                out.append(
                    ConfigProblem(
                        str(doc.path), line, col, doc.field_name(loc), f"no workspace {ws!r}"
                    )
                )
        for j, client in enumerate(hook.clients):
            if client not in clients:
                loc = ("webhooks", i, "clients", j)
                line, col = doc.mark(loc)
                message = f"no workspace has client {client!r} (clients: {', '.join(clients)})"
                out.append(ConfigProblem(str(doc.path), line, col, doc.field_name(loc), message))
    return out


def webhooks_config(root: Path, catalog: Catalog | None = None) -> WebhooksConfig:
    """The home's checked webhooks; ``ConfigError`` with every problem otherwise."""
    config, doc, problems = load_webhooks_config(root)
    if doc is not None and catalog is not None and not problems:
        problems = reference_problems(config, doc, catalog)
    if problems:
        raise ConfigError(problems)
    return config
