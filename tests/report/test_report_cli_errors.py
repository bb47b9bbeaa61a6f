"""Bad input to ``inbox-agent report`` is one clear line and exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_world import Script

from agent.cli import main


@pytest.fixture(scope="module")
def day_backend() -> str:
    """SQLite only: the checks are of the command's words, not of a backend."""
    return "sqlite"


def _cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-02-30"], "--since '2026-02-30' is not a date (use YYYY-MM-DD)"),
        (["--until", "yesterday"], "--until 'yesterday' is not a date (use YYYY-MM-DD)"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "--since 2026-03-02 is after --until"),
        (
            ["--workspace", "nope"],
            "unknown workspace 'nope' (known: acme-insta, acme-web, globex-web)",
        ),
        (["--client", "Initech"], "unknown client 'Initech' (known: Acme Corp, Globex <Inc>)"),
    ],
)
def test_bad_input_is_one_clear_line(
    day: Script, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    rc, out, err = _cli(capsys, day.runtime.home.root, "report", *args)
    assert rc == 1 and out == ""
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
