"""A DM inbox whose rows have no links: tapped conversations, the account's own messages, replies."""

from __future__ import annotations

import json
from pathlib import Path

from tests.foreign.conftest import Site, events, items, sweep, write_home

CONVERSATIONS = {
    "k1": [("ann", "Where is my order?"), ("me", "Looking into it")],
    "k2": [("bob", "Do you ship to Spain?")],
    "k3": [("cy", "Love the app"), ("me", "Thank you!"), ("cy", "One more question")],
}

# Rows are <div>s with a click handler (no href); the open conversation is drawn into one
# pane, so every conversation shares the page's URL. Sending posts to /sent and draws the
# message, as the real thing would.
INBOX = """<html><body>
<div id="rows"></div><section id="pane" aria-live="polite"></section>
<script>
const DATA = %s;
const rows = document.getElementById('rows'), pane = document.getElementById('pane');
function draw(key) {
  pane.innerHTML = '';
  pane.dataset.open = key;
  DATA[key].forEach(([who, text], i) => {
    const m = document.createElement('div');
    m.className = 'bubble' + (who === 'me' ? ' out' : '');
    m.dataset.mid = key + '-' + i;
    const w = document.createElement('b'); w.textContent = who === 'me' ? 'acme' : who;
    const t = document.createElement('p'); t.textContent = text;
    m.append(w, t); pane.append(m);
  });
  const box = document.createElement('div');
  box.contentEditable = 'true'; box.className = 'composer'; pane.append(box);
  const send = document.createElement('button'); send.textContent = 'Send'; pane.append(send);
  send.onclick = () => {
    const text = box.textContent;
    fetch('/sent', {method: 'POST', body: JSON.stringify({conversation: key, text})});
    DATA[key].push(['me', text]); draw(key);
  };
}
Object.keys(DATA).forEach((key) => {
  const r = document.createElement('div');
  r.className = 'row'; r.dataset.conv = key;
  const last = DATA[key][DATA[key].length - 1];
  const name = document.createElement('span'); name.className = 'n';
  name.textContent = DATA[key][0][0];
  const pv = document.createElement('span'); pv.className = 'pv';
  pv.textContent = (last[0] === 'me' ? 'You: ' : '') + last[1];
  r.append(name, pv); r.onclick = () => draw(key); rows.append(r);
});
</script></body></html>"""

PACK = {
    "selectors": {
        "row": [{"css": ".row"}],
        "row_name": [{"css": ".n"}],
        "row_preview": [{"css": ".pv"}],
        "bubble": [{"css": "#pane .bubble"}],
        "who": [{"css": "b"}],
        "said": [{"css": "p"}],
        "mine": [{"css": ".bubble.out"}, {"xpath": ".//span[starts-with(., 'You: ')]"}],
        "target": [{"css": ".bubble[data-mid='{item_message_id}']"}],
        "composer": [{"css": "#pane .composer"}],
        "send": [{"role": "button", "name": "Send"}],
        "my_bubbles": [{"css": "#pane .bubble.out"}],
    },
    "own_marker": "mine",
}

TAP_INBOX = [
    {"open": "{start_url}/messages"},
    {
        "for_each": {
            "list": "row",
            "thread": {"attr": "data-conv"},
            "steps": [
                {"wait_for": "bubble"},
                {
                    "collect": {
                        "list": "bubble",
                        "kind": "dm",
                        "order": "oldest_first",
                        "fields": {
                            "id": {"attr": "data-mid"},
                            "author": {"selector": "who"},
                            "text": {"selector": "said"},
                        },
                    }
                },
            ],
        }
    },
]

REPLY = [
    {"open": "{start_url}/messages"},
    {
        "for_each": {
            "list": "row",
            "thread": {"attr": "data-conv"},
            "match": "{thread}",
            "steps": [
                {
                    "send_reply": {
                        "target": "target",
                        "composer": "composer",
                        "send": "send",
                        "own_replies": "my_bubbles",
                        "own_text": "said",
                    }
                }
            ],
        }
    },
]


def _site(site: Site) -> None:
    site.page("/messages", INBOX % json.dumps(CONVERSATIONS))


def test_tapped_conversations_are_kept_apart_and_own_messages_are_context(
    tmp_path: Path, site: Site
) -> None:
    _site(site)
    rt = write_home(tmp_path, site, pack=PACK, inbox=TAP_INBOX)
    seen: list[str] = []
    sweeper = rt.sweeper(on_item=lambda item: seen.append(item.text))
    result = sweeper.sweep("forum-acme")
    assert result.status == "ok", result.message
    stored = items(rt)
    by_thread: dict[str, list[str]] = {}
    for i in stored:
        by_thread.setdefault(i.thread, []).append(i.text)
    assert set(by_thread) == {"/messages#k1", "/messages#k2", "/messages#k3"}
    assert sorted(by_thread["/messages#k3"]) == sorted(t for _, t in CONVERSATIONS["k3"])
    own = {i.text for i in stored if i.status == "resolved"}
    assert own == {"Looking into it", "Thank you!"}  # the account's own: kept, never triaged
    assert all(i.author == "@acme" for i in stored if i.text in own)
    assert sorted(seen) == sorted(
        t for conv in CONVERSATIONS.values() for who, t in conv if who != "me"
    )
    assert sweep(rt).new_items == 0


def test_a_preview_list_credits_the_accounts_own_previews_to_the_account(
    tmp_path: Path, site: Site
) -> None:
    _site(site)
    flow = [
        {"open": "{start_url}/messages"},
        {
            "collect": {
                "list": "row",
                "kind": "dm",
                "thread": {"attr": "data-conv"},
                "fields": {"author": {"selector": "row_name"}, "text": {"selector": "row_preview"}},
            }
        },
    ]
    rt = write_home(tmp_path, site, pack=PACK, inbox=flow)
    assert sweep(rt).new_items == 3
    by_thread = {i.thread: i for i in items(rt)}
    assert (by_thread["/messages#k1"].author, by_thread["/messages#k1"].status) == (
        "@acme",
        "resolved",
    )
    assert by_thread["/messages#k2"].author == "bob"


def test_a_reply_opens_its_own_conversation_and_is_sent_once(tmp_path: Path, site: Site) -> None:
    _site(site)
    rt = write_home(tmp_path, site, pack=PACK, inbox=TAP_INBOX, reply=REPLY, handles=["dm"])
    sweeper = rt.sweeper(triage=False)
    ws = rt.catalog.workspace("forum-acme")
    flow = rt.catalog.flows["forum-reply"].model
    pack = rt.catalog.selectors["forum-web"].model
    extra = {
        "thread": "/messages#k2",
        "reply_text": "Yes, we ship to Spain.",
        "item_message_id": "k2-0",
        "account_name": "acme",
    }
    first = sweeper.run_flow(ws, flow, pack, extra=extra, kind="reply")
    assert first.status == "ok", first.message
    assert first.reply == {"already_posted": False, "confirmed": True}
    assert site.sent == [{"conversation": "k2", "text": "Yes, we ship to Spain."}]
    # The page keeps what was sent only while it is open; a missing conversation is named.
    missing = sweeper.run_flow(ws, flow, pack, extra={**extra, "thread": "/messages#k9"})
    assert missing.status == "stopped"
    assert "no entry of 'row' has thread '/messages#k9'" in (missing.message or "")
    assert len(site.sent) == 1


def test_a_row_without_its_thread_is_reported_not_skipped(tmp_path: Path, site: Site) -> None:
    page = INBOX % json.dumps(CONVERSATIONS)
    # the site renders one row without the attribute the pack names its thread by
    page = page.replace(
        "r.append(name, pv);", "r.append(name, pv); if (key === 'k2') delete r.dataset.conv;"
    )
    site.page("/messages", page)
    rt = write_home(tmp_path, site, pack=PACK, inbox=TAP_INBOX)
    result = sweep(rt)
    assert (result.status, result.unreadable) == ("drift", 1)
    assert {i.thread for i in items(rt)} == {"/messages#k1", "/messages#k3"}
    (logged,) = events(rt, result, "items_unreadable")
    assert logged["selector"] == "row" and logged["missing"] == {"thread": 1}
