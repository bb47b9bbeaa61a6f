"""`inbox-agent validate` across files: any platform id, reply flows that answer what the inbox
flow collects, references in a workspace whose model failed, every CSS and XPath compiled, and
the built-in packs listed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from devices.locator_syntax import css_error, locator_error, xpath_error
from tests.config.conftest import run
from workspaces.paths import Home, builtin_selectors_dir

EXAMPLE = "workspaces/sandbox-acme-web.yaml"

DM_ONLY_REPLY = """\
id: dm-reply
kind: reply
handles: [dm]
steps:
  - open: "{start_url}{thread}"
  - send_reply:
      target: reply_target_message
      composer: composer
      send: send_button
      own_replies: own_messages
"""


def line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in file")


def problem_lines(out: str, path: Path) -> list[str]:
    return [ln for ln in out.splitlines() if ln.startswith(f"{path}:")]


def edit(path: Path, old: str, new: str) -> str:
    text = path.read_text()
    assert old in text, old
    text = text.replace(old, new)
    path.write_text(text)
    return text


# -- any platform ------------------------------------------------------------------------


def test_a_workspace_may_name_any_platform_that_has_a_pack(home: Home) -> None:
    pack = (builtin_selectors_dir() / "sandbox-web.yaml").read_text()
    pack = pack.replace("id: sandbox-web", "id: forum-acme-web")
    pack = pack.replace("platform: sandbox", "platform: forum-acme")
    (home.root / "selectors").mkdir(exist_ok=True)
    (home.root / "selectors/forum-acme-web.yaml").write_text(pack)
    ws = home.root / EXAMPLE
    edit(ws, "platform: sandbox", "platform: forum-acme")
    edit(ws, "selectors: sandbox-web", "selectors: forum-acme-web")
    code, out = run(home, "validate")
    assert code == 0, out


def test_a_pack_for_another_platform_is_still_an_error(home: Home) -> None:
    ws = home.root / EXAMPLE
    text = edit(ws, "platform: sandbox", "platform: forum-acme")
    code, out = run(home, "validate")
    assert code == 1
    line = line_of(text, "selectors: sandbox-web")
    assert (
        f"{ws}:{line}:1: selectors: selector pack 'sandbox-web' is for sandbox/web, "
        "not forum-acme/web"
    ) in out


def test_validate_lists_the_built_in_packs(home: Home) -> None:
    code, out = run(home, "validate")
    assert code == 0, out
    assert "built-in packs:" in out
    assert re.search(r"^  sandbox-web \(sandbox/web\) — (verified: .+|not verified)$", out, re.M)
    code, out = run(home, "validate", "--json")
    assert code == 0
    packs = [json.loads(ln) for ln in out.splitlines()]
    assert all(p["kind"] == "builtin_pack" for p in packs)  # no problems
    ids = [p["id"] for p in packs]
    assert ids == sorted(ids) and len(ids) == len(list(builtin_selectors_dir().glob("*.yaml")))
    sandbox = next(p for p in packs if p["id"] == "sandbox-web")
    assert (sandbox["platform"], sandbox["surface"]) == ("sandbox", "web")
    assert "verified" in sandbox


def test_a_verified_pack_says_what_it_was_verified_against(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builtin = tmp_path / "builtin-selectors"
    builtin.mkdir()
    for name in ("sandbox-web.yaml", "sandbox-android.yaml"):  # the example home's packs
        (builtin / name).write_text((builtin_selectors_dir() / name).read_text())
    (builtin / "x-web.yaml").write_text(
        "id: x-web\nplatform: x\nsurface: web\n"
        'verified: "replayed real saved pages of x.com, 2025"\n'
        "selectors:\n  item:\n    - css: article\n"
    )
    monkeypatch.setattr("agent.config.builtin_selectors_dir", lambda: builtin)
    code, out = run(home, "validate")
    assert code == 0, out
    assert "  x-web (x/web) — verified: replayed real saved pages of x.com, 2025" in out
    code, out = run(home, "validate", "--json")
    packs = {p["id"]: p for p in map(json.loads, out.splitlines()) if p["kind"] == "builtin_pack"}
    assert packs["x-web"]["verified"] == "replayed real saved pages of x.com, 2025"


# -- reply flows name the item kinds they answer ------------------------------------------


def test_a_reply_flow_must_answer_what_the_inbox_flow_collects(home: Home) -> None:
    (home.root / "flows").mkdir(exist_ok=True)
    (home.root / "flows/dm-reply.yaml").write_text(DM_ONLY_REPLY)
    ws = home.root / EXAMPLE
    text = edit(ws, "reply: sandbox-reply", "reply: dm-reply")
    code, out = run(home, "validate")
    assert code == 1
    line = line_of(text, "reply: dm-reply")
    assert (
        f"{ws}:{line}:3: flows.reply: reply flow 'dm-reply' cannot answer comment items "
        "that inbox flow 'sandbox-inbox' collects (it handles: dm)"
    ) in out
    assert len(problem_lines(out, ws)) == 1, out


def test_a_workspace_without_a_reply_flow_is_valid(home: Home) -> None:
    edit(home.root / EXAMPLE, "  reply: sandbox-reply\n", "")
    code, out = run(home, "validate")
    assert code == 0, out


# -- every problem in one run ------------------------------------------------------------


def test_a_workspace_with_a_model_error_still_has_its_references_checked(home: Home) -> None:
    ws = home.root / EXAMPLE
    edit(ws, "platform: sandbox", "platform: 42")
    edit(ws, "selectors: sandbox-web", "selectors: no-such-pack")
    text = edit(ws, "inbox: sandbox-inbox", "inbox: no-such-flow")
    code, out = run(home, "validate")
    assert code == 1
    lines = problem_lines(out, ws)
    assert any(
        ln.startswith(f"{ws}:{line_of(text, 'platform: 42')}:") and ": platform: " in ln
        for ln in lines
    ), out
    assert (
        f"{ws}:{line_of(text, 'selectors: no-such')}:1: selectors: "
        "no selector pack with id 'no-such-pack'"
    ) in lines
    assert (
        f"{ws}:{line_of(text, 'inbox: no-such')}:3: flows.inbox: no flow with id 'no-such-flow'"
    ) in lines
    assert len(lines) == 3, out
    assert "3 problems" in out


def test_an_unknown_key_does_not_hide_a_dangling_reference(home: Home) -> None:
    ws = home.root / EXAMPLE
    edit(ws, "client: Acme Corp", "client: Acme Corp\ncolour: blue")
    edit(ws, "reply: sandbox-reply", "reply: sandbox-inbox")  # an inbox flow as the reply
    text = edit(ws, "knowledge/sandbox-replies.yaml", "knowledge/gone.yaml")
    code, out = run(home, "validate")
    assert code == 1
    lines = problem_lines(out, ws)
    assert f"{ws}:{line_of(text, 'colour:')}:1: colour: unknown key" in lines
    assert any(
        ln.startswith(f"{ws}:{line_of(text, 'reply: sandbox-inbox')}:")
        and "flow 'sandbox-inbox' is a inbox flow" in ln
        for ln in lines
    ), out
    assert any("knowledge file 'knowledge/gone.yaml' not found" in ln for ln in lines), out


def test_an_android_workspace_with_a_model_error_still_names_its_missing_device(
    home: Home,
) -> None:
    ws = home.root / "workspaces/phone.yaml"
    ws.write_text(
        "id: phone\nclient: Acme\nplatform: instagram\nsurface: android\n"
        "environment:\n  kind: android_device\n  device: ghost\n  app_package: com.x.y\n"
        "  expected_account: '@a'\n  colour: red\n"
        "flows: {inbox: sandbox-inbox}\nselectors: sandbox-web\n"
    )
    code, out = run(home, "validate")
    assert code == 1
    lines = problem_lines(out, ws)
    assert f"{ws}:10:3: environment.colour: unknown key" in lines, out
    assert f"{ws}:7:3: environment.device: no device with id 'ghost'" in lines, out
    assert any("is for sandbox/web, not instagram/android" in ln for ln in lines), out


# -- every CSS and XPath compiled ----------------------------------------------------------

BROKEN_PACK = """\
id: broken-web
platform: sandbox
surface: web
selectors:
  comment_item:
    - css: "[data-testid=comment-item]"
    - css: "div[data-x="
  comment_text:
    - css: "[data-testid=comment-text]"
    - xpath: "//div["
  reply_target:
    - css: "article[data-message-id='{item_message_id}'] button:has-text('Reply')"
    - css: "div >> text=Reply"
    - xpath: "//article[@data-message-id='{item_message_id}']"
"""


def test_broken_css_and_xpath_are_reported_at_their_lines(home: Home) -> None:
    (home.root / "selectors").mkdir(exist_ok=True)
    pack = home.root / "selectors/broken-web.yaml"
    pack.write_text(BROKEN_PACK)
    code, out = run(home, "validate")
    assert code == 1
    lines = problem_lines(out, pack)
    css_line, xpath_line = line_of(BROKEN_PACK, "div[data-x="), line_of(BROKEN_PACK, "//div[")
    assert [ln.split(": ", 1)[0] for ln in lines] == [
        f"{pack}:{css_line}:7",
        f"{pack}:{xpath_line}:7",
    ], out
    assert lines[0].startswith(
        f"{pack}:{css_line}:7: selectors.comment_item[1].css: "
        "selector 'comment_item' alternative 2: invalid CSS: "
    )
    assert lines[1].startswith(
        f"{pack}:{xpath_line}:7: selectors.comment_text[1].xpath: "
        "selector 'comment_text' alternative 2: invalid XPath: "
    )
    assert "2 problems" in out


def test_a_pack_with_a_model_error_still_has_its_locators_compiled(home: Home) -> None:
    (home.root / "selectors").mkdir(exist_ok=True)
    pack = home.root / "selectors/broken-web.yaml"
    text = BROKEN_PACK.replace("surface: web", "surface: web\ncolour: blue")
    pack.write_text(text)
    code, out = run(home, "validate")
    lines = problem_lines(out, pack)
    assert code == 1 and len(lines) == 3, out
    assert any(": colour: unknown key" in ln for ln in lines)
    assert sum("invalid CSS" in ln or "invalid XPath" in ln for ln in lines) == 2


def test_a_broken_built_in_pack_is_a_problem_at_its_file(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builtin = tmp_path / "builtin-selectors"
    builtin.mkdir()
    sandbox = (builtin_selectors_dir() / "sandbox-web.yaml").read_text()
    text = sandbox.replace('- css: "[data-testid=account-handle]"', '- css: "[data-testid="', 1)
    assert text != sandbox
    (builtin / "sandbox-web.yaml").write_text(text)
    monkeypatch.setattr("agent.config.builtin_selectors_dir", lambda: builtin)
    code, out = run(home, "validate")
    assert code == 1
    line = line_of(text, '- css: "[data-testid="')
    assert f"{builtin / 'sandbox-web.yaml'}:{line}:7: selectors.account_handle[0].css: " in out
    assert "selector 'account_handle' alternative 1: invalid CSS" in out


@pytest.mark.parametrize(
    "css",
    [
        "[data-testid=comment-item]",
        "li[data-message-id='{item_message_id}']",
        "article[data-parent-id='{item_message_id}'][data-author='{account_name}']",
        "[data-testid=feed-status]:not([hidden])",
        "ol > li:has(> time)",
        "div:has(> div > span + span)",  # browsers take complex :has(); soupsieve 4 refuses it
        "a[href*='/status/']:has(> time):not(div[role=link] *)",
        "button:has-text('Send')",  # Playwright only: not compiled
        "div >> span",
        "text=Log in",
        "li:visible",
    ],
)
def test_valid_and_playwright_only_css_pass(css: str) -> None:
    assert css_error(css) is None


@pytest.mark.parametrize("css", ["div[data-x=", "a[href^='/x'", "li:nth-child(", "::", "a,,b"])
def test_invalid_css_is_named(css: str) -> None:
    assert css_error(css)
    assert (locator_error("css", css) or "").startswith("invalid CSS: ")


@pytest.mark.parametrize(
    "xpath",
    [
        ".//div[.//time]/span[1]",
        "//li[@data-message-id='{item_message_id}']/preceding-sibling::li[@data-from-brand]",
        "./div/descendant::p[1]",
        "//*[@resource-id='com.x:id/{name}']",
    ],
)
def test_valid_xpath_passes(xpath: str) -> None:
    assert xpath_error(xpath) is None


@pytest.mark.parametrize("xpath", ["//div[", "//@@a", "///", "//a[@b='c']]"])
def test_invalid_xpath_is_named(xpath: str) -> None:
    assert (locator_error("xpath", xpath) or "").startswith("invalid XPath: ")


def test_other_locator_kinds_are_not_compiled() -> None:
    assert locator_error("text", "div[") is None and locator_error("role", "//") is None
