"""Inputs at the review boundary: item ids out of range, unknown filter values, grants to
workspaces that are not configured, and sign-in floods (limited per address and in total,
the password check off the event loop)."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable

import anyio
import anyio.from_thread
import httpx
import pytest
from fastapi import FastAPI, routing
from fastapi.testclient import TestClient
from review_world import ACME, PASSWORD, World, csrf_of

from agent import cli
from agent.review import auth, create_app
from agent.review.auth import LoginLimiter
from agent.review.queries import MAX_ID

BAD_IDS = [str(2**63), str(2**64), str(2**31), str(MAX_ID), "-1", "0", "1" * 5000, "abc", "٣"]


def item_routes(app: FastAPI) -> list[tuple[str, str]]:
    contexts = (
        list(routing.iter_route_contexts(app.routes))
        if hasattr(routing, "iter_route_contexts")
        else list(app.routes)
    )
    out = []
    for route in contexts:
        path, methods = getattr(route, "path", ""), getattr(route, "methods", set())
        if "{item_id}" in path:
            out += [(m, path) for m in sorted(methods - {"HEAD"})]
    assert len(out) >= 17, out  # every item page, API route, evidence and action
    return out


def test_an_item_id_out_of_range_is_a_404_on_every_item_route(
    app: FastAPI, world: World, client_for: Callable[[str], TestClient]
) -> None:
    world.item(ACME, "hello")
    root = client_for("root")  # an admin: sees everything, so only the id can be wrong
    csrf = root.get("/api/me").json()["csrf_token"]
    for method, path in item_routes(app):
        for bad in BAD_IDS:
            url = path.replace("{item_id}", bad).replace("{kind}", "screen")
            if method == "GET":
                r = root.get(url, follow_redirects=False)
            elif url.startswith("/api/"):
                body = {"text": "hi", "draft_hash": "x", "owner": "o", "reason": "r"}
                r = root.post(url, json=body, headers={"X-CSRF-Token": csrf})
            else:
                data = {"csrf_token": csrf, "text": "hi", "draft_hash": "x", "owner": "o"}
                r = root.post(url, data=data, follow_redirects=False)
            assert r.status_code == 404, (method, url[:80], r.status_code, r.text[:200])
            if url.startswith("/api/"):
                assert r.json() == {"error": "Not found."}


def run_cli(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--home", str(world.home.root), *args])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.err


@pytest.mark.parametrize(
    "command",
    [
        ["show"],
        ["approve", "--draft-hash", "x"],
        ["approve", "--draft-hash", "x", "--text", "hi"],
        ["edit", "--draft-hash", "x", "--text", "hi"],
        ["reject"],
        ["escalate"],
        ["resolve"],
        ["restore"],
    ],
    ids=lambda c: " ".join(c[:1] + [a for a in c[1:] if a == "--text"]),
)
def test_an_item_id_out_of_range_is_one_line_in_the_cli(
    world: World, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    for big in (str(2**63), str(2**31)):  # 2^31: past PostgreSQL's integer
        code, err = run_cli(world, capsys, "review", command[0], big, *command[1:], "--as", "root")
        assert code == 1
        assert err.strip().splitlines() == [f"error: no item {big}"], err
        code, err = run_cli(world, capsys, "review", "assign", big, "carol", "--as", "root")
        assert (code, err.strip()) == (1, f"error: no item {big}")


FILTERS = [("status", "bogus"), ("priority", "P9"), ("intent", "nope"), ("sla", "late")]


@pytest.mark.parametrize(("name", "value"), FILTERS)
def test_an_unknown_filter_value_is_a_400_naming_it(
    client_for: Callable[[str], TestClient], name: str, value: str
) -> None:
    alice = client_for("alice")
    page = alice.get(f"/?{name}={value}")
    assert page.status_code == 400
    assert f"unknown {name} &#39;{value}&#39; (known: " in page.text
    api = alice.get(f"/api/items?{name}={value}")
    assert api.status_code == 400
    assert re.fullmatch(rf"unknown {name} '{value}' \(known: .+\)", api.json()["error"])


def test_a_body_that_does_not_validate_is_a_400_naming_the_field_never_echoed(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "hello", draft="Hi!")
    alice = client_for("alice")
    headers = {
        "X-CSRF-Token": alice.get("/api/me").json()["csrf_token"],
        "Content-Type": "application/json",
    }
    # A lone surrogate travels in JSON as an escape; FastAPI's own 422 echoed it back and
    # could not encode it (a 500).
    body = json.dumps({"text": "caf\ud800 secret-input", "draft_hash": world.draft_hash(item_id)})
    r = alice.post(f"/api/items/{item_id}/approve", content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith("text: ") and "secret-input" not in r.text
    missing = alice.post(f"/api/items/{item_id}/approve", json={}, headers=headers)
    assert missing.status_code == 400 and "text: Field required" in missing.json()["error"]
    page = alice.get("/?page=abc")  # a page answers with its own error page, not JSON
    assert page.status_code == 400 and '<header class="top">' in page.text
    assert "page: Input should be a valid integer" in page.text
    assert world.outbox() == []


def test_a_reply_holding_nul_is_refused(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "hello", draft="Hi!")
    alice = client_for("alice")
    csrf = {"X-CSRF-Token": alice.get("/api/me").json()["csrf_token"]}
    body = {"text": "Hi\x00 there", "draft_hash": world.draft_hash(item_id)}
    r = alice.post(f"/api/items/{item_id}/approve", json=body, headers=csrf)
    assert r.status_code == 400 and "NUL character" in r.json()["error"], r.text
    assert world.outbox() == []


def test_known_and_empty_filter_values_still_answer(
    world: World, client_for: Callable[[str], TestClient], capsys: pytest.CaptureFixture[str]
) -> None:
    world.item(ACME, "hello", intent="order_issue", priority="P1")
    alice = client_for("alice")
    good = "?status=all&priority=P1&intent=order_issue&sla=ok"
    assert alice.get("/" + good).status_code == 200
    assert len(alice.get("/api/items" + good).json()["items"]) == 1
    for empty in ("?status=", "?intent=&priority=&sla=", "?workspace="):
        assert alice.get("/" + empty).status_code == 200, empty
        assert alice.get("/api/items" + empty).status_code == 200, empty
    code, err = run_cli(world, capsys, "review", "list", "--as", "alice", "--status", "bogus")
    assert code == 1 and err.strip().startswith("error: unknown status 'bogus' (known: pending")
    assert len(err.strip().splitlines()) == 1


def test_an_intent_a_workspace_triage_file_adds_is_a_known_filter(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    from agent.review.queries import default_intents

    intents = [*default_intents(), "warranty_claim"]
    (world.home.root / "triage.yaml").write_text(f"taxonomy:\n  intents: {intents}\n")
    path = world.home.config_dir("workspaces") / f"{ACME}.yaml"
    path.write_text(path.read_text() + "triage: triage.yaml\n")
    world.configure(ACME)  # rewrites the file: add the line again, then reload
    path.write_text(path.read_text() + "triage: triage.yaml\n")
    from agent.config import load_catalog

    world.runtime.catalog = load_catalog(world.home)
    alice = client_for("alice")
    assert alice.get("/api/items?intent=warranty_claim").status_code == 200
    assert alice.get("/api/items?intent=warranty_clam").status_code == 400


def test_users_grant_refuses_a_workspace_that_is_not_configured(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(world, capsys, "users", "grant", "alice", "../../x")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith("error: bad workspace id '../../x'")
    code, err = run_cli(world, capsys, "users", "grant", "alice", "initech-web")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "no workspace 'initech-web' is configured" in err and "acme-web, globex-web" in err
    code, err = run_cli(world, capsys, "users", "grant", "eve", ACME)
    assert code == 0, err
    from agent.review.auth import get_user, granted_workspaces

    with world.store.session() as s:
        eve = get_user(s, "eve")
        assert eve is not None and granted_workspaces(s, eve) == {ACME, "globex-web"}


# -- sign-in limits --------------------------------------------------------------------


def test_an_address_is_locked_after_20_failures_under_any_names() -> None:
    now = [0.0]
    limiter = LoginLimiter(clock=lambda: now[0])
    for n in range(20):
        assert limiter.admit(f"user{n}", "10.0.0.1") == (0.0, "")
        limiter.failed(f"user{n}", "10.0.0.1")
    wait, why = limiter.admit("someone-else", "10.0.0.1")
    assert (wait, why) == (300.0, "failed")
    assert limiter.admit("someone-else", "10.0.0.2") == (0.0, "")  # other addresses are not
    now[0] += 300
    assert limiter.admit("someone-else", "10.0.0.1") == (0.0, "")
    # failures spread out (five minutes quiet between rounds) never lock an address
    for _ in range(3):
        for n in range(19):
            limiter.failed(f"typo{n}", "10.0.0.3")
        now[0] += 300
    assert limiter.admit("typo0", "10.0.0.3")[0] == 0.0


def test_all_addresses_together_get_2_checks_a_second_after_a_burst_of_30() -> None:
    now = [0.0]
    limiter = LoginLimiter(clock=lambda: now[0])
    admitted = [limiter.admit(f"name{n}", f"10.0.{n // 250}.{n % 250}") for n in range(40)]
    assert admitted[:30] == [(0.0, "")] * 30
    assert admitted[30:] == [(0.5, "busy")] * 10
    now[0] += 0.5
    assert limiter.admit("late", "10.9.9.9") == (0.0, "")
    assert limiter.admit("later", "10.9.9.8") == (0.5, "busy")
    now[0] += 60  # refills to the burst, not beyond
    assert [limiter.admit("x", f"10.8.0.{n}")[0] for n in range(31)].count(0.0) == 30


def test_the_limiter_remembers_a_bounded_number_of_names_and_addresses() -> None:
    now = [0.0]
    limiter = LoginLimiter(clock=lambda: now[0], max_tracked=100)
    for _ in range(5):
        limiter.failed("victim", "10.0.0.1")  # locked: kept over the flood below
    for n in range(5000):
        now[0] += 0.001
        limiter.failed(f"name{n}", f"10.1.{n // 250}.{n % 250}")
    assert len(limiter._state) <= 100 and len(limiter._addresses) <= 100
    assert limiter.locked_for("victim", "10.0.0.1") > 0


def test_a_sign_in_page_says_when_the_address_is_locked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "verify_password", lambda _hash, _password: False)  # fast
    app = create_app(world.runtime, limiter=LoginLimiter(clock=lambda: 1000.0))
    client = TestClient(app, base_url="https://testserver")

    def attempt(name: str, password: str) -> httpx.Response:
        page = client.get("/login")
        data = {"username": name, "password": password, "csrf_token": csrf_of(page.text)}
        return client.post("/login", data=data, follow_redirects=False)

    assert {attempt(f"guess{n}", "wrong password!").status_code for n in range(20)} == {401}
    locked = attempt("alice", PASSWORD)
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    assert int(locked.headers["Retry-After"]) >= 300


FLOOD = "flood-password"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # what uvicorn serves the app on


@pytest.mark.anyio
async def test_a_sign_in_flood_neither_stalls_other_pages_nor_passes_the_global_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a burst above the 40 threads pages are served from: without a pool of its own,
    # a flood this size would hold all of them
    app = create_app(world.runtime, limiter=LoginLimiter(clock=lambda: 1000.0, global_burst=45))
    state = app.state.review

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 4000))
        return httpx.AsyncClient(transport=transport, base_url="https://testserver")

    async def sign_in_form(c: httpx.AsyncClient) -> str:
        return csrf_of((await c.get("/login")).text)

    alice = client("192.168.1.10")
    r = await alice.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": await sign_in_form(alice)},
    )
    assert r.status_code == 303
    # From here, every check of the flood's password blocks until released.
    release, entered, lock = threading.Event(), anyio.Event(), threading.Lock()
    inside = [0, 0]  # now, most at once
    original = auth.verify_password

    def blocking(password_hash: str, password: str) -> bool:
        if password != FLOOD:
            return original(password_hash, password)
        with lock:
            inside[0] += 1
            inside[1] = max(inside)
            if inside[0] == state.password_checks:
                anyio.from_thread.run_sync(entered.set)
        release.wait(30)
        with lock:
            inside[0] -= 1
        return False

    monkeypatch.setattr(auth, "verify_password", blocking)
    flood = [client(f"10.0.{n // 250}.{n % 250}") for n in range(60)]
    tokens = [await sign_in_form(c) for c in flood]
    statuses: list[int] = []
    texts: list[str] = []

    async def attempt(n: int) -> None:
        data = {"username": f"nobody{n}", "password": FLOOD, "csrf_token": tokens[n]}
        answer = await flood[n].post("/login", data=data)
        statuses.append(answer.status_code)
        texts.append(answer.text)

    try:
        async with anyio.create_task_group() as tg:
            for n in range(60):
                tg.start_soon(attempt, n)
            with anyio.fail_after(10):
                await entered.wait()  # the flood holds every password-check thread
            with anyio.fail_after(5):  # ... and the other pages still answer
                me = await alice.get("/api/me")
                queue = await alice.get("/")
                login_page = await client("172.16.0.1").get("/login")
            assert (me.status_code, queue.status_code, login_page.status_code) == (200, 200, 200)
            release.set()
    finally:
        release.set()
    assert inside[1] == state.password_checks  # never more argon2 checks at once
    # the burst of 45 (alice's sign-in took one) is checked, the rest slowed
    assert Counter(statuses) == {401: 44, 429: 16}
    assert sum("Too many sign-ins at the moment" in t for t in texts) == 16
