"""Errors of the webhooks package.

Hierarchy::

    InboxAgentError
    └── WebhookError             anything about a webhook a person must fix (one line, exit 1)
        ├── UnknownWebhook       no webhook with that name in webhooks.yaml
        ├── SecretMissing        the environment variable a webhook names is not set
        ├── SecretInvalid        its value cannot be a signing secret (empty, bad base64, short)
        └── VerificationError    a request's webhook-* headers do not verify (receivers)

Configuration problems are ``workspaces.errors.ConfigError`` (file, line, field), like every
other configuration file's. No message ever holds a secret's value.
"""

from __future__ import annotations

from agent.errors import InboxAgentError


class WebhookError(InboxAgentError):
    """Base class: the message is meant for a person."""


class UnknownWebhook(WebhookError):
    pass


class SecretMissing(WebhookError):
    pass


class SecretInvalid(WebhookError):
    pass


class VerificationError(WebhookError):
    pass
