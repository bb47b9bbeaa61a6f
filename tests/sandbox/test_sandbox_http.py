"""The sandbox over HTTP: login, isolation, injection, fault modes, escaping, the admin guard."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from sandbox.errors import SandboxRequestError
from sandbox.testing import RunningSandbox, running_sandbox


def browser(sb: RunningSandbox, account: str) -> httpx.Client:
    http = httpx.Client(base_url=sb.url, timeout=10)
    r = http.post("/login", data={"username": account, "password": "sandbox"})
    assert r.status_code == 303
    return http


def ids_in(html: str) -> list[str]:
    return re.findall(r'data-testid="([^"]+)"', html)


def handle(html: str) -> str:
    m = re.search(r'data-testid="account-handle" data-account="(\w+)">(@\w+)<', html)
    assert m, "no account handle on the page"
    return m.group(2)


def test_login_sets_httponly_cookie_and_shows_handle(sb: RunningSandbox) -> None:
    http = httpx.Client(base_url=sb.url)
    assert http.get("/inbox").headers["location"].startswith("/login")
    r = http.post("/login", data={"username": "acme", "password": "sandbox"})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("sandbox_session=") and "HttpOnly" in cookie
    page = http.get("/inbox")
    assert page.status_code == 200 and handle(page.text) == "@acme"


def test_wrong_password_is_refused(sb: RunningSandbox) -> None:
    http = httpx.Client(base_url=sb.url)
    r = http.post("/login", data={"username": "acme", "password": "nope"})
    assert r.status_code == 401 and "login-error" in ids_in(r.text)
    assert "sandbox_session" not in http.cookies


def test_each_account_sees_only_its_own_content(sb: RunningSandbox) -> None:
    acme, globex = browser(sb, "acme"), browser(sb, "globex")
    state = sb.client.state()
    own = {a["name"]: a for a in state["accounts"]}
    acme_posts = re.findall(r'data-post-id="(p\d+)"', acme.get("/posts").text)
    assert sorted(acme_posts) == sorted(own["acme"]["posts"])
    assert acme.get(f"/posts/{own['globex']['posts'][0]}").status_code == 404
    assert globex.get(f"/inbox/{own['acme']['threads'][0]}").status_code == 404
    acme_threads = re.findall(r'data-thread-id="(t\d+)"', acme.get("/inbox").text)
    assert acme_threads == own["acme"]["threads"]
    assert not set(acme_threads) & set(own["globex"]["threads"])


def test_injected_comment_and_nested_reply_appear_in_their_thread(sb: RunningSandbox) -> None:
    post = sb.client.state()["accounts"][1]["posts"][-1]  # an older globex post
    top = sb.client.post_message("globex", "comment", "new.fan", "Is this vegan? 🌱", thread=post)
    reply = sb.client.post_message(
        "globex", "comment", "other.fan", "Asking too", thread=post, parent=top["id"]
    )
    html = browser(sb, "globex").get(f"/posts/{post}").text
    first = html.index('data-testid="comment-thread"')
    item = re.search(rf'<article[^>]*data-message-id="{reply["id"]}"[^>]*>', html)
    assert item and f'data-parent-id="{top["id"]}"' in item.group(0)
    assert 'data-author="other.fan"' in item.group(0)
    # the new thread is on top: its root comes first, then the reply under it
    assert first < html.index(f'data-message-id="{top["id"]}"') < item.start()
    assert "Is this vegan? 🌱" in html and "Asking too" in html


def test_injected_dm_lands_in_the_authors_thread_with_unread_marker(sb: RunningSandbox) -> None:
    msg = sb.client.post_message("initech", "dm", "brand.new", "Where is my parcel?")
    http = browser(sb, "initech")
    inbox = http.get("/inbox").text
    first_row = re.search(r'<li[^>]*data-testid="dm-thread-item"[^>]*>', inbox).group(0)
    assert f'data-thread-id="{msg["container_id"]}"' in first_row and 'data-unread="1"' in first_row
    assert "unread-marker" in ids_in(inbox)
    thread = http.get(f"/inbox/{msg['container_id']}").text
    assert f'data-message-id="{msg["id"]}"' in thread and "Where is my parcel?" in thread
    assert re.search(r'datetime="\d{4}-\d\d-\d\dT', thread)
    again = http.get("/inbox").text
    row = re.search(rf'<li[^>]*data-thread-id="{msg["container_id"]}"[^>]*>', again).group(0)
    assert 'data-unread="0"' in row


def test_admin_refuses_unknown_things(sb: RunningSandbox) -> None:
    with pytest.raises(SandboxRequestError) as exc:
        sb.client.post_message("umbrella", "dm", "x", "y")
    assert exc.value.status == 404 and "umbrella" in str(exc.value)
    with pytest.raises(SandboxRequestError) as exc:
        sb.client.post_message("acme", "comment", "x", "y", thread="p1", parent="c99999")
    assert exc.value.status == 404
    with pytest.raises(SandboxRequestError) as exc:
        sb.client.fault("acme", "meltdown")
    assert exc.value.status == 400


def test_comments_page_then_json_pages_cover_every_comment_once(sb: RunningSandbox) -> None:
    sb.client.seed(2, comments_per_post=70)
    post = sb.client.state()["accounts"][0]["posts"][0]
    http = browser(sb, "acme")
    html = http.get(f"/posts/{post}").text
    seen = re.findall(r'data-message-id="(c\d+)"', html)
    cursor = re.search(r'data-cursor="([^"]*)"', html).group(1)
    assert "load-more" in ids_in(html) and cursor
    pages = 0
    while cursor:
        data = http.get(f"/posts/{post}/comments.json", params={"after": cursor}).json()
        seen += [i["id"] for i in data["items"]]
        cursor, pages = data["next"], pages + 1
    total = next(p["comments"] for p in sb.client.state()["posts"] if p["id"] == post)
    assert len(seen) == len(set(seen)) == total == 70 and pages >= 1


def test_hostile_text_is_served_escaped(sb: RunningSandbox) -> None:
    evil = '<script>window.__pwned=1</script><a href="javascript:alert(1)">x</a> javascript:go()'
    msg = sb.client.post_message("acme", "dm", "mallory", evil)
    html = browser(sb, "acme").get(f"/inbox/{msg['container_id']}").text
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert not re.search(r'href\s*=\s*["\']?\s*javascript:', html, re.I)
    assert sb.client.state()["messages"][-1]["text"] == evil  # stored byte for byte


def test_replies_through_the_composers_are_recorded_once_each(sb: RunningSandbox) -> None:
    http = browser(sb, "acme")
    dm = sb.client.post_message("acme", "dm", "ann", "hello?")
    r = http.post(f"/inbox/{dm['container_id']}/reply", data={"text": "Hi Ann!"})
    assert r.status_code == 303
    page = http.get(r.headers["location"]).text
    assert "sent-confirmation" in ids_in(page) and "Hi Ann!" in page
    c = sb.client.post_message("acme", "comment", "bob", "price?")
    http.post(f"/posts/{c['container_id']}/comments/{c['id']}/reply", data={"text": "$5"})
    rows = sb.client.replies()
    assert [(r["kind"], r["container_id"], r["in_reply_to"], r["text"]) for r in rows] == [
        ("dm", dm["container_id"], None, "Hi Ann!"),
        ("comment", c["container_id"], c["id"], "$5"),
    ]
    assert [r["seq"] for r in rows] == [1, 2]


# -- fault modes -----------------------------------------------------------------------------


def test_session_expired_shows_the_login_wall_everywhere(sb: RunningSandbox) -> None:
    http = browser(sb, "acme")
    sb.client.fault("acme", "session_expired")
    for path in ("/inbox", "/posts", "/posts/p1"):
        page = http.get(path).text
        assert {"login-form", "session-expired-notice"} <= set(ids_in(page))
        assert "account-handle" not in ids_in(page)
    assert http.get("/posts/p1/comments.json").status_code == 401
    browser(sb, "acme")  # logging in again does not lift the fault
    assert "login-form" in ids_in(http.get("/inbox").text)
    assert handle(browser(sb, "globex").get("/inbox").text) == "@globex"  # others unaffected
    sb.client.fault("acme", "none")
    assert handle(http.get("/inbox").text) == "@acme"


def test_challenge_shows_a_challenge_page(sb: RunningSandbox) -> None:
    http = browser(sb, "globex")
    sb.client.fault("globex", "challenge")
    page = http.get("/inbox").text
    assert "challenge" in ids_in(page) and "dm-thread-list" not in ids_in(page)
    assert http.post("/challenge", data={"code": "0000"}).status_code == 400
    assert http.post("/challenge", data={"code": "4721"}).status_code == 303  # a person solved it
    assert "dm-thread-list" in ids_in(http.get("/inbox").text)


def test_rate_limited_blocks_pages_and_replies(sb: RunningSandbox) -> None:
    http = browser(sb, "acme")
    thread = sb.client.state()["accounts"][0]["threads"][0]
    sb.client.fault("acme", "rate_limited")
    r = http.get("/inbox")
    assert r.status_code == 429 and "rate-limit-notice" in ids_in(r.text)
    assert "Try Again Later" in r.text
    r = http.post(f"/inbox/{thread}/reply", data={"text": "hello"})
    assert r.status_code == 429 and sb.client.replies() == []


def test_wrong_account_shows_another_handle(sb: RunningSandbox) -> None:
    http = browser(sb, "acme")
    sb.client.fault("acme", "wrong_account")
    page = http.get("/inbox").text
    assert handle(page) == "@globex"
    globex_threads = sb.client.state()["accounts"][1]["threads"]
    assert re.findall(r'data-thread-id="(t\d+)"', page) == globex_threads


def visible_text(html: str) -> list[str]:
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return sorted(body.split())


def test_changed_dom_renames_and_moves_but_keeps_text_and_labels(sb: RunningSandbox) -> None:
    http = browser(sb, "acme")
    before_post, before_thread = http.get("/posts/p1").text, http.get("/inbox/t1").text
    sb.client.fault("acme", "changed_dom")
    after_post, after_thread = http.get("/posts/p1").text, http.get("/inbox/t1").text
    for before, after in ((before_post, after_post), (before_thread, after_thread)):
        assert visible_text(before) == visible_text(after)
        labels = r'(?:aria-label|role)="([^"]*)"'
        assert sorted(re.findall(labels, before)) == sorted(re.findall(labels, after))
        assert not set(ids_in(before)) & set(ids_in(after))
        assert re.findall(r'class="([^"]*)"', before) != re.findall(r'class="([^"]*)"', after)
    # moved: the comment text now comes before its author, and the comments before the post
    first_text = after_post.index('data-testid="cmt-body"')
    assert first_text < after_post.index('data-testid="cmt-by"')
    assert after_post.index('data-testid="cmts"') < after_post.index('data-testid="x2-post_detail"')
    assert handle_v2(after_post) == "@acme"


def handle_v2(html: str) -> str:
    return re.search(r'data-testid="nav-user-name"[^>]*>(@\w+)<', html).group(1)


def test_slow_delays_responses(sb: RunningSandbox) -> None:
    http, other = browser(sb, "acme"), browser(sb, "globex")
    sb.client.fault("acme", "slow", slow_ms=600)
    t0 = time.monotonic()
    assert http.get("/inbox").status_code == 200
    assert time.monotonic() - t0 >= 0.6
    t0 = time.monotonic()
    other.get("/inbox")
    assert time.monotonic() - t0 < 0.5


def test_never_loads_leaves_a_resource_hanging(sb: RunningSandbox) -> None:
    http = browser(sb, "initech")
    sb.client.fault("initech", "never_loads")
    page = http.get("/inbox").text
    assert "page-loading" in ids_in(page) and "dm-thread-list" not in ids_in(page)
    src = re.search(r'<script src="([^"]+)"></script>', page).group(1)
    with pytest.raises(httpx.ReadTimeout):
        http.get(src, timeout=1.0)
    with pytest.raises(httpx.ReadTimeout):
        http.get("/posts/p1/comments.json", timeout=1.0)
    sb.client.fault("initech", "none")
    assert "dm-thread-list" in ids_in(http.get("/inbox").text)


def test_admin_needs_the_token_when_one_is_set() -> None:
    from sandbox.client import SandboxClient

    with running_sandbox(empty=True, token="s3cret") as sb:
        with pytest.raises(SandboxRequestError) as exc:
            SandboxClient(sb.url, token="wrong").state()
        assert exc.value.status == 403
        assert SandboxClient(sb.url, token="s3cret").state()["messages"] == []
