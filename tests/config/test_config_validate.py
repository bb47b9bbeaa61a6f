"""`inbox-agent validate`: every malformed input is reported at FILE:LINE of the problem."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import load_catalog
from tests.config.conftest import run
from workspaces.paths import Home

EXAMPLE = "workspaces/sandbox-acme-web.yaml"


def test_example_home_is_valid(home: Home) -> None:
    code, out = run(home, "validate")
    assert code == 0, out
    assert "ok: 6 files checked (2 devices, 4 workspaces)" in out


def _line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in file")


# (name, file under the home, edit(text) -> text, line marker in the edited file, field, message)
CASES = [
    (
        "unknown top-level key",
        EXAMPLE,
        lambda t: t + "colour: blue\n",
        "colour:",
        "colour",
        "unknown key",
    ),
    (
        "unknown nested key",
        EXAMPLE,
        lambda t: t.replace("  locale: en-US", "  locale: en-US\n  lokale: x"),
        "lokale:",
        "environment.lokale",
        "unknown key",
    ),
    (
        "wrong type",
        EXAMPLE,
        lambda t: t.replace("every_minutes: 15", "every_minutes: soon"),
        "every_minutes:",
        "schedule.every_minutes",
        "valid number",
    ),
    (
        "out of range",
        EXAMPLE,
        lambda t: t.replace("every_minutes: 15", "every_minutes: 0"),
        "every_minutes:",
        "schedule.every_minutes",
        "greater than or equal",
    ),
    (
        "bad enum",
        EXAMPLE,
        lambda t: t.replace("surface: web", "surface: fridge"),
        "surface:",
        "surface",
        "Input should be",
    ),
    (
        "bad platform id",
        EXAMPLE,
        lambda t: t.replace("platform: sandbox", "platform: My Space!"),
        "platform:",
        "platform",
        "pattern",
    ),
    (
        "reply flow without handles",
        "flows/custom.yaml",
        lambda t: (
            "# a reply flow\nid: custom\nkind: reply\nsteps:\n"
            "  - send_reply: {composer: a, send: b, own_replies: c}\n"
        ),
        "id: custom",
        "handles",
        "a reply flow names the item kinds it answers: handles: [dm, comment]",
    ),
    (
        "handles on an inbox flow",
        "flows/custom.yaml",
        lambda t: "id: custom\nhandles: [dm]\nsteps:\n  - tap: x\n",
        "handles:",
        "handles",
        "only a reply flow has handles (this one is kind: inbox)",
    ),
    (
        "unknown item kind in handles",
        "flows/custom.yaml",
        lambda t: (
            "id: custom\nkind: reply\nhandles:\n  - dm\n  - tweet\nsteps:\n"
            "  - send_reply: {composer: a, send: b, own_replies: c}\n"
        ),
        "- tweet",
        "handles[1]",
        "Input should be 'comment' or 'dm'",
    ),
    (
        "bad id pattern",
        EXAMPLE,
        lambda t: t.replace("id: sandbox-acme-web", "id: Acme Web!"),
        "id: Acme",
        "id",
        "pattern",
    ),
    (
        "missing required field",
        EXAMPLE,
        lambda t: t.replace("client: Acme Corp\n", ""),
        "id: sandbox-acme-web",
        "client",
        "required field is missing",
    ),
    (
        "unknown environment kind",
        EXAMPLE,
        lambda t: t.replace("kind: browser_profile", "kind: smart_fridge"),
        "kind: smart",
        "environment.kind",
        "does not match any of the expected tags",
    ),
    (
        "bad time zone",
        EXAMPLE,
        lambda t: t.replace("Europe/Berlin", "Mars/Olympus"),
        "timezone:",
        "timezone",
        "unknown time zone",
    ),
    (
        "credential in proxy url",
        EXAMPLE,
        lambda t: t.replace(
            "  locale: en-US", '  locale: en-US\n  proxy: {server: "http://bob:pw@proxy:3128"}'
        ),
        "proxy:",
        "environment.proxy.server",
        "pattern",
    ),
    (
        "dangling flow",
        EXAMPLE,
        lambda t: t.replace("inbox: sandbox-inbox", "inbox: no-such-flow"),
        "inbox: no-such",
        "flows.inbox",
        "no flow with id 'no-such-flow'",
    ),
    (
        "dangling selector pack",
        EXAMPLE,
        lambda t: t.replace("selectors: sandbox-web", "selectors: nope"),
        "selectors: nope",
        "selectors",
        "no selector pack",
    ),
    (
        "dangling device",
        EXAMPLE,
        lambda t: t.replace("surface: web", "surface: android").replace(
            "  kind: browser_profile",
            "  kind: android_device\n  device: ghost\n  app_package: com.x.y\n"
            "  expected_account: '@a'\nold_env:\n  kind: browser_profile",
        ),
        "old_env:",
        "old_env",
        "unknown key",
    ),
    (
        "surface mismatch",
        EXAMPLE,
        lambda t: t.replace("surface: web", "surface: android"),
        "id: sandbox-acme-web",
        "(top)",
        "surface 'android' needs environment kind",
    ),
    (
        "reply flow used as inbox",
        EXAMPLE,
        lambda t: t.replace("inbox: sandbox-inbox", "inbox: sandbox-reply"),
        "inbox: sandbox-reply",
        "flows.inbox",
        "is a reply flow",
    ),
    (
        "missing knowledge file",
        EXAMPLE,
        lambda t: t.replace("knowledge/sandbox-replies.yaml", "knowledge/gone.yaml"),
        "knowledge:",
        "reply_policy.knowledge",
        "not found",
    ),
    (
        "misspelt key in a knowledge file",
        "knowledge/sandbox-replies.yaml",
        lambda t: t.replace("    text:", "    txet:", 1),
        "txet:",
        "saved_replies[0].txet",
        "unknown key",
    ),
    (
        "wrong type in a knowledge file",
        "knowledge/sandbox-replies.yaml",
        lambda t: t.replace("    private: true", "    private: maybe", 1),
        "    private: maybe",
        "saved_replies[2].private",
        "boolean",
    ),
    (
        "unknown approved intent",
        EXAMPLE,
        lambda t: t.replace(
            "approved_intents: [product_question,", "approved_intents: [producte_question,"
        ),
        "approved_intents:",
        "reply_policy.approved_intents[0]",
        "unknown intent 'producte_question'",
    ),
    (
        "duplicate key",
        EXAMPLE,
        lambda t: t + "client: Again\n",
        "client: Again",
        "client",
        "duplicate key",
    ),
    (
        "yaml syntax error",
        EXAMPLE,
        lambda t: t.replace("locale: en-US", "locale: [en-US"),
        "viewport:",
        "",
        "YAML syntax error",
    ),
    (
        "bad indentation",
        EXAMPLE,
        lambda t: t.replace("  locale: en-US", "   locale: en-US"),
        "locale:",
        "",
        "YAML syntax error",
    ),
    (
        "not a mapping",
        EXAMPLE,
        lambda t: "- just\n- a list\n",
        "- just",
        "(top)",
        "expected a mapping",
    ),
    (
        "python tag refused",
        EXAMPLE,
        lambda t: t.replace("client: Acme Corp", "client: !!python/object/apply:os.system [ls]"),
        "client:",
        "client",
        "unsupported YAML tag",
    ),
    ("empty file", EXAMPLE, lambda t: "", None, "", "file is empty"),
    ("invalid utf-8", EXAMPLE, None, None, "", "not valid UTF-8"),
    (
        "unknown step",
        "flows/custom.yaml",
        lambda t: "id: custom\nsteps:\n  - open: x\n  - jump: y\n",
        "- jump",
        "steps[1]",
        "each step names exactly one of",
    ),
    (
        "unknown step option",
        "flows/custom.yaml",
        lambda t: "id: custom\nsteps:\n  - tap: x\n    retires: 2\n",
        "retires",
        "steps[0].retires",
        "unknown key",
    ),
    (
        "selector with two kinds",
        "selectors/custom.yaml",
        lambda t: (
            "id: custom\nplatform: x\nsurface: web\nselectors:\n  a:\n    - css: a\n      xpath: //a\n"
        ),
        "- css: a",
        "selectors.a[0]",
        "exactly one of",
    ),
    (
        "android locator on web",
        "selectors/custom.yaml",
        lambda t: (
            "id: custom\nplatform: x\nsurface: web\nselectors:\n  a:\n    - resource_id: com.x:id/a\n"
        ),
        "id: custom",
        "(top)",
        "does not work on surface",
    ),
    (
        "appium device without url",
        "devices/phone.yaml",
        lambda t: "id: phone\ndriver: appium\n",
        "id: phone",
        "(top)",
        "needs appium_url",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_is_reported_at_its_line(home: Home, case: tuple) -> None:  # type: ignore[type-arg]
    name, rel, edit, marker, field, message = case
    path = home.root / rel
    if edit is None:
        path.write_bytes(path.read_bytes().replace(b"Acme Corp", b"Acme \xff Corp"))
        text = path.read_bytes().decode("latin-1")
        marker = "Acme \xff"
    else:
        original = path.read_text() if path.exists() else ""
        text = edit(original)
        path.write_text(text)
    code, out = run(home, "validate")
    assert code == 1, out
    expected_line = _line_of(text, marker) if marker else 1
    pattern = (
        re.escape(f"{path}:{expected_line}:")
        + r"\d+: "
        + (re.escape(field) + ": " if field else "")
    )
    lines = [ln for ln in out.splitlines() if re.match(pattern, ln)]
    assert lines, f"no problem at {path}:{expected_line} for {field!r} in:\n{out}"
    assert any(message in ln for ln in lines), out
    assert "Traceback" not in out


def test_a_workspace_triage_file_is_checked_at_its_lines(home: Home) -> None:
    ws = home.root / EXAMPLE
    ws.write_text(
        ws.read_text().replace("id: sandbox-acme-web", "id: sandbox-acme-web\ntriage: t.yaml")
    )
    triage = home.root / "t.yaml"
    triage.write_text(
        "thresholds:\n  intent_review: 0.6\n  spam_drop: 2\nstages: [normalize, vibes]\n"
    )
    code, out = run(home, "validate")
    assert code == 1
    assert f"{triage}:3:3: thresholds.spam_drop: Input should be less than or equal to 1" in out
    triage.write_text("thresholds:\n  intent_review: 0.6\nstages: [normalize, vibes]\n")
    code, out = run(home, "validate")
    assert code == 1 and f"{triage}:3:" in out and "stages[1]: unknown stage 'vibes'" in out
    triage.write_text("thresholds: {intent_review: 0.6, spam_drop: 0.95}\n")
    code, out = run(home, "validate")
    assert code == 0, out


def test_a_knowledge_file_shared_by_workspaces_is_reported_once(home: Home) -> None:
    path = home.root / "knowledge/sandbox-replies.yaml"
    path.write_text(path.read_text().replace("    text:", "    txet:", 1))
    code, out = run(home, "validate")
    assert code == 1 and out.count("saved_replies[0].txet: unknown key") == 1


def test_every_problem_is_listed_not_just_the_first(home: Home) -> None:
    for ws in ("acme", "globex"):
        p = home.root / f"workspaces/sandbox-{ws}-web.yaml"
        p.write_text(p.read_text() + "oops: 1\n")
    code, out = run(home, "validate")
    assert code == 1
    assert out.count("unknown key") == 2
    assert "2 problems" in out


def test_explicit_paths_are_checked_against_the_home(home: Home, tmp_path: Path) -> None:
    outside = tmp_path / "new-workspace.yaml"
    text = (home.root / EXAMPLE).read_text().replace("sandbox-acme-web", "new-one")
    outside.write_text(text.replace("inbox: sandbox-inbox", "inbox: missing-flow"))
    code, out = run(home, "validate", str(outside))
    assert code == 1
    assert f"{outside}:{_line_of(outside.read_text(), 'inbox: missing')}" in out
    outside.write_text(text)
    code, out = run(home, "validate", str(outside))
    assert code == 0, out
    assert "1 files checked (1 workspaces)" in out


def test_duplicate_workspace_id_is_an_error(home: Home) -> None:
    shutil.copy(home.root / EXAMPLE, home.root / "workspaces/copy.yaml")
    code, out = run(home, "validate")
    assert code == 1
    assert "duplicate id 'sandbox-acme-web'" in out


def test_json_output_lists_problems(home: Home) -> None:
    p = home.root / EXAMPLE
    p.write_text(p.read_text() + "oops: 1\n")
    code, out = run(home, "validate", "--json")
    assert code == 1
    assert '"field": "oops"' in out and '"line": ' in out


def test_console_script_prints_one_line_and_no_traceback(home: Home) -> None:
    p = home.root / EXAMPLE
    p.write_text("id: [unclosed\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from agent.cli import main; main()",
            "--home",
            str(home.root),
            "workspaces",
            "list",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{p}:2:1: YAML syntax error" in proc.stderr


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_garbage_never_raises(tmp_path_factory: pytest.TempPathFactory, blob: str | bytes) -> None:
    home = Home(tmp_path_factory.mktemp("garbage"))
    for kind in ("workspaces", "flows", "selectors", "devices"):
        folder = home.config_dir(kind)
        folder.mkdir(parents=True)
        target = folder / "x.yaml"
        if isinstance(blob, bytes):
            target.write_bytes(blob)
        else:
            target.write_text(
                blob, encoding="utf-8", errors="surrogatepass"
            ) if False else target.write_bytes(blob.encode("utf-8", "surrogatepass"))
    catalog = load_catalog(home)  # must not raise
    for problem in catalog.problems:
        assert problem.line >= 1 and problem.path.endswith("x.yaml")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(["id", "steps", "tap", "kind", "environment", "x"]),
                children,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_structured_garbage_gets_positions(
    tmp_path_factory: pytest.TempPathFactory, data: object
) -> None:
    import yaml

    home = Home(tmp_path_factory.mktemp("structured"))
    for kind in ("workspaces", "flows", "selectors", "devices"):
        folder = home.config_dir(kind)
        folder.mkdir(parents=True)
        (folder / "x.yaml").write_text(yaml.safe_dump(data))
    catalog = load_catalog(home)
    assert all(p.line >= 1 for p in catalog.problems)


def test_scheduler_settings_and_schedules_are_checked_at_their_lines(home: Home) -> None:
    settings_file = home.root / "scheduler.yaml"
    settings_file.write_text(
        "tick_seconds: 10\ncaps:\n  host: 0\n  device_pools: {no-such-label: 1}\nspacing: 3\n"
    )
    ws = home.root / EXAMPLE
    ws.write_text(ws.read_text().replace("every_minutes: 15", 'cron: "every tuesday"'))
    code, out = run(home, "validate")
    assert code == 1
    assert (
        f"{settings_file}:3:" in out
        and "caps.host: Input should be greater than or equal to 1" in out
    )
    assert f"{settings_file}:5:1: spacing: unknown key" in out
    assert re.search(re.escape(f"{ws}:") + r"\d+:\d+: schedule: cron 'every tuesday'", out), out
    settings_file.write_text("caps: {host: 2, device_pools: {no-such-label: 1}}\n")
    ws.write_text(ws.read_text().replace('cron: "every tuesday"', 'cron: "*/10 8-20 * * mon-fri"'))
    code, out = run(home, "validate")
    assert code == 1
    assert f"{settings_file}:1:" in out and "no device has the label 'no-such-label'" in out
    settings_file.write_text(
        "caps: {host: 2, device_pools: {sandbox: 1}}\nmin_spacing_minutes: {sandbox: 2}\n"
    )
    code, out = run(home, "validate")
    assert code == 0, out
