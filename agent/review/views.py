"""Saved views: a reviewer's named queue filters, kept per user in the store.

A view is the queue page's query string parameters (``FILTER_KEYS``: the filters, the
search words, the page size; never the page, so a view opens at its first page).
Saving checks them as the queue would read them (a key the queue does not know, a
value that is not a date, number or yes/no: ``BadFilter``); a status or intent the
taxonomy does not know is refused when the view is opened, by ``check_filter``.
Every function takes the user's name and touches only that user's views: a user
never reads, replaces or deletes another's.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from sqlmodel import Session, col, select

from agent.review.queries import FILTER_KEYS, BadFilter, filter_from_params, filter_params
from agent.store import SavedView, utcnow

MAX_VIEWS = 50  # per user
MAX_NAME = 100
MAX_VALUE = 500


def clean_params(params: Mapping[str, str]) -> dict[str, str]:
    """The filter parameters of a view, normalised (defaults and empty values left out).

    ``page`` is dropped; any other key outside ``FILTER_KEYS`` is a BadFilter.
    """
    unknown = sorted(k for k in params if k not in FILTER_KEYS and k != "page")
    if unknown:
        shown = ", ".join(repr(k[:40]) for k in unknown[:5])
        raise BadFilter(f"a view holds only queue filters ({', '.join(FILTER_KEYS)}), not {shown}")
    for key, value in params.items():
        if not isinstance(value, str):
            raise BadFilter(f"the view's {key} must be text")
        if len(value) > MAX_VALUE:
            raise BadFilter(f"the view's {key} is longer than {MAX_VALUE} characters")
    wanted = {k: v for k, v in params.items() if k != "page"}
    return filter_params(filter_from_params(wanted))


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise BadFilter("a view needs a name")
    if len(name) > MAX_NAME:
        raise BadFilter(f"a view's name is at most {MAX_NAME} characters")
    return name


def save_view(session: Session, user: str, name: str, params: Mapping[str, str]) -> SavedView:
    """Save ``params`` as ``user``'s view ``name`` (replacing their view of that name)."""
    name = _clean_name(name)
    cleaned = clean_params(params)
    view = session.exec(
        select(SavedView).where(SavedView.user == user, SavedView.name == name)
    ).first()
    if view is None:
        count = len(session.exec(select(SavedView.id).where(SavedView.user == user)).all())
        if count >= MAX_VIEWS:
            raise BadFilter(f"{user} has {MAX_VIEWS} saved views already: delete one first")
        view = SavedView(user=user, name=name, params=cleaned)
    else:
        view.params = cleaned
        view.updated_at = utcnow()
    session.add(view)
    session.flush()
    return view


def views_of(session: Session, user: str) -> list[SavedView]:
    """``user``'s saved views, by name."""
    stmt = select(SavedView).where(SavedView.user == user)
    return list(session.exec(stmt.order_by(col(SavedView.name), col(SavedView.id))).all())


def get_view(session: Session, user: str, view_id: int) -> SavedView | None:
    """``user``'s view ``view_id``; None when it does not exist or is another user's."""
    view = session.get(SavedView, view_id) if 0 < view_id <= 2**31 - 1 else None
    return view if view is not None and view.user == user else None


def delete_view(session: Session, user: str, view_id: int) -> bool:
    """Delete ``user``'s view ``view_id``; False (nothing changes) for another's or none."""
    view = get_view(session, user, view_id)
    if view is None:
        return False
    session.delete(view)
    session.flush()
    return True


def view_href(view: SavedView) -> str:
    """The queue page's address that opens ``view``."""
    return "/?" + urlencode(view.params) if view.params else "/"
