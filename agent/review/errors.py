"""Errors of the review queue and its web UI.

Hierarchy::

    UserError (agent.errors)
    └── ReviewError          a review action cannot be done; the message is for a person
        ├── NotFound         no such item or workspace *for this user* (ungranted looks absent)
        ├── NotAllowed       the user's role is too low for the action
        ├── StaleDraft       the item or draft changed since the person looked at it
        └── InvalidState     the item is not in a state the action applies to

The web layer maps them to 404, 403, 409 and 409; the CLI prints them as one line.
"""

from __future__ import annotations

from agent.errors import UserError


class ReviewError(UserError):
    """A review action cannot be done."""

    status_code = 400


class NotFound(ReviewError):
    status_code = 404


class NotAllowed(ReviewError):
    status_code = 403


class StaleDraft(ReviewError):
    status_code = 409


class InvalidState(ReviewError):
    status_code = 409
