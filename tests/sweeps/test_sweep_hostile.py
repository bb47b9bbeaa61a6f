"""Hostile message text is stored byte for byte and never executed by the sweep's browser.

Every payload that ran would leave a mark in the profile's localStorage, which
outlives the sweep; after the sweep the profile is opened again to look for it.
"""

from __future__ import annotations

from agent.runtime import Runtime
from agent.sweep import browser_settings
from devices.playwright_driver import PlaywrightDriver
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import ACME, injected_rows, stored_items, stored_rows

MARK = "localStorage.setItem('pwned', '{}')"
HOSTILE = [
    f"<script>{MARK.format('script')}</script>",
    f'<img src=x onerror="{MARK.format("img")}">',
    f'<a href="javascript:{MARK.format("link")}">click me</a> javascript:{MARK.format("bare")}',
    '<b>bold</b> &amp; &lt;tags&gt; <!-- comment --> <li data-testid="message-item" '
    'data-message-id="m999" data-author="fake">a forged item</li>',
    "\u202eevil.exe\u202c reversed, and Arabic \u0645\u0631\u062d\u0628\u0627 inline",
    "zero\u200bwidth\u200cjoin\u200ders\ufeff and soft\u00adhyphen",
    "emoji 🧨👩🏽‍💻🏳️‍🌈 and combining e\u0301 (not NFC)",
    "  leading and trailing spaces, a tab\there,\nand two\n\nnewlines  ",
    "long: " + "x" * 10_000 + " end",
]


def test_hostile_text_is_stored_byte_for_byte_and_never_runs(
    sb: RunningSandbox, rt: Runtime
) -> None:
    c = sb.client
    post = c.add_post("acme", "Hostile comments")["id"]
    for i, text in enumerate(HOSTILE):
        c.post_message("acme", "comment", f"mallory{i}", text, thread=post)
        c.post_message("acme", "dm", "mallory", text)

    result = rt.sweeper().sweep(ACME)

    assert result.status == "ok", result.message
    assert result.new_items == 2 * len(HOSTILE)  # the forged <li> did not become an item
    assert stored_rows(rt) == injected_rows(sb, "acme")
    by_kind: dict[str, list[bytes]] = {"comment": [], "dm": []}
    for item in stored_items(rt):
        by_kind[item.kind].append(item.text.encode("utf-8"))
    for texts in by_kind.values():
        assert sorted(texts) == sorted(t.encode("utf-8") for t in HOSTILE)

    settings = browser_settings(rt.home, rt.catalog.workspace(ACME))
    with PlaywrightDriver(settings) as browser:
        browser.page.goto(sb.url + "/inbox")
        assert browser.page.evaluate("localStorage.getItem('pwned')") is None
        assert browser.page.evaluate("localStorage.length") == 0
