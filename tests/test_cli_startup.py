"""The CLI starts fast: importing it, or asking for help, loads none of the heavy packages
(the store, browsers, the web stack, argon2, the triage models), and no password is hashed
at import. Each command imports what it uses when it runs (issue 12).

What a fresh interpreter has loaded is checked in a subprocess; no test here times anything
(``bench/bench_cli.py`` does).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Top-level packages that cost tenths of a second to import, and this project's modules
# that pull them in.
HEAVY = (
    "alembic",
    "apscheduler",
    "appium",
    "argon2",
    "bs4",
    "celery",
    "dateparser",
    "fastapi",
    "httpx",
    "jinja2",
    "lingua",
    "lxml",
    "numpy",
    "PIL",
    "playwright",
    "psycopg",
    "pytesseract",
    "scipy",
    "sklearn",
    "soupsieve",
    "sqlalchemy",
    "sqlmodel",
    "starlette",
    "uiautomator2",
    "uvicorn",
    "agent.config",
    "agent.review",
    "agent.runtime",
    "agent.store",
    "agent.sweep",
    "agent.triage",
    "devices",
    "flows",
    "sandbox.client",
    "sandbox.testing",
)
# Typer itself (0.29) imports pydantic to convert option values, so only a CLI that
# processes no option (imported, or asked for its top-level help) goes without it.
UNTOUCHED = (*HEAVY, "pydantic")
# Never needed to check configuration files.
NOT_FOR_VALIDATE = (
    "alembic",
    "argon2",
    "fastapi",
    "httpx",
    "jinja2",
    "numpy",
    "PIL",
    "playwright",
    "pytesseract",
    "sklearn",
    "sqlalchemy",
    "sqlmodel",
    "starlette",
    "uiautomator2",
    "uvicorn",
    "agent.decide",
    "agent.review",
    "agent.runtime",
    "agent.store",
    "agent.sweep",
    "agent.triage.pipeline",
    "devices.playwright_driver",
    "sandbox.client",
    "sandbox.testing",
)

# Runs main(argv), then prints the names of the loaded modules as the last line.
RUN_CLI = """
import json, sys
from agent.cli import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit:
    pass
sys.stdout.flush()
print("\\n" + json.dumps(sorted(sys.modules)))
"""


def _loaded_by(argv: list[str] | None, cwd: Path) -> tuple[set[str], str]:
    """The modules a fresh interpreter has loaded after importing the CLI (and running
    ``inbox-agent ARGV`` when given), and what it printed."""
    if argv is None:
        code = "import json, sys, agent.cli; print(json.dumps(sorted(sys.modules)))"
        args = [sys.executable, "-c", code]
    else:
        args = [sys.executable, "-c", RUN_CLI, json.dumps(argv)]
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *output, names = done.stdout.rstrip("\n").split("\n")
    return set(json.loads(names)), "\n".join(output)


def _among(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """The packages of ``packages`` that ``modules`` has (or has a submodule of)."""
    return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in modules))


def test_importing_the_cli_loads_no_heavy_package(tmp_path: Path) -> None:
    modules, _ = _loaded_by(None, tmp_path)
    assert "agent.cli" in modules
    assert _among(modules, UNTOUCHED) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["review", "--help"],
        ["users", "add", "--help"],
        ["sandbox", "fault", "--help"],
        ["devices", "--help"],
        ["log", "--help"],
        ["db", "--help"],
        ["sweep", "--help"],
    ],
    ids=" ".join,
)
def test_help_loads_no_heavy_package(argv: list[str], tmp_path: Path) -> None:
    # Building the help evaluates every command's signature: their types stay cheap too.
    modules, output = _loaded_by(argv, tmp_path)
    assert "Usage" in output
    assert _among(modules, UNTOUCHED if argv == ["--help"] else HEAVY) == []


def test_validate_loads_no_browser_web_or_password_code(tmp_path: Path) -> None:
    from agent.scaffold import init_home
    from workspaces.paths import Home

    home = tmp_path / "home"
    init_home(Home.resolve(home))
    modules, output = _loaded_by(["--home", str(home), "validate"], tmp_path)
    assert "ok:" in output
    assert _among(modules, NOT_FOR_VALIDATE) == []


def test_help_texts_name_what_the_commands_accept() -> None:
    """The copies the help texts use (importing the originals would load the store)
    agree with the originals."""
    from agent.commands import review as review_cmd
    from agent.commands import users as users_cmd
    from agent.review.auth import ROLE_RANK
    from agent.review.queries import STATUS_FILTERS

    assert tuple(STATUS_FILTERS) == review_cmd.STATUS_NAMES
    assert tuple(sorted(ROLE_RANK, key=ROLE_RANK.__getitem__)) == users_cmd.ROLE_NAMES


def test_importing_auth_hashes_no_password(tmp_path: Path) -> None:
    code = (
        "import argon2\n"
        "calls = []\n"
        "real = argon2.PasswordHasher.hash\n"
        "def hash(self, password, **kwargs):\n"
        "    calls.append(password)\n"
        "    return real(self, password, **kwargs)\n"
        "argon2.PasswordHasher.hash = hash\n"
        "import agent.review.auth as auth\n"
        "print(len(calls))\n"
        "auth._dummy_hash()\n"
        "print(len(calls))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "1"]  # none at import, one on first use


def test_an_unknown_users_first_sign_in_still_checks_an_argon2_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong name costs what a wrong password costs: one argon2 verify, from the first
    sign-in on, against the dummy hash (computed then, and only once)."""
    from argon2 import PasswordHasher

    from agent.review import auth
    from agent.store import open_store

    verified: list[str] = []
    hashed: list[str] = []
    real_verify, real_hash = PasswordHasher.verify, PasswordHasher.hash

    def verify(self: PasswordHasher, password_hash: str | bytes, password: str | bytes) -> bool:
        verified.append(str(password_hash))
        return real_verify(self, password_hash, password)

    def hash_(self: PasswordHasher, password: str | bytes, **kwargs: object) -> str:
        hashed.append(str(password))
        return real_hash(self, password, **kwargs)  # type: ignore[arg-type]

    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        with store.session() as s:
            auth.add_user(s, "alice", "reviewer", "alice's password")
        monkeypatch.setattr(PasswordHasher, "verify", verify)
        monkeypatch.setattr(PasswordHasher, "hash", hash_)
        auth._dummy_hash.cache_clear()  # as in a process that has signed nobody in yet
        with store.session() as s:
            assert auth.authenticate(s, "mallory", "a guessed password") is None
        assert len(hashed) == 1  # the dummy hash, made on this first use
        dummy = auth._dummy_hash()
        assert dummy.startswith("$argon2id$")
        assert verified == [dummy]

        with store.session() as s:
            assert auth.authenticate(s, "nobody!", "a guessed password") is None  # bad name
            assert auth.authenticate(s, "alice", "a wrong password") is None
            user = auth.authenticate(s, "alice", "alice's password")
        assert user is not None and user.name == "alice"
        assert len(hashed) == 1  # made once
        assert len(verified) == 4  # one argon2 verify per sign-in, whoever it names
        assert verified[1] == dummy and verified[2] != dummy
