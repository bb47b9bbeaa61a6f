"""Shared fixtures: a private PostgreSQL cluster for the whole test session, and
``db_url``: an empty database on each backend (SQLite file, fresh PostgreSQL database)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.serving import free_port


def _postgres_bin() -> Path:
    """The newest ``/usr/lib/postgresql/*/bin`` with initdb and pg_ctl."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    for folder in reversed(candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    pytest.fail(
        "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: "
        "install the apt package `postgresql` (make test does this)",
        pytrace=False,
    )


def _as_postgres(*args: str) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return list(args)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh database in a private cluster, stopped after the session.

    The cluster trusts local connections; user ``postgres`` may create more
    databases (tests that need isolation do so from this URL).
    """
    bindir = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="inbox-agent-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, pg.pw_uid, pg.pw_gid)
    port = free_port()
    pg_ctl = str(bindir / "pg_ctl")
    try:
        subprocess.run(
            _as_postgres(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w")
            + ["start"],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        log = root / "log"
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"cannot start PostgreSQL: {exc.stderr.decode()}\n{detail}", pytrace=False)
    try:
        subprocess.run(
            [
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "tests",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/tests"
    finally:
        subprocess.run(
            _as_postgres(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Make empty databases in the session's cluster; dropped after the test."""
    made: list[str] = []
    admin = make_url(postgres_url).set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database's URL: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    make: Callable[[], str] = request.getfixturevalue("fresh_postgres")
    return make()
