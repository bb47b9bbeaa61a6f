"""``webhooks.yaml``: every problem at its file, line and field; no secret is ever taken from
(or repeated out of) the file; a secret missing from the environment is a clear error."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agent.cli import app, main
from agent.runtime import Runtime
from agent.store.models import WebhookEventType
from agent.webhooks.config import load_webhooks_config, webhooks_config
from tests.webhooks.conftest import SECRET, SECRET_ENV, Receiver, write_webhooks
from workspaces.errors import ConfigError

runner = CliRunner()

GOOD = f"""\
sla_warning_minutes: 20
webhooks:
  - name: ops
    kind: json
    url: https://ops.example.com/hooks/inbox
    secret_env: {SECRET_ENV}
    events: [item.p1, sla.breached]
    workspaces: [sandbox-acme-web]
  - name: support-slack
    kind: slack
    url_env: TEST_SLACK_URL
    clients: [Acme Corp]
"""


def problems_of(rt: Runtime, text: str) -> list[str]:
    write_webhooks(rt.home, text)
    with pytest.raises(ConfigError) as exc:
        webhooks_config(rt.home.root, rt.catalog)
    return [str(p) for p in exc.value.problems]


def test_a_good_file_loads_with_defaults(rt: Runtime) -> None:
    write_webhooks(rt.home, GOOD)
    config = webhooks_config(rt.home.root, rt.catalog)
    ops, slack = config.webhooks
    assert ops.events == [WebhookEventType.ITEM_P1, WebhookEventType.SLA_BREACHED]
    assert slack.events == list(WebhookEventType)  # default: every event
    assert config.sla_warning_minutes == 20 and config.retry.max_attempts == 10
    assert ops.wants("item.p1", "sandbox-acme-web", "Acme Corp")
    assert not ops.wants("item.p1", "sandbox-globex-web", "Globex")
    assert not ops.wants("reply.sent", "sandbox-acme-web", "Acme Corp")
    assert slack.wants("reply.sent", "sandbox-acme-web", "Acme Corp")
    assert not slack.wants("reply.sent", "sandbox-globex-web", "Globex Inc")


def test_no_file_means_no_webhooks(rt: Runtime) -> None:
    config, doc, problems = load_webhooks_config(rt.home.root)
    assert config.webhooks == [] and doc is None and problems == []


def test_problems_name_file_line_and_field(rt: Runtime) -> None:
    text = """\
webhooks:
  - name: ops
    kind: json
    url: ftp://ops.example.com/x
    secret_env: OPS_SECRET
    events: [item.p1, item.p9]
  - name: ops
    kind: teams
    url: https://a.example.com/
  - name: scoped
    kind: slack
    url: https://b.example.com/
    workspaces: [sandbox-acme-web, nowhere]
    clients: [Nobody Ltd]
"""
    path = rt.home.root / "webhooks.yaml"
    found = problems_of(rt, text)
    assert f"{path}:4:5: webhooks[0].url: expected an http:// or https:// URL" in found
    assert any(p.startswith(f"{path}:6:23: webhooks[0].events[1]: ") for p in found)
    assert any(p.startswith(f"{path}:8:5: webhooks[1].kind: ") for p in found)
    assert f"{path}:7:5: webhooks[1].name: duplicate webhook name 'ops' (also webhooks[0])" in (
        found
    )
    # references are checked once the file itself is right
    scoped = text.split("  - name: ops\n    kind: teams\n    url: https://a.example.com/\n")
    fixed = scoped[0].replace("ftp://", "https://").replace(", item.p9", "") + scoped[1]
    found = problems_of(rt, fixed)
    assert f"{path}:10:36: webhooks[1].workspaces[1]: no workspace 'nowhere'" in found
    assert any(
        p.startswith(f"{path}:11:15: webhooks[1].clients[0]: no workspace has client 'Nobody Ltd'")
        for p in found
    )


def test_a_json_webhook_needs_its_secret_variable_and_one_url(rt: Runtime) -> None:
    text = "webhooks:\n  - name: ops\n    kind: json\n    url: https://a.example.com/\n"
    [problem] = problems_of(rt, text)
    assert problem.startswith(f"{rt.home.root / 'webhooks.yaml'}:2:5: webhooks[0]: ")
    assert "secret_env" in problem
    text = "webhooks:\n  - name: s\n    kind: slack\n"
    assert "exactly one of url and url_env" in problems_of(rt, text)[0]


@pytest.mark.parametrize(
    ("line", "field", "said"),
    [
        (f"    secret: {SECRET}", "webhooks[0].secret", "never goes in this file"),
        (f"    secret_env: {SECRET}", "webhooks[0].secret_env", "not the value itself"),
        (f"    headers: {{x-auth: {SECRET}}}", "webhooks[0].headers.x-auth", "signing secret"),
        ("    token: abcdefabcdef0123456789", "webhooks[0].token", "never goes in this file"),
    ],
)
def test_a_secret_in_the_file_is_refused_at_its_line_without_repeating_it(
    rt: Runtime, line: str, field: str, said: str
) -> None:
    text = (
        "webhooks:\n  - name: ops\n    kind: json\n    url: https://a.example.com/\n"
        f"    secret_env: {SECRET_ENV}\n{line}\n"
    ).replace(f"    secret_env: {SECRET_ENV}\n    secret_env", "    secret_env")
    found = problems_of(rt, text)
    mine = [p for p in found if f": {field}: " in p]
    assert len(mine) == 1 and said in mine[0], found  # said once, the clear way
    assert all(SECRET not in p and "abcdefabcdef" not in p for p in found)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX", "its path is"),
        ("https://bot:hunter22@ops.example.com/hook", "user:password@"),
        ("https://ops.example.com/hook?access_token=abc123", "access_token="),
    ],
)
def test_a_url_that_holds_a_credential_must_come_from_the_environment(
    rt: Runtime, url: str, why: str
) -> None:
    text = f"webhooks:\n  - name: s\n    kind: slack\n    url: {url}\n"
    [problem] = problems_of(rt, text)
    assert "webhooks.yaml:4:5: webhooks[0].url: this URL holds a credential (" in problem
    assert why in problem.split("(", 1)[1]
    assert "url_env" in problem
    assert "XXXXXXXXXXXXXXXX" not in problem and "hunter22" not in problem


def test_webhooks_test_names_the_missing_secret_variable(
    rt: Runtime,
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_webhooks(
        rt.home,
        f"webhooks:\n  - name: ops\n    kind: json\n    url: {receiver.url}\n"
        f"    secret_env: {SECRET_ENV}\n",
    )
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["--home", str(rt.home.root), "webhooks", "test", "ops"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert f"webhook ops: the environment variable {SECRET_ENV} is not set" in " ".join(err.split())
    assert receiver.received == []  # nothing was sent unsigned

    monkeypatch.setenv(SECRET_ENV, SECRET)
    result = runner.invoke(app, ["--home", str(rt.home.root), "webhooks", "test", "ops", "--json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["ok"] and outcome["status"] == 200
    [got] = receiver.received
    assert got.verified == "ok" and got.json()["type"] == "webhook.test"
    assert got.headers["webhook-id"] == outcome["event_id"]
    assert SECRET not in result.output


def test_webhooks_list_shows_hosts_and_whether_the_environment_is_set(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_webhooks(rt.home, GOOD)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.delenv("TEST_SLACK_URL", raising=False)
    result = runner.invoke(app, ["--home", str(rt.home.root), "webhooks", "list", "--json"])
    assert result.exit_code == 0, result.output
    ops, slack = map(json.loads, result.output.splitlines())
    assert ops["url"] == "https://ops.example.com/…"  # the host only, never the path
    assert ops["env"] == {SECRET_ENV: True} and slack["env"] == {"TEST_SLACK_URL": False}
    assert slack["url"] == "$TEST_SLACK_URL" and slack["clients"] == ["Acme Corp"]
    assert SECRET not in result.output
    table = runner.invoke(app, ["--home", str(rt.home.root), "webhooks", "list"])
    assert table.exit_code == 0 and "NOT SET" in table.output


def test_validate_checks_webhooks_yaml_with_the_rest_of_the_home(rt: Runtime) -> None:
    home = ["--home", str(rt.home.root)]
    write_webhooks(rt.home, GOOD)
    ok = runner.invoke(app, [*home, "validate"])
    assert ok.exit_code == 0, ok.output
    assert "1 webhooks" in ok.output  # counted among the files checked
    path = rt.home.root / "webhooks.yaml"
    write_webhooks(
        rt.home,
        GOOD.replace("workspaces: [sandbox-acme-web]", "workspaces: [no-such-ws]").replace(
            "kind: slack", "kind: teams"
        ),
    )
    bad = runner.invoke(app, [*home, "validate"])
    assert bad.exit_code == 1
    said = " ".join(bad.output.split())
    assert "webhooks[1].kind" in said and f"{path}:" in said
    # a reference is checked once the fields are good, at its own line
    write_webhooks(rt.home, GOOD.replace("workspaces: [sandbox-acme-web]", "workspaces: [nope]"))
    bad = runner.invoke(app, [*home, "validate", "--json"])
    assert bad.exit_code == 1
    [problem] = [json.loads(line) for line in bad.output.splitlines() if '"problem"' in line]
    assert (problem["path"], problem["line"], problem["field"]) == (
        str(path),
        8,
        "webhooks[0].workspaces[0]",
    )
    assert problem["message"] == "no workspace 'nope'"
    # the file alone, by its path
    alone = runner.invoke(app, [*home, "validate", str(path)])
    assert alone.exit_code == 1 and "no workspace 'nope'" in alone.output
