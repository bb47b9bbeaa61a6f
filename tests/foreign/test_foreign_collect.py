"""Collecting from a site with no test ids: nothing lost silently, every order, real-page fields."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.foreign.conftest import FIXED_NOW, Site, events, items, sweep, write_home

# -- nested comments: the group's own element is an item ------------------------------


def _thread_page(
    tops: int, replies: dict[int, int], *, authorless: frozenset[int] = frozenset()
) -> str:
    """Obfuscated classes, top-level comments with replies nested inside them."""
    out = ["<html><body><main><div id='cm'>"]
    for i in range(tops):
        author = "" if i in authorless else f"<span class='q1'>user{i}</span>"
        out.append(f"<div class='k7 z' data-cid='c{i}'>{author}<p class='q2'>comment {i}</p>")
        for j in range(replies.get(i, 0)):
            out.append(
                f"<div class='k7' data-cid='c{i}r{j}' data-parent='c{i}'>"
                f"<span class='q1'>fan{j}</span><p class='q2'>reply {j} to {i}</p></div>"
            )
        out.append("</div>")
    out.append("</div></main></body></html>")
    return "".join(out)


NESTED_PACK = {
    "selectors": {
        "thread_root": [{"css": "#cm > .k7"}],
        "comment": [{"css": ".k7"}],
        "author": [{"css": ":scope > .q1"}],
        "text": [{"css": ":scope > .q2"}],
    }
}


def _nested_flow(**collect: object) -> list[dict[str, object]]:
    return [
        {"open": "{start_url}/post"},
        {
            "collect": {
                "group": "thread_root",
                "list": "comment",
                "kind": "comment",
                "fields": {
                    "id": {"attr": "data-cid"},
                    "author": {"selector": "author"},
                    "text": {"selector": "text"},
                    "parent_id": {"attr": "data-parent"},
                },
                **collect,
            }
        },
    ]


def test_a_group_whose_own_element_is_an_item_keeps_the_top_level_comments(
    tmp_path: Path, site: Site
) -> None:
    site.page("/post", _thread_page(18, {2: 2, 5: 1}))
    rt = write_home(tmp_path, site, pack=NESTED_PACK, inbox=_nested_flow())
    result = sweep(rt)
    assert result.status == "ok", result.message
    stored = {i.message_id: i for i in items(rt)}
    assert len(stored) == 21  # 18 comments and 3 replies, none lost
    assert {f"c{i}" for i in range(18)} <= set(stored)
    assert stored["c2r1"].parent_key == stored["c2"].key


def test_an_element_that_cannot_be_read_makes_the_sweep_drift_with_evidence(
    tmp_path: Path, site: Site
) -> None:
    site.page("/post", _thread_page(6, {}, authorless=frozenset({3})))
    rt = write_home(tmp_path, site, pack=NESTED_PACK, inbox=_nested_flow())
    result = sweep(rt)
    assert result.status == "drift", result
    assert result.unreadable == 1 and result.new_items == 5
    (logged,) = events(rt, result, "items_unreadable")
    assert logged["selector"] == "comment" and logged["missing"] == {"author": 1}
    assert logged["sample"]["text"] == "comment 3"
    assert logged["screenshot"] and Path(logged["screenshot"]).is_file()


def test_unreadable_elements_can_stop_the_sweep_after_the_readable_ones_are_stored(
    tmp_path: Path, site: Site
) -> None:
    site.page("/post", _thread_page(6, {}, authorless=frozenset({3})))
    rt = write_home(tmp_path, site, pack=NESTED_PACK, inbox=_nested_flow(on_unreadable="stop"))
    result = sweep(rt)
    assert (result.status, result.stop_reason) == ("stopped", "selector_missing")
    assert "1 elements of 'comment' could not be read" in (result.message or "")
    assert len(items(rt)) == 5  # stored before the stop


# -- orderings: where a new item can appear, and which reads find it ------------------


def _list_page(ids: list[str]) -> str:
    rows = "".join(
        f"<li class='r' data-id='{i}'><b>{i}-author</b><span>text of {i}</span></li>" for i in ids
    )
    return f"<html><body><ul>{rows}</ul></body></html>"


LIST_PACK = {
    "selectors": {
        "row": [{"css": "li.r"}],
        "who": [{"css": "b"}],
        "what": [{"css": "span"}],
    }
}


def _list_flow(order: str) -> list[dict[str, object]]:
    fields = {
        "id": {"attr": "data-id"},
        "author": {"selector": "who"},
        "text": {"selector": "what"},
    }
    return [
        {"open": "{start_url}/list"},
        {"collect": {"list": "row", "kind": "comment", "order": order, "fields": fields}},
    ]


# (order, where the new item appears) -> found by the next incremental sweep?
ORDERINGS = [
    ("newest_first", "top", True),
    ("newest_first", "middle", False),
    ("newest_first", "end", False),
    ("oldest_first", "end", True),
    ("oldest_first", "middle", False),
    ("oldest_first", "top", False),
    ("appended_at_end", "top", True),
    ("appended_at_end", "middle", True),
    ("appended_at_end", "end", True),
    ("unordered", "top", True),
    ("unordered", "middle", True),
    ("unordered", "end", True),
]


@pytest.mark.parametrize(("order", "where", "incremental_finds"), ORDERINGS)
def test_each_order_finds_a_new_item_or_the_full_pass_reports_it_missed(
    tmp_path: Path, site: Site, order: str, where: str, incremental_finds: bool
) -> None:
    ids = [f"m{i}" for i in range(6)]
    site.page("/list", _list_page(ids))
    rt = write_home(tmp_path, site, pack=LIST_PACK, inbox=_list_flow(order))
    assert sweep(rt).new_items == 6
    at = {"top": 0, "middle": 3, "end": 6}[where]
    site.page("/list", _list_page([*ids[:at], "new", *ids[at:]]))
    second = sweep(rt)
    assert second.new_items == (1 if incremental_finds else 0), second
    assert second.status == "ok"
    full = sweep(rt, full=True)
    assert full.full_pass
    if incremental_finds:
        assert (full.new_items, full.missed, full.status) == (0, 0, "ok")
    else:
        assert (full.new_items, full.missed, full.status) == (1, 1, "drift")
        assert "earlier sweeps had missed" in (full.message or "")
    assert "new" in {i.message_id for i in items(rt)}


def test_full_every_n_sweeps_reads_the_whole_list(tmp_path: Path, site: Site) -> None:
    ids = [f"m{i}" for i in range(4)]
    site.page("/list", _list_page(ids))
    flow = _list_flow("newest_first")
    flow[1]["collect"]["full_every"] = 3  # type: ignore[index]
    rt = write_home(tmp_path, site, pack=LIST_PACK, inbox=flow)
    assert sweep(rt).full_pass  # sweep 0 of every 3
    site.page("/list", _list_page([*ids, "late"]))
    assert (sweep(rt).new_items, sweep(rt).new_items) == (0, 0)  # sweeps 1 and 2 stop early
    third = sweep(rt)
    assert third.full_pass and third.missed == 1


# -- fields as real pages show them ------------------------------------------------------

STORY = """<html><head><title>story</title></head><body>
<div class="st" id="post-1"><h3>Post one</h3>
  <div class="cm" data-commentid="1_a"><div class="nm">Zoë Ångström</div>
    <div class="bd">They’re   great
        <img alt="😀" src="data:,"> really</div><abbr>2 hrs</abbr></div>
  <div class="cm" data-commentid="1_b"><div class="nm">Bo</div><div class="bd">on a Friday</div>
    <abbr>on Fri</abbr></div>
</div>
<div class="st" id="post-2"><h3>Post two</h3>
  <div class="cm" data-commentid="2_a"><div class="nm">Cy</div><div class="bd">Year-old</div>
    <abbr>1 yr</abbr></div>
  <div class="cm" data-commentid="2_b"><div class="nm">Di</div><div class="bd">odd time</div>
    <abbr>whenever the moon is blue</abbr></div>
</div></body></html>"""

STORY_PACK = {
    "selectors": {
        "post": [{"css": "div.st"}],
        "comment": [{"css": "div.cm"}],
        "name": [{"css": ".nm"}],
        "body": [{"css": ".bd"}],
        "when": [{"css": "abbr"}],
    }
}
STORY_FLOW = [
    {"open": "{start_url}/story", "wait_until": "domcontentloaded"},
    {
        "collect": {
            "list": "comment",
            "kind": "comment",
            "thread": {"closest": "post", "attr": "id"},
            "fields": {
                "id": {"attr": "data-commentid"},
                "author": {"selector": "name"},
                "text": {"selector": "body"},
                "posted_at": {"selector": "when"},
            },
        }
    },
]


def test_a_page_without_charset_relative_times_and_threads_from_the_enclosing_post(
    tmp_path: Path, site: Site
) -> None:
    site.pages["/story"] = (STORY.encode("utf-8"), "text/html")  # no charset anywhere
    rt = write_home(tmp_path, site, pack=STORY_PACK, inbox=STORY_FLOW)
    result = sweep(rt)
    stored = {i.message_id: i for i in items(rt)}
    a = stored["1_a"]
    assert a.author == "Zoë Ångström"
    assert a.text == "They’re great 😀 really"  # decoded as UTF-8, emoji from alt, spaces collapsed
    assert {i.thread for i in stored.values()} == {"/story#post-1", "/story#post-2"}
    assert a.posted_text == "2 hrs"
    assert a.posted_at is not None
    assert abs(a.posted_at - (FIXED_NOW - timedelta(hours=2))) < timedelta(minutes=1)
    assert stored["2_a"].posted_at is not None
    assert stored["2_a"].posted_at.year == FIXED_NOW.year - 1
    friday = stored["1_b"].posted_at
    assert friday is not None and friday.astimezone(ZoneInfo("Europe/Berlin")).weekday() == 4
    # the time nobody can read is kept as shown and reported, the item is not lost
    assert stored["2_b"].posted_at is None and stored["2_b"].posted_text
    assert (result.status, result.unreadable_times) == ("drift", 1)


def test_a_selector_the_page_engine_rejects_names_pack_selector_and_field(
    tmp_path: Path, site: Site
) -> None:
    site.page("/story", STORY)
    pack = {"selectors": {**STORY_PACK["selectors"], "name": [{"css": ".nm:has-text('Bo')"}]}}
    rt = write_home(tmp_path, site, pack=pack, inbox=STORY_FLOW)
    result = sweep(rt)
    assert (result.status, result.stop_reason) == ("stopped", "crashed")
    message = result.message or ""
    assert "pack 'forum-web'" in message and "selector 'name'" in message
    assert "field 'author'" in message and "alternative 1" in message


@pytest.mark.parametrize("wait_until", ["load", "domcontentloaded"])
def test_open_waits_for_dom_ready_when_asked_and_names_what_it_waited_for(
    tmp_path: Path, site: Site, wait_until: str
) -> None:
    site.page("/slow", _list_page(["m1"]).replace("<ul>", "<img src='/pixel.gif'><ul>"))
    site.hanging["/pixel.gif"] = threading.Event()
    flow = _list_flow("newest_first")
    flow[0] = {"open": "{start_url}/slow", "wait_until": wait_until, "timeout_s": 2}
    rt = write_home(tmp_path, site, pack=LIST_PACK, inbox=flow)
    result = sweep(rt)
    if wait_until == "domcontentloaded":
        assert (result.status, result.new_items) == ("ok", 1), result.message
    else:
        assert (result.status, result.stop_reason) == ("stopped", "timeout")
        assert "waited 2s for the page's load event" in (result.message or "")


def test_a_field_path_that_reaches_outside_the_item_is_named_not_left_empty(
    tmp_path: Path, site: Site
) -> None:
    site.page("/list", _list_page(["m1", "m2"]))
    pack = {"selectors": {**LIST_PACK["selectors"], "who": [{"xpath": "ancestor::ul"}]}}
    rt = write_home(tmp_path, site, pack=pack, inbox=_list_flow("newest_first"))
    result = sweep(rt)
    assert (result.status, result.stop_reason) == ("stopped", "crashed")
    assert "matches only outside the item: read it with closest or preceding" in (
        result.message or ""
    )
    assert "selector 'who'" in (result.message or "") and "field 'author'" in (result.message or "")


def test_an_id_that_is_not_unique_is_reported_not_merged(tmp_path: Path, site: Site) -> None:
    page = _list_page(["m1", "m2", "m3"]).replace("data-id='m3'", "data-id='m1'")
    site.page("/list", page)
    rt = write_home(tmp_path, site, pack=LIST_PACK, inbox=_list_flow("unordered"))
    result = sweep(rt)
    assert (result.status, result.unreadable) == ("drift", 1)
    (logged,) = events(rt, result, "items_unreadable")
    assert logged["missing"] == {"id (not unique)": 1}


def test_an_http_error_page_is_a_platform_error_not_a_guess(tmp_path: Path, site: Site) -> None:
    site.page("/list", _list_page(["m1"]))
    rt = write_home(tmp_path, site, pack=LIST_PACK, inbox=_list_flow("newest_first"))
    assert sweep(rt).status == "ok"
    site.status["/list"] = 500  # the platform's "something went wrong" page
    result = sweep(rt)
    assert (result.status, result.stop_reason) == ("stopped", "platform_error")
    assert "HTTP 500" in (result.message or "")
    site.status["/list"] = 429
    assert sweep(rt).stop_reason == "rate_limited"


def test_a_pack_can_name_its_error_screen(tmp_path: Path, site: Site) -> None:
    site.page("/list", "<html><body><h1 class='oops'>Something went wrong</h1></body></html>")
    pack = {
        "selectors": {**LIST_PACK["selectors"], "oops": [{"css": "h1.oops"}]},
        "screens": {"platform_error": "oops"},
    }
    rt = write_home(tmp_path, site, pack=pack, inbox=_list_flow("newest_first"))
    result = sweep(rt)
    assert (result.status, result.stop_reason) == ("stopped", "platform_error")
