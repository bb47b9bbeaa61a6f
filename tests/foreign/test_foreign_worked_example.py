"""The README's worked example: a pack and flow written from the README alone for a site with
no ids (tests/foreign/site/), swept for real."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from agent.runtime import open_runtime
from tests.foreign.conftest import FIXED_NOW, Site, items
from workspaces.paths import Home

SITE = Path(__file__).parent / "site"
WS = "maple-community"


def _runtime(root: Path, site: Site):  # type: ignore[no-untyped-def]
    for kind in ("workspaces", "flows", "selectors"):
        (root / kind).mkdir(parents=True)
    shutil.copy(SITE / "community-web.yaml", root / "selectors")
    shutil.copy(SITE / "community-inbox.yaml", root / "flows")
    workspace = {
        "id": WS,
        "client": "Maple Bikes",
        "platform": "community",
        "surface": "web",
        "environment": {
            "kind": "browser_profile",
            "start_url": site.url,
            "expected_account": "@maplebikes",
        },
        "flows": {"inbox": "community-inbox"},
        "selectors": "community-web",
        "timezone": "Europe/Berlin",
    }
    (root / "workspaces" / f"{WS}.yaml").write_text(yaml.safe_dump(workspace))
    return open_runtime(Home(root))


def _sweep(rt):  # type: ignore[no-untyped-def]
    sweeper = rt.sweeper(triage=False)
    sweeper.clock = lambda: FIXED_NOW
    return sweeper.sweep(WS)


def test_the_worked_example_collects_every_comment_reply_and_the_brands_own(
    tmp_path: Path, site: Site
) -> None:
    page = (SITE / "community.html").read_text()
    site.page("/community", page)
    rt = _runtime(tmp_path, site)
    first = _sweep(rt)
    assert first.status == "ok", first.message
    stored = {i.text: i for i in items(rt, WS)}
    assert len(stored) == 8  # 6 shown + 2 behind "View more comments"
    assert {"Is there a warranty on the motor?", "Great colours!"} <= set(stored)
    priya = stored["Does the battery come out for charging?"]
    brand = stored["Yes, it slides out with the key."]
    tom = stored["Same question for the cargo model 🚲"]
    assert (brand.author, brand.status) == ("@maplebikes", "resolved")
    assert priya.status == "new" and priya.author == "Priya"  # not taken for the brand's
    assert brand.parent_key == priya.key and tom.parent_key == priya.key
    assert {i.thread for i in stored.values()} == {"/community#launch", "/community#winter"}
    assert stored["Do they fit the 2022 city bike?"].posted_text == "5h"
    assert _sweep(rt).new_items == 0
    # A new comment on the second post: the read of the first post stops, the second is read.
    site.page(
        "/community",
        page.replace(
            '<div class="w2">\n      <div class="r5"><div class="m1"><span class="n8">Lea',
            '<div class="w2">\n      <div class="r5"><div class="m1"><span class="n8">Sam</span>'
            '<span class="d4">1m</span></div><div class="t0">Any in 29 inch?</div></div>'
            '\n      <div class="r5"><div class="m1"><span class="n8">Lea',
        ),
    )
    third = _sweep(rt)
    assert (third.status, third.new_items) == ("ok", 1), third
    assert {i.text for i in items(rt, WS)} >= {"Any in 29 inch?"}
