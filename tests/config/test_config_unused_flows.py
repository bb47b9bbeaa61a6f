"""`validate` checks a flow no workspace uses against every selector pack: it must fit one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.config import load_catalog
from agent.scaffold import init_home
from workspaces.paths import Home

runner = CliRunner()

ORPHAN = """\
id: orphan
description: used by no workspace
steps:
  - open: "{start_url}/login"
  - wait_for: account_handle
  - tap: nonexistent_button
  - tap: also_missing
"""


@pytest.fixture()
def home(tmp_path: Path) -> Home:
    h = Home(tmp_path / "home")
    init_home(h)
    (h.root / "flows").mkdir(exist_ok=True)
    (h.root / "selectors").mkdir(exist_ok=True)
    return h


def run(home: Home, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home.root), "validate", *args])
    return result.exit_code, result.output


def problems(out: str, path: Path) -> list[str]:
    return [ln for ln in out.splitlines() if ln.startswith(f"{path}:")]


def test_an_unused_flow_with_selectors_no_pack_has_is_an_error_at_its_first_use(
    home: Home,
) -> None:
    path = home.root / "flows/orphan.yaml"
    path.write_text(ORPHAN)
    code, out = run(home)
    assert code == 1
    assert problems(out, path) == [
        f"{path}:6:5: steps[2].tap: flow 'orphan' uses selectors no pack has: "
        "also_missing, nonexistent_button"
    ], out
    code, out = run(home, str(path))  # the file checked on its own: the same answer
    assert code == 1 and len(problems(out, path)) == 1, out


def test_an_unused_flow_that_fits_one_pack_is_fine(home: Home) -> None:
    (home.root / "flows/fits-sandbox.yaml").write_text(
        "id: fits-sandbox\nsteps:\n  - wait_for: account_handle\n  - tap: login_submit\n"
    )
    (home.root / "flows/fits-home-pack.yaml").write_text(
        "id: fits-home-pack\nsteps:\n  - tap: big_red_button\n"
    )
    (home.root / "selectors/forum-web.yaml").write_text(
        "id: forum-web\nplatform: forum\nsurface: web\n"
        "selectors:\n  big_red_button:\n    - css: button.red\n"
    )
    code, out = run(home)
    assert code == 0, out


def test_an_unused_flow_whose_names_are_split_over_packs_names_the_closest(home: Home) -> None:
    path = home.root / "flows/split.yaml"
    # account_handle is in both sandbox packs; profile_link only in x-web. Equally close
    # packs: the first by id is named.
    path.write_text("id: split\nsteps:\n  - wait_for: account_handle\n  - tap: profile_link\n")
    code, out = run(home)
    assert code == 1
    assert problems(out, path) == [
        f"{path}:4:5: steps[1].tap: flow 'split' fits no selector pack: the closest, "
        "'sandbox-android', lacks profile_link"
    ], out


def test_a_used_flow_is_checked_against_its_workspace_pack_only(home: Home) -> None:
    flow = home.root / "flows/orphan.yaml"
    flow.write_text(ORPHAN.replace("kind: inbox\n", ""))
    ws = home.root / "workspaces/sandbox-acme-web.yaml"
    ws.write_text(ws.read_text().replace("inbox: sandbox-inbox", "inbox: orphan"))
    code, out = run(home)
    assert code == 1
    assert problems(out, flow) == []  # said once, at the workspace's line
    (line,) = problems(out, ws)
    assert "flow 'orphan' uses selectors missing from pack 'sandbox-web'" in line


def test_nothing_is_said_while_a_pack_is_broken(home: Home) -> None:
    (home.root / "flows/orphan.yaml").write_text(ORPHAN)
    broken = home.root / "selectors/broken.yaml"
    broken.write_text("id: broken\nplatform: x\nsurface: fridge\nselectors: {}\n")
    catalog = load_catalog(home)
    assert catalog.problems and {p.path for p in catalog.problems} == {str(broken)}


def test_builtin_flows_fit_builtin_packs(home: Home) -> None:
    code, out = run(home)
    assert code == 0, out
