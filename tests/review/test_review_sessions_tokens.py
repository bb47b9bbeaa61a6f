"""Sessions kept in the store (restart, sign-out, expiry) and personal API tokens (the CLI,
bearer requests on the API, grants and roles, CSRF, revocation), on each backend."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, SECRET, World, csrf_of, login
from sqlmodel import select
from typer.testing import CliRunner, Result

from agent.cli import app as cli
from agent.review import create_app
from agent.review.auth import new_api_token, require_user
from agent.review.sessions import SessionStore, secret_hash
from agent.store import ApiToken, User, WebSessionRow, utcnow
from agent.store.models import metadata

BASE = "https://testserver"
runner = CliRunner()


@pytest.fixture
def restarted(world: World) -> Iterator[Callable[[], FastAPI]]:
    """Another app over the same home and store, with its own runtime: a restart."""
    apps: list[FastAPI] = []

    def make() -> FastAPI:
        fresh = create_app(world.home)
        apps.append(fresh)
        return fresh

    yield make
    for fresh in apps:
        fresh.state.review.runtime.store.close()


def _token(world: World, name: str, *, days: int | None = None) -> str:
    with world.store.session() as s:
        _row, token = new_api_token(s, require_user(s, name), "script", expires_days=days)
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _session_rows(world: World) -> list[WebSessionRow]:
    with world.store.session() as s:
        return list(s.exec(select(WebSessionRow)).all())


def _cli(world: World, *args: str) -> Result:
    return runner.invoke(cli, ["--home", str(world.home.root), *args])


# -- sessions in the store ------------------------------------------------------------


def test_a_restart_keeps_people_signed_in(
    world: World, client_for: Callable[[str], TestClient], restarted: Callable[[], FastAPI]
) -> None:
    item_id = world.item(ACME, "Do you ship to Norway?")
    alice = client_for("alice")
    before = alice.get("/api/me").json()
    cookie = alice.cookies.get("ia_session")
    assert cookie and len(_session_rows(world)) == 1
    again = TestClient(restarted(), base_url=BASE, cookies={"ia_session": cookie})
    me = again.get("/api/me")
    assert me.status_code == 200 and me.json() == before  # same user, same CSRF token
    assert again.get(f"/items/{item_id}").status_code == 200
    # the CSRF token carries over too: a form post on the new app is accepted
    csrf = csrf_of(again.get(f"/items/{item_id}").text)
    assert csrf == before["csrf_token"]
    r = again.post(
        f"/items/{item_id}/resolve",
        data={"csrf_token": csrf, "reason": "answered by phone"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert world.get_item(item_id).status == "resolved"


def test_signing_out_deletes_the_session_everywhere(
    world: World, client_for: Callable[[str], TestClient], restarted: Callable[[], FastAPI]
) -> None:
    alice = client_for("alice")
    client_for("bob")
    cookie = alice.cookies.get("ia_session")
    assert len(_session_rows(world)) == 2
    csrf = csrf_of(alice.get("/").text)
    assert (
        alice.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )
    rows = _session_rows(world)
    assert [r.user_id for r in rows] == [world.get_user("bob").id]  # bob is still signed in
    for app in (alice.app, restarted()):
        stolen = TestClient(app, base_url=BASE, cookies={"ia_session": cookie})
        assert stolen.get("/api/me").status_code == 401
        assert stolen.get("/", follow_redirects=False).headers["location"] == "/login"


def test_sessions_expire_when_idle_and_at_their_maximum_age(world: World) -> None:
    now = [2_000_000_000.0]
    sessions = SessionStore(
        idle_seconds=100, max_seconds=300, touch_seconds=10, clock=lambda: now[0]
    )
    app = create_app(world.runtime, sessions=sessions)

    def signed_in() -> TestClient:
        return login(TestClient(app, base_url=BASE), "alice")

    alice = signed_in()
    for _ in range(3):  # each request within the idle limit keeps it alive...
        now[0] += 90
        assert alice.get("/api/me").status_code == 200
    now[0] += 40  # ...but not past its maximum age (310 s > 300 s)
    assert alice.get("/api/me").status_code == 401
    assert _session_rows(world) == []  # an expired session's row is removed

    idle = signed_in()
    now[0] += 99
    assert idle.get("/api/me").status_code == 200
    now[0] += 101  # more than the idle limit since the last request
    assert idle.get("/api/me").status_code == 401
    assert idle.get("/", follow_redirects=False).headers["location"] == "/login"

    # rows of sessions nobody came back to are cleared when the next person signs in
    forgotten = signed_in()
    now[0] += 500
    signed_in()
    assert len(_session_rows(world)) == 1
    assert forgotten.get("/api/me").status_code == 401


def test_a_disabled_users_session_ends(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    alice = client_for("alice")
    assert alice.get("/api/me").status_code == 200
    with world.store.session() as s:
        user = require_user(s, "alice")
        user.disabled = True
        s.add(user)
    assert alice.get("/api/me").status_code == 401
    assert _session_rows(world) == []


def test_the_store_keeps_no_session_or_api_token_in_clear(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    alice = client_for("alice")
    cookie = alice.cookies.get("ia_session") or ""
    csrf = alice.get("/api/me").json()["csrf_token"]
    token = _token(world, "alice")
    assert alice.get("/api/me", headers=_bearer(token)).status_code == 200
    assert cookie and csrf and token and len({cookie, csrf, token}) == 3
    stored: list[str] = []
    with world.store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                stored.extend(str(value) for value in row)
    everything = "\n".join(stored)
    for secret in (cookie, csrf, token):
        assert secret not in everything
        assert secret[4:20] not in everything  # nor a long piece of one
    # what is kept is the hash (so this test looked at the right rows)
    assert secret_hash(cookie) in everything and secret_hash(token) in everything


# -- API tokens: the CLI --------------------------------------------------------------


def test_token_create_list_revoke_through_the_cli(world: World, app: FastAPI) -> None:
    made = _cli(world, "users", "token", "create", "alice", "--name", "nightly export")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("ia_") and len(token) > 40
    assert "not shown again" in made.output
    api = TestClient(app, base_url=BASE)
    assert api.get("/api/me", headers=_bearer(token)).json()["name"] == "alice"

    timed = _cli(world, "users", "token", "create", "bob", "--name", "ci", "--expires-days", "7")
    assert timed.exit_code == 0, timed.output
    listed = _cli(world, "users", "token", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.strip().splitlines()]
    assert [(r["user"], r["name"], r["state"]) for r in rows] == [
        ("alice", "nightly export", "active"), ("bob", "ci", "active")
    ]  # fmt: skip
    first = rows[0]
    assert first["prefix"] == token[:11] and first["last_used_at"] is not None
    assert first["expires_at"] is None and rows[1]["expires_at"] is not None
    assert token not in listed.output
    only_bob = _cli(world, "users", "token", "list", "bob", "--json")
    assert [json.loads(line)["user"] for line in only_bob.stdout.strip().splitlines()] == ["bob"]
    text = _cli(world, "users", "token", "list")
    assert text.exit_code == 0 and "nightly export" in text.output and token not in text.output

    revoked = _cli(world, "users", "token", "revoke", str(first["id"]))
    assert revoked.exit_code == 0 and f"revoked token {first['id']}" in revoked.output
    assert api.get("/api/me", headers=_bearer(token)).status_code == 401
    again = _cli(world, "users", "token", "revoke", str(first["id"]))
    assert again.exit_code == 0 and "revoked already" in again.output
    after = _cli(world, "users", "token", "list", "alice", "--json")
    assert json.loads(after.stdout.strip())["state"] == "revoked"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "nobody", "--name", "x"], "no user 'nobody'"),
        (["create", "alice", "--name", "  "], "1-100 printable characters"),
        (["create", "alice", "--name", "x", "--expires-days", "0"], "--expires-days must be"),
        (["revoke", "999"], "no API token 999"),
        (["list", "nobody"], "no user 'nobody'"),
    ],
)
def test_token_commands_refuse_bad_input_in_one_line(
    world: World, args: list[str], message: str
) -> None:
    result = _cli(world, "users", "token", *args)
    assert result.exit_code != 0
    assert message in str(result.exception)
    with world.store.session() as s:
        assert s.exec(select(ApiToken)).all() == []


# -- API tokens: bearer requests ------------------------------------------------------


def test_a_token_sees_only_its_users_workspaces(world: World, app: FastAPI) -> None:
    ours = world.item(ACME, "acme item")
    theirs = world.item(GLOBEX, SECRET)
    api = TestClient(app, base_url=BASE, headers=_bearer(_token(world, "alice")))
    items = api.get("/api/items")
    assert items.status_code == 200
    assert [i["id"] for i in items.json()["items"]] == [ours]
    assert SECRET not in items.text and GLOBEX not in items.text
    assert api.get(f"/api/items/{ours}").status_code == 200
    assert api.get(f"/api/items/{theirs}").status_code == 404
    assert api.get(f"/api/items?workspace={GLOBEX}").status_code == 404
    assert api.get(f"/api/workspaces/{GLOBEX}").status_code == 404
    me = api.get("/api/me").json()
    assert me["name"] == "alice" and me["workspaces"] == [ACME] and me["csrf_token"] == ""
    # an admin's token sees everything, as the admin does
    root = TestClient(app, base_url=BASE, headers=_bearer(_token(world, "root")))
    assert {i["workspace"] for i in root.get("/api/items").json()["items"]} == {ACME, GLOBEX}
    # pages take cookies only: a bearer header signs nobody in there
    assert api.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_viewer_token_cannot_approve(world: World, app: FastAPI) -> None:
    world.user("vic", "viewer", ACME)
    item_id = world.item(ACME, "hello")
    api = TestClient(app, base_url=BASE, headers=_bearer(_token(world, "vic")))
    assert api.get(f"/api/items/{item_id}").status_code == 200  # a viewer may look
    r = api.post(
        f"/api/items/{item_id}/approve",
        json={"text": "Hi!", "draft_hash": world.draft_hash(item_id)},
    )
    assert r.status_code == 403 and "error" in r.json()
    assert world.outbox() == [] and world.get_item(item_id).status == "in_review"


def test_a_bearer_post_needs_no_csrf_but_a_cookie_post_still_does(
    world: World, app: FastAPI, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "Is it waterproof?")
    body = {"text": "Yes, it is.", "draft_hash": world.draft_hash(item_id)}
    alice = client_for("alice")
    assert alice.post(f"/api/items/{item_id}/approve", json=body).status_code == 403
    # a browser's Basic credentials (a proxy's, say) are no bearer token: still refused
    basic = {"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="}
    assert alice.post(f"/api/items/{item_id}/approve", json=body, headers=basic).status_code == 403
    assert world.outbox() == []

    api = TestClient(app, base_url=BASE, headers=_bearer(_token(world, "alice")))
    r = api.post(f"/api/items/{item_id}/approve", json=body)
    assert r.status_code == 200, r.text
    assert [(e.approved_by, e.state) for e in world.outbox()] == [("alice", "approved")]


def test_a_request_with_a_cookie_and_a_token_is_the_tokens_alone(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    theirs = world.item(GLOBEX, SECRET)
    root = client_for("root")  # an admin's cookie...
    headers = _bearer(_token(world, "alice"))  # ...with alice's token
    assert root.get("/api/me", headers=headers).json()["name"] == "alice"
    assert root.get(f"/api/items/{theirs}", headers=headers).status_code == 404
    r = root.post(f"/api/workspaces/{GLOBEX}/takeover", headers=headers)
    assert r.status_code == 404  # alice's grants, not the admin's, without CSRF


def test_bad_tokens_get_401_json(world: World) -> None:
    now = [utcnow().timestamp()]
    app = create_app(world.runtime, sessions=SessionStore(clock=lambda: now[0]))
    item_id = world.item(ACME, "hello")
    revoked = _token(world, "alice")
    expiring = _token(world, "alice", days=1)
    disabled = _token(world, "bob")
    with world.store.session() as s:
        row = s.exec(select(ApiToken).where(ApiToken.token_hash == secret_hash(revoked))).one()
        row.revoked_at = utcnow()
        s.add(row)
        bob = require_user(s, "bob")
        bob.disabled = True
        s.add(bob)
    api = TestClient(app, base_url=BASE)
    assert api.get("/api/me", headers=_bearer(expiring)).status_code == 200
    now[0] += timedelta(days=1, seconds=1).total_seconds()
    bad = {
        "revoked": _bearer(revoked),
        "expired": _bearer(expiring),
        "disabled user": _bearer(disabled),
        "unknown": _bearer("ia_" + "A" * 43),
        "not ours": _bearer("ghp_" + "A" * 36),
        "empty": {"Authorization": "Bearer "},
        "huge": _bearer("ia_" + "A" * 10_000),
    }
    for why, headers in bad.items():
        for r in (
            api.get("/api/items", headers=headers),
            api.post(f"/api/items/{item_id}/resolve", json={}, headers=headers),
        ):
            assert r.status_code == 401, (why, r.status_code)
            assert r.headers["content-type"] == "application/json", why
            assert "token" in r.json()["error"], why
            assert headers["Authorization"][7:] not in r.text or why == "empty"
    assert world.get_item(item_id).status == "in_review"


def test_tokens_never_reach_the_logs(
    world: World, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    item_id = world.item(ACME, "Is it waterproof?")
    made = _cli(world, "users", "token", "create", "alice", "--name", "export")
    token = made.stdout.strip().splitlines()[-1]
    api = TestClient(app, base_url=BASE, headers=_bearer(token))
    body = {"text": "Yes, it is.", "draft_hash": world.draft_hash(item_id)}
    assert api.post(f"/api/items/{item_id}/approve", json=body).status_code == 200
    assert (
        TestClient(app, base_url=BASE).get("/api/me", headers=_bearer(token + "x")).status_code
        == 401
    )
    events = list(world.runtime.log.events(ACME))
    assert events, "the approval was not logged"
    assert token not in caplog.text
    written = [p for p in Path(world.home.logs_dir).rglob("*") if p.is_file()]
    assert written
    for path in written:
        assert token not in path.read_text(encoding="utf-8", errors="replace"), path
    assert token not in json.dumps([str(e) for e in events])
    with world.store.session() as s:
        assert {u.name for u in s.exec(select(User)).all()} >= {"alice"}
