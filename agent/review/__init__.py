"""The review queue: people approve, edit, reject, escalate, reassign, resolve and
restore triaged items, and take over workspaces, from a web UI, a JSON API or the CLI.

``create_app`` builds the web app (imported on first use: the CLI's review
commands do not pay for FastAPI); the actions in ``agent.review.actions`` are
what every front end calls; ``agent.review.auth`` holds users, roles and grants.
"""

from typing import TYPE_CHECKING, Any

from agent.review.actions import (
    approve,
    assign,
    escalate,
    hand_back,
    reject,
    resolve,
    restore,
    save_draft,
    take_over,
)
from agent.review.errors import InvalidState, NotAllowed, NotFound, ReviewError, StaleDraft
from agent.review.queries import QueueFilter, draft_hash, item_detail, queue

__all__ = [
    "InvalidState",
    "NotAllowed",
    "NotFound",
    "QueueFilter",
    "ReviewError",
    "StaleDraft",
    "approve",
    "assign",
    "create_app",
    "draft_hash",
    "escalate",
    "hand_back",
    "item_detail",
    "queue",
    "reject",
    "resolve",
    "restore",
    "save_draft",
    "take_over",
]

if TYPE_CHECKING:
    from agent.review.app import create_app


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from agent.review.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
