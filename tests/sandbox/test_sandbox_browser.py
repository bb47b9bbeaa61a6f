"""The sandbox in real Chromium: hostile text stays inert, composers send once, lazy loading."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from sandbox.testing import RunningSandbox

CHROMIUM = "/usr/lib/chromium/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# No skip when Chromium is missing: `make test` installs it, so its absence is a failure.
pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1000, "height": 800})
    yield context.new_page()
    context.close()


def login(page: Page, sb: RunningSandbox, account: str) -> None:
    page.goto(sb.url + "/login")
    page.get_by_test_id("login-username").fill(account)
    page.get_by_test_id("login-password").fill("sandbox")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/inbox")
    assert page.get_by_test_id("account-handle").inner_text() == f"@{account}"


def test_hostile_text_never_runs_and_no_javascript_links(sb: RunningSandbox, page: Page) -> None:
    evil = (
        '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
        '<a href="javascript:window.__pwned=3">click</a> javascript:window.__pwned=4'
    )
    dm = sb.client.post_message("acme", "dm", "mallory", evil)
    c = sb.client.post_message("acme", "comment", "mallory", evil)
    login(page, sb, "acme")
    for path in (f"/inbox/{dm['container_id']}", f"/posts/{c['container_id']}", "/inbox"):
        page.goto(sb.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator('a[href^="javascript:" i]').count() == 0
        assert page.locator("img[src=x]").count() == 0
    page.goto(sb.url + f"/inbox/{dm['container_id']}")
    text = page.locator(f'[data-message-id="{dm["id"]}"] [data-testid=message-text]').inner_text()
    assert text == evil  # shown literally, byte for byte


def test_dm_composer_records_exactly_one_reply(sb: RunningSandbox, page: Page) -> None:
    dm = sb.client.post_message("globex", "dm", "ann", "Can I change my order?")
    login(page, sb, "globex")
    page.get_by_test_id("dm-thread-item").first.click()
    assert page.get_by_test_id("dm-participant").inner_text() == "ann"
    page.get_by_test_id("composer-input").fill("Sure — which item? 🙂")
    page.get_by_test_id("send-button").click()
    confirmation = page.get_by_test_id("sent-confirmation")
    confirmation.wait_for()
    rows = sb.client.replies()
    assert len(rows) == 1
    assert rows[0]["container_id"] == dm["container_id"] and rows[0]["account"] == "globex"
    assert rows[0]["text"] == "Sure — which item? 🙂"
    assert confirmation.get_attribute("data-sent-id") == rows[0]["message_id"]
    first = page.get_by_test_id("message-item").first
    assert first.get_attribute("data-from-brand") == "true"
    assert first.get_by_test_id("message-text").inner_text() == "Sure — which item? 🙂"


def test_comment_reply_composer_records_reply_to_that_comment(
    sb: RunningSandbox, page: Page
) -> None:
    c = sb.client.post_message("initech", "comment", "bob", "Do you ship to Oslo?")
    login(page, sb, "initech")
    page.goto(sb.url + f"/posts/{c['container_id']}")
    item = page.locator(f'[data-testid=comment-item][data-message-id="{c["id"]}"]')
    assert item.get_by_test_id("reply-composer").is_hidden()
    item.get_by_test_id("reply-button").click()
    item.get_by_test_id("reply-input").fill("Yes, we do!")
    item.get_by_test_id("reply-send").click()
    page.get_by_test_id("sent-confirmation").wait_for()
    rows = sb.client.replies()
    assert [(r["kind"], r["in_reply_to"], r["text"]) for r in rows] == [
        ("comment", c["id"], "Yes, we do!")
    ]
    reply = page.locator(f'[data-message-id="{rows[0]["message_id"]}"]')
    assert reply.get_attribute("data-parent-id") == c["id"]


def test_scrolling_lazy_loads_older_comments(sb: RunningSandbox, page: Page) -> None:
    sb.client.seed(4, comments_per_post=75)
    login(page, sb, "acme")
    post = sb.client.state()["accounts"][0]["posts"][0]
    page.goto(sb.url + f"/posts/{post}")
    items = page.get_by_test_id("comment-item")
    first = items.count()
    assert 20 <= first < 75
    for _ in range(40):
        if items.count() == 75:
            break
        page.mouse.wheel(0, 4000)
        page.wait_for_timeout(100)
    assert items.count() == 75
    assert page.get_by_test_id("feed-status").inner_text() == "No more comments"
    assert page.get_by_test_id("load-more").is_hidden()


def test_load_more_button_reveals_older_comments(sb: RunningSandbox, page: Page) -> None:
    sb.client.seed(4, comments_per_post=75)
    login(page, sb, "acme")
    post = sb.client.state()["accounts"][0]["posts"][0]
    page.goto(sb.url + f"/posts/{post}")
    page.evaluate("document.querySelector('[data-js=sentinel]').remove()")  # no lazy loading
    items = page.get_by_test_id("comment-item")
    before = items.count()
    page.get_by_role("button", name="Load more comments").click()
    page.wait_for_function(
        f"document.querySelectorAll('[data-testid=comment-item]').length > {before}"
    )
    ids = [items.nth(i).get_attribute("data-message-id") for i in range(items.count())]
    assert len(ids) == len(set(ids))


def test_older_dms_load_on_button(sb: RunningSandbox, page: Page) -> None:
    thread = sb.client.state()["accounts"][0]["threads"][0]
    sb.client.bulk("acme", "dm", 30, thread=thread)
    login(page, sb, "acme")
    page.goto(sb.url + f"/inbox/{thread}")
    items = page.get_by_test_id("message-item")
    assert items.count() == 20
    page.get_by_role("button", name="Load older messages").click()
    page.get_by_text("Start of conversation").wait_for()
    assert items.count() == 38


def test_never_loads_times_out_in_the_browser(sb: RunningSandbox, page: Page) -> None:
    login(page, sb, "acme")
    sb.client.fault("acme", "never_loads")
    with pytest.raises(PlaywrightTimeout):
        page.goto(sb.url + "/inbox", timeout=2500)
    assert page.get_by_test_id("dm-thread-list").count() == 0


def test_changed_dom_keeps_roles_and_labels(sb: RunningSandbox, page: Page) -> None:
    login(page, sb, "acme")
    sb.client.fault("acme", "changed_dom")
    thread = sb.client.state()["accounts"][0]["threads"][0]
    page.goto(sb.url + f"/inbox/{thread}")
    assert page.get_by_test_id("composer-input").count() == 0
    page.get_by_label("Message", exact=True).fill("still works")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("status").filter(has_text="Message sent").wait_for()
    assert [r["text"] for r in sb.client.replies()] == ["still works"]
    assert page.get_by_text("@acme", exact=True).count() == 1


def test_screenshots_of_inbox_and_post(sb: RunningSandbox, page: Page, tmp_path) -> None:
    login(page, sb, "acme")
    page.screenshot(path=tmp_path / "inbox.png", full_page=True)
    page.goto(sb.url + "/posts/p1")
    page.screenshot(path=tmp_path / "post.png")
    assert (tmp_path / "inbox.png").stat().st_size > 10_000
    assert (tmp_path / "post.png").stat().st_size > 10_000
