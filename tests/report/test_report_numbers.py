"""Every number the report shows, on SQLite and PostgreSQL, against the store counted again
independently (``expected``: raw SQL plus what the script knows triage concluded).

The HTML page is the report: each of its numbers is a ``<data value>`` keyed by table, row
and column, and the test requires the page's keys to be exactly the expected ones (no
number unchecked, none missing) with the same values, and each shown text to say its
value. The text table, the JSON and the CSV files carry the same numbers.
"""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from expected import Key, expected
from report_world import ACME_WEB, CLIENTS, GLOBEX, Script, as_utc

from agent.cli import main
from agent.report import ReportRequest, build_report
from agent.report.html import render_file

RATE = {"takeover_rate"}


def _minutes(key: Key) -> bool:
    names = (key[1], key[2]) if key[0] == "measures" else (key[2],)
    return any(n.endswith(("_p50", "_p90")) or n in ("p50", "p90") for n in names)


def _span(minutes: float) -> str:
    whole = int(abs(minutes))
    if whole >= 2880:
        return f"{whole // 1440}d {whole % 1440 // 60}h"
    return f"{whole // 60}h {whole % 60:02d}m" if whole >= 60 else f"{whole}m"


def page_numbers(html: str) -> dict[Key, tuple[str, str]]:
    soup = BeautifulSoup(html, "html.parser")
    out: dict[Key, tuple[str, str]] = {}
    for d in soup.find_all("data"):
        key = (d["data-t"], d["data-r"], d["data-c"])
        assert key not in out, f"{key} shown twice"
        out[key] = (d["value"], d.get_text())
    return out


def says(key: Key, value: str, text: str) -> bool:
    """The shown text says the value (as a person reads it)."""
    if value == "":
        return text == "—"
    if "/" in value and key[1] != "most_rework":
        num, den = map(int, value.split("/"))
        return text == "—" if den == 0 else (
            text.endswith(f"({num}/{den})") and abs(int(text.split("%")[0]) - 100 * num / den) <= 0.5
        )  # fmt: skip
    if _minutes(key):
        return text == _span(float(value))
    return text == value


def test_every_number_on_the_page_is_the_store_counted_again(day: Script) -> None:
    report = build_report(day.store, CLIENTS, ReportRequest(), now=day.now)
    shown = page_numbers(render_file(report))
    want = expected(day)
    assert set(shown) - set(want) == set(), "numbers on the page nobody checked"
    assert set(want) - set(shown) == set(), "numbers missing from the page"
    wrong = {k: (shown[k][0], v) for k, v in want.items() if shown[k][0] != v}
    assert wrong == {}
    unsaid = {k: v for k, v in shown.items() if not says(k, *v)}
    assert unsaid == {}
    # The script's day, as a person tells it (guards the independent count itself).
    total = {k[1]: v[0] for k, v in shown.items() if k[0] == "measures" and k[2] == "total"}
    assert (total["collected"], total["drafts"], total["approved_unedited"]) == ("20", "9", "4")
    assert (total["edited"], total["rejected"], total["written"]) == ("2", "1", "2")
    assert (total["escalated"], total["paused"], total["paused_context"]) == ("3", "2", "1")
    assert (total["noise"], total["restored"], total["takeovers"]) == ("2", "1", "2")
    assert (total["sweeps"], total["sweeps_stopped"], total["missed"]) == ("9", "2", "3")
    assert (total["replies_sent"], total["replies_failed"], total["replies_waiting"]) == (
        "4", "1", "3",
    )  # fmt: skip
    assert len({k[2] for k in shown if k[0] == "measures"}) == 3  # the total and two weeks


def _cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_the_command_prints_writes_and_filters(
    day: Script, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = day.runtime.home.root
    want = expected(day)  # counted now: the command's "now" is a moment later
    rc, text, _ = _cli(capsys, home, "report")
    assert rc == 0
    labels = {
        "New items collected": want[("measures", "collected", "total")],
        "Drafts sent to review": want[("measures", "drafts", "total")],
        "Replies failed": want[("measures", "replies_failed", "total")],
        "Sweeps with drift": want[("measures", "sweeps_drift", "total")],
    }
    for label, value in labels.items():
        line = next(x for x in text.splitlines() if x.startswith(f"  {label} "))
        assert line.split()[len(label.split())] == value, line
    assert "Definitions" in text and "Takeovers per 100 sweeps." in text
    rc, out, _ = _cli(capsys, home, "report", "--json")
    data = json.loads(out)
    for key in ("collected", "noise", "escalated", "review_actions", "sweeps"):
        assert str(data["total"][key]) == want[("measures", key, "total")]
    agreement = data["total"]["intent_agreement"]
    assert (
        f"{agreement['num']}/{agreement['den']}" == want[("measures", "intent_agreement", "total")]
    )
    rc, _, err = _cli(
        capsys, home, "report", "--csv", str(tmp_path / "csv"), "--html", str(tmp_path / "r.html")
    )
    assert rc == 0 and "wrote" in err
    with (tmp_path / "csv" / "measures.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    totals = {r["measure"]: r["value"] for r in rows if r["group"] == "all" and not r["week"]}
    time_free = {k: v for k, v in totals.items() if not k.endswith(("_p50", "_p90"))}
    for key, value in time_free.items():
        if key != "sla_attainment":  # open items can breach between the two counts
            assert value == want[("measures", key, "total")], key
    assert {r["group"] for r in rows} == {"all", "client", "workspace"}
    assert (tmp_path / "csv" / "escalations.csv").read_text().startswith("owner,queue,escalated")
    page = (tmp_path / "r.html").read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "Globex &lt;Inc&gt;" in page and "Globex <Inc>" not in page
    # filters: one workspace; a client (case does not matter); days
    with day.store.engine.connect() as conn:
        acme = conn.execute(
            sa.text("SELECT count(*) FROM items WHERE workspace = :w"), {"w": ACME_WEB}
        ).scalar()
        globex = conn.execute(
            sa.text("SELECT count(*) FROM items WHERE workspace = :w"), {"w": GLOBEX}
        ).scalar()
    rc, out, _ = _cli(capsys, home, "report", "--json", "--workspace", ACME_WEB)
    assert json.loads(out)["total"]["collected"] == acme and json.loads(out)["workspaces"] == [
        ACME_WEB
    ]
    rc, out, _ = _cli(capsys, home, "report", "--json", "--client", "globex <INC>")
    assert json.loads(out)["total"]["collected"] == globex
    since = (day.now - timedelta(days=7)).date()
    with day.store.engine.connect() as conn:
        recent = sum(
            1 for (seen,) in conn.execute(sa.text("SELECT seen_at FROM items"))
            if as_utc(seen).date() >= since  # type: ignore[union-attr]
        )  # fmt: skip
    rc, out, _ = _cli(capsys, home, "report", "--json", "--since", since.isoformat())
    assert json.loads(out)["total"]["collected"] == recent < acme + globex + 2
