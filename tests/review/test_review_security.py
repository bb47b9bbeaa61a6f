"""Security: grants on every route (enumerated from the app), sessions, CSRF, rate limiting,
hostile text, screenshots, and passwords never in clear."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI, routing
from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, PASSWORD, SECRET, World, csrf_of
from sqlmodel import select

from agent.review import create_app
from agent.review.auth import LoginLimiter, get_user, revoke
from agent.review.context import STATIC
from agent.store import OutboxEntry, Takeover, User

# the login form, and the UI's own scripts (project files, no data in them)
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/static/{name}")}


def _routes(app: FastAPI) -> list[tuple[str, str, set[str]]]:
    """Every (method, path, path parameters) the app serves, included routers flattened."""
    contexts = (
        list(routing.iter_route_contexts(app.routes))
        if hasattr(routing, "iter_route_contexts")  # FastAPI >= 0.16x includes lazily
        else list(app.routes)
    )
    out = []
    for route in contexts:
        if isinstance(getattr(route, "route", route), routing.APIWebSocketRoute):
            continue  # sockets: every one refused without a session or grant in test_takeover_live
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        assert path and methods, f"a route this test does not understand: {route!r}"
        for method in sorted(methods - {"HEAD"}):
            out.append((method, path, set(re.findall(r"\{(\w+)", path))))
    assert len(out) > 20, "the app's routes were not found"
    return out


def _fill(path: str, values: dict[str, object]) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(values[m.group(1)]), path)


def _post(client: TestClient, path: str, csrf: str | None, draft_hash: str = "x"):
    if path.startswith("/api/"):
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        body = {"text": "pwned", "draft_hash": draft_hash, "owner": "mallory", "reason": "r"}
        return client.post(path, json=body, headers=headers, follow_redirects=False)
    data = {"text": "pwned", "draft_hash": draft_hash, "owner": "mallory", "reason": "r"}
    if csrf:
        data["csrf_token"] = csrf
    return client.post(path, data=data, follow_redirects=False)


def _call(client: TestClient, method: str, path: str, csrf: str | None, draft_hash: str = "x"):
    if method == "GET":
        return client.get(path, follow_redirects=False)
    assert method == "POST", f"add {method} to this test"
    return _post(client, path, csrf, draft_hash)


def test_every_route_needs_a_session(app: FastAPI, world: World) -> None:
    item_id = world.item(ACME, "hello")
    client = TestClient(app, base_url="https://testserver")
    values = {"item_id": item_id, "workspace": ACME, "kind": "crop", "case_id": item_id}
    for method, path, _params in _routes(app):
        if (method, path) in PUBLIC:
            continue
        r = _call(client, method, _fill(path, values), None)
        if path.startswith("/api/"):
            assert r.status_code == 401, (method, path, r.status_code)
        else:
            assert r.status_code == 303 and r.headers["location"] == "/login", (method, path)
    assert world.get_item(item_id).status == "in_review"


def test_no_route_shows_or_touches_another_clients_workspace(
    app: FastAPI, world: World, client_for: Callable[[str], TestClient]
) -> None:
    ours = world.item(ACME, "our item", thread="shared-thread-name")
    theirs = world.item(GLOBEX, SECRET, thread="shared-thread-name", screenshot=True)
    from agent.review.queries import draft_hash, latest_decision

    with world.store.session() as s:
        their_hash = draft_hash(world.get_item(theirs), latest_decision(s, theirs))
    alice = client_for("alice")
    csrf = alice.get("/api/me").json()["csrf_token"]
    known = {"item_id": theirs, "workspace": GLOBEX, "kind": "crop", "case_id": theirs}
    for method, path, params in _routes(app):
        if path == "/api/events":  # a stream that never ends: its grants are checked in
            # test_review_live (another client's item is a 404, its changes never sent)
            continue
        if (method, path) in PUBLIC or path == "/logout":
            continue
        unknown = params - set(known)
        assert not unknown, f"{method} {path}: teach this test the parameter(s) {unknown}"
        if params:
            r = _call(alice, method, _fill(path, known), csrf, their_hash)
            assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
        else:
            r = _call(alice, method, path, csrf, their_hash)
            assert r.status_code in (200, 303, 404), (method, path, r.status_code)
            r2 = _call(alice, method, f"{path}?workspace={GLOBEX}", csrf, their_hash)
            for response in (r, r2):
                assert SECRET not in response.text and GLOBEX not in response.text, (method, path)
    # the thread context of our item must not pull in their item of the same thread name
    page = alice.get(f"/items/{ours}")
    assert page.status_code == 200 and SECRET not in page.text
    # nothing changed on their side
    assert world.get_item(theirs).status == "in_review"
    with world.store.session() as s:
        assert s.exec(select(OutboxEntry)).all() == []
        assert s.exec(select(Takeover)).all() == []
    assert list(world.runtime.log.events(GLOBEX)) == []


def test_admin_sees_everything_and_eve_only_globex(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    world.item(ACME, "acme item")
    world.item(GLOBEX, SECRET)
    root = client_for("root").get("/api/items").json()
    eve = client_for("eve").get("/api/items").json()
    assert {i["workspace"] for i in root["items"]} == {ACME, GLOBEX}
    assert {i["workspace"] for i in eve["items"]} == {GLOBEX}


def test_revoking_a_grant_applies_to_an_open_session(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "hello")
    alice = client_for("alice")
    assert alice.get(f"/items/{item_id}").status_code == 200
    with world.store.session() as s:
        user = get_user(s, "alice")
        assert user is not None
        revoke(s, user, ACME)
    assert alice.get(f"/items/{item_id}").status_code == 404
    assert alice.get("/api/items").json()["total"] == 0


def test_every_post_without_a_valid_csrf_token_is_refused(
    app: FastAPI, world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "hello")
    alice = client_for("alice")
    hash_ = alice.get(f"/api/items/{item_id}").json()["draft_hash"]
    values = {"item_id": item_id, "workspace": ACME, "kind": "crop", "case_id": item_id}
    posts = [(m, p) for m, p, _ in _routes(app) if m == "POST" and (m, p) not in PUBLIC]
    assert len(posts) >= 10
    for _method, path in posts:
        for token in (None, "forged-token"):
            r = _post(alice, _fill(path, values), token, hash_)
            assert r.status_code == 403, (path, token, r.status_code)
    assert world.get_item(item_id).status == "in_review"
    assert alice.get("/api/me").status_code == 200  # logout was refused too


def test_login_form_needs_its_csrf_token(app: FastAPI) -> None:
    client = TestClient(app, base_url="https://testserver")
    page = client.get("/login")
    assert 'name="csrf_token"' in page.text
    r = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 403
    r = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "guess"}
    )
    assert r.status_code == 403
    assert client.get("/api/me").status_code == 401


def test_session_cookie_flags_and_security_headers(app: FastAPI) -> None:
    client = TestClient(app, base_url="https://testserver")
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = [v for k, v in r.headers.multi_items() if k == "set-cookie" and "ia_session=" in v][0]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    queue = client.get("/")
    csp = queue.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self';" in csp  # the project's own files, never inline
    assert queue.headers["x-frame-options"] == "DENY"
    assert queue.headers["cache-control"] == "no-store"
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", queue.text, flags=re.S)
    assert all(body.strip() == "" for body in scripts)  # only <script src=...></script>
    assert all('src="/static/' in tag for tag in re.findall(r"<script[^>]*>", queue.text))


def test_logout_ends_the_session(world: World, client_for: Callable[[str], TestClient]) -> None:
    alice = client_for("alice")
    token = alice.cookies.get("ia_session")
    csrf = csrf_of(alice.get("/").text)
    assert (
        alice.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )
    stolen = TestClient(alice.app, base_url="https://testserver", cookies={"ia_session": token})
    assert stolen.get("/api/me").status_code == 401


def test_login_rate_limit_locks_user_and_address_for_a_minute(world: World) -> None:
    now = [1000.0]
    app = create_app(world.runtime, limiter=LoginLimiter(5, 60, clock=lambda: now[0]))
    client = TestClient(app, base_url="https://testserver")

    def attempt(password: str) -> int:
        page = client.get("/login")
        data = {"username": "alice", "password": password, "csrf_token": csrf_of(page.text)}
        return client.post("/login", data=data, follow_redirects=False).status_code

    assert [attempt("wrong password!") for _ in range(5)] == [401] * 5
    assert attempt(PASSWORD) == 429  # locked, even with the right password
    now[0] += 61
    assert attempt(PASSWORD) == 303


HOSTILE = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click me</a> javascript:alert(document.cookie)',
    "\u202eevil.exe\u202c and \u2066isolate\u2069",
    "{{ 7*7 }} {% raw %}",
]


def test_hostile_text_renders_inert(world: World, client_for: Callable[[str], TestClient]) -> None:
    ids = [world.item(ACME, text, author=text, draft=text, thread=text) for text in HOSTILE]
    big = world.item(ACME, "A" * 1_000_000 + "<script>alert(1)</script>")
    alice = client_for("alice")
    pages = [alice.get("/")] + [alice.get(f"/items/{i}") for i in [*ids, big]]
    for page in pages:
        # the draft's editable text is exact in its textarea (and flagged when it hides text)
        html = re.sub(r"<textarea[^>]*>.*?</textarea>", "", page.text, flags=re.S)
        html = re.sub(r'<script src="/static/[a-z0-9_-]+\.js" defer></script>', "", html)
        assert page.status_code == 200
        assert "<script" not in html and "<img src=x" not in html
        assert 'href="javascript:' not in html.lower() and "onerror=alert(1)>" not in html
        assert "\u202e" not in html and "\u2066" not in html
    assert "{{ 7*7 }}" in pages[5].text  # shown, not evaluated
    assert len(pages[-1].text) < 200_000  # 1 MB is cut on the page, not sent whole
    assert "more characters not shown" in pages[-1].text
    assert "⟨U+202E⟩" in pages[4].text
    assert "invisible or direction-changing characters" in pages[4].text
    full = alice.get(f"/api/items/{big}")
    assert full.headers["content-type"] == "application/json"
    assert len(full.json()["text"]) == 1_000_000 + len("<script>alert(1)</script>")


def test_screenshots_are_served_only_from_the_screenshots_folder(
    world: World, client_for: Callable[[str], TestClient], tmp_path: Path
) -> None:
    good = world.item(ACME, "with evidence", screenshot=True)
    outside = tmp_path / "outside.png"
    outside.write_bytes(Path(world.get_item(good).screenshot or "").read_bytes())
    bad_paths = [str(outside), "/etc/passwd", "../../outside.png", "../../../etc/passwd"]
    bad_ids = []
    for path in bad_paths:
        bad = world.item(ACME, f"evil {path}")
        with world.store.session() as s:
            item = world.get_item(bad)
            item.screenshot = item.crop = path
            s.add(item)
        bad_ids.append(bad)
    alice = client_for("alice")
    r = alice.get(f"/items/{good}/evidence/screen")
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    crop = alice.get(f"/items/{good}/evidence/crop")
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/webp"
    assert crop.content[:4] == b"RIFF" and crop.content[8:12] == b"WEBP"
    for bad in bad_ids:
        for kind in ("screen", "crop"):
            assert alice.get(f"/items/{bad}/evidence/{kind}").status_code == 404
    for kind in ("..%2f..%2fetc%2fpasswd", "../../etc/passwd", "screen.png"):
        assert alice.get(f"/items/{good}/evidence/{kind}").status_code == 404


def test_no_password_in_clear_in_the_database_or_logs(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    wrong = "a-wrong-password-typed-by-mistake"
    item_id = world.item(ACME, "hello")
    client = TestClient(client_for("alice").app, base_url="https://testserver")
    page = client.get("/login")
    client.post(
        "/login", data={"username": "alice", "password": wrong, "csrf_token": csrf_of(page.text)}
    )
    alice = client_for("alice")
    hash_ = alice.get(f"/api/items/{item_id}").json()["draft_hash"]
    csrf = alice.get("/api/me").json()["csrf_token"]
    alice.post(f"/api/items/{item_id}/approve", json={"text": "hi", "draft_hash": hash_},
               headers={"X-CSRF-Token": csrf})  # fmt: skip
    with world.store.session() as s:
        hashes = [u.password_hash for u in s.exec(select(User)).all()]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    engine = world.store.engine
    with engine.connect() as conn:  # every row of every table, on either backend
        places = [
            (f"table {t}", repr(conn.execute(sa.text(f'SELECT * FROM "{t}"')).all()).encode())
            for t in sa.inspect(engine).get_table_names()
        ]
    engine.dispose()  # checkpoint nothing away: read the files as they are
    files = [
        p for p in world.home.root.rglob("*") if p.is_file() and p.suffix not in (".png", ".webp")
    ]
    assert any("logs" in p.parts for p in files) and any(t == "table users" for t, _ in places)
    if engine.dialect.name == "sqlite":
        assert any(p.name.endswith(".db") for p in files)
    places += [(str(p), p.read_bytes()) for p in files]
    for where, data in places:
        for secret in (PASSWORD, wrong):
            assert secret.encode() not in data, f"{secret!r} in clear in {where}"


def test_static_serves_only_the_uis_own_scripts(app: FastAPI) -> None:
    client = TestClient(app, base_url="https://testserver")
    names = sorted(p.name for p in STATIC.glob("*.js"))
    assert names, "the UI ships scripts"
    ok = client.get(f"/static/{names[0]}")
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/javascript")
    assert ok.headers["x-content-type-options"] == "nosniff"
    for bad in ("../context.py", "..%2Fcontext.py", "review.css", "x.js", ".hidden.js", "A.js"):
        assert client.get(f"/static/{bad}").status_code == 404, bad
