"""In real Chromium: the report file opens offline at desktop and phone widths with every
chart drawn (the phone gets the phone shape), nothing wider than the screen and nothing
loaded from anywhere; the review UI's page renders under its Content-Security-Policy
with no violation.

With ``INBOX_AGENT_DOCS_SCREENSHOTS=1`` the file's screenshots are written to
``docs/screenshots/report-1280.png`` and ``report-390.png`` (else to a temporary folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_world import CLIENTS, PASSWORD, Script

from agent.report import ReportRequest, build_report
from agent.report.html import render_file
from agent.review import create_app
from tests.serving import chromium, serving

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = ((1280, 900), (390, 844))
# Every element's box inside the viewport (hidden ones have no box); and the page's width.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth, bad = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > width + 0.5 || r.left < -0.5)
      bad.push(`${e.tagName}.${e.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  return {bad, scroll: document.documentElement.scrollWidth, width};
}"""
IMAGES = (
    "() => [...document.images].map(i => [i.complete && i.naturalWidth > 0, i.currentSrc, i.src])"
)
WATCH_CSP = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation', "
    "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture(scope="module")
def day_backend() -> str:
    """Browser tests run on SQLite only (the numbers are checked on both elsewhere)."""
    return "sqlite"


@pytest.fixture
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _console_errors(page) -> list[str]:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def _requests(page) -> list[str]:  # type: ignore[no-untyped-def]
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    return urls


def _refused(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The URLs the page asked for that were answered 4xx or 5xx."""
    urls: list[str] = []
    page.on("response", lambda r: urls.append(r.url) if r.status >= 400 else None)
    return urls


def _check(page, width: int, *, phone_src: str) -> None:  # type: ignore[no-untyped-def]
    images = page.evaluate(IMAGES)
    assert len(images) == 5 and all(ok for ok, _, _ in images), images
    phone = width < 720
    for _ok, current, src in images:  # <picture> picked the shape for the width
        assert (current != src) is phone and current.startswith(phone_src if phone else src)
    boxes = page.evaluate(OVERFLOW)
    assert boxes["bad"] == [] and boxes["scroll"] <= boxes["width"] == width, boxes


def test_the_file_opens_offline_at_desktop_and_phone_widths(
    day: Script,
    browser,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    out = DOCS if os.environ.get("INBOX_AGENT_DOCS_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "report.html"
    path.write_text(render_file(build_report(day.store, CLIENTS, ReportRequest(), now=day.now)))
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
        page = context.new_page()
        errors, fetched = _console_errors(page), _requests(page)
        page.add_init_script(WATCH_CSP)
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        _check(page, width, phone_src="data:image/svg+xml;base64,")
        assert errors == [] and page.evaluate("window.__csp") == []
        assert [u for u in fetched if not u.startswith(("file:", "data:"))] == []
        assert page.title().startswith("Pilot report")
        shot = out / f"report-{width}.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        context.close()


@pytest.fixture
def server(day: Script) -> Iterator[str]:
    with serving(create_app(day.runtime, secure_cookies=False)) as url:
        yield url


def test_the_review_ui_page_has_no_csp_violation(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors = _console_errors(page)
        page.add_init_script(WATCH_CSP)
        page.goto(f"{server}/login")
        page.fill("#username", "root")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/")
        missing = _refused(page)
        errors.clear()  # the report page's own, not the sign-in's
        response = page.goto(f"{server}/report")
        assert response is not None and response.status == 200
        assert "style-src 'sha256-" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        _check(page, width, phone_src=f"{server}/report/charts/")
        assert missing == [] and errors == [] and page.evaluate("window.__csp") == []
        context.close()
