"""The review queue and its search with 100,000 items, on SQLite and on PostgreSQL.

Served in-process (FastAPI's TestClient over the ASGI app, a store in a temporary home:
a SQLite file, then a database in a private PostgreSQL cluster this bench starts with
initdb/pg_ctl, as the tests do), signed in as a reviewer granted 4 of 5 workspaces
(80,000 items visible). The baseline, measured in the same run on the same backend, is
``GET /api/me``: a trivial authenticated route, so the difference is what the queue
itself costs. Goal: the queue page and a search p95 < 200 ms on both backends. Beside
the wall-clock times, each line gives this process's CPU time per request: on a busy
machine (the load average is printed) the wall clock measures the machine too.

``BENCH_REVIEW_BACKENDS=sqlite`` (or ``postgres``) runs one backend only;
``BENCH_REVIEW_REQUESTS`` sets the requests per case (default 300).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from glob import glob
from pathlib import Path
from typing import Any

N_ITEMS = 100_000
N_VISIBLE = 80_000
N_REQUESTS = int(os.environ.get("BENCH_REVIEW_REQUESTS", "300"))
WORKSPACES = ["acme-web", "acme-instagram", "globex-web", "initech-app", "umbrella-web"]
INTENTS = ["product_question", "order_issue", "billing_refund", "praise", "complaint"]
# 2,000 made-up words: each item's text draws 12, so one word is in about 600 items.
SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "do"]
WORDS = sorted({a + b + c + d for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES
                for d in SYLLABLES[:2]})  # fmt: skip
CASES = [
    ("queue page GET /", "/"),
    ("queue page 80 GET /?page=80", "/?page=80"),
    ("filtered GET /?intent=order_issue&sla=breached", "/?intent=order_issue&sla=breached"),
    ("JSON GET /api/items", "/api/items"),
    ("search GET /?q=kalomika", "/?q=kalomika"),
    ("search 2 words GET /?q=kalomika+su", "/?q=kalomika+su"),
    ("search broad GET /?q=ka (72% of items)", "/?q=ka"),
    ("search JSON GET /api/items?q=@user1230", "/api/items?q=%40user1230"),
    ("search+filters GET /?q=ri&priority=P1&page_size=200", "/?q=ri&priority=P1&page_size=200"),
    ("mine GET /?mine=1", "/?mine=1"),
]
GOALS = ("queue page GET /", "search GET /?q=kalomika")


def _seed(store: Any, rng: random.Random) -> None:
    import sqlalchemy as sa

    from agent.review.auth import add_user, grant
    from agent.store import Decision, Item, utcnow

    now = utcnow()
    items = [
        {
            "key": f"bench-{i}", "workspace": WORKSPACES[i % 5], "platform": "sandbox",
            "account": "@b", "thread": f"t{i % 700}", "kind": "comment", "author": f"@user{i}",
            "text": f"message {i} " + " ".join(rng.choices(WORDS, k=12)),
            "status": "in_review", "posted_at": now, "seen_at": now - timedelta(seconds=i),
            "truncated": False, "evidence_capped": False,
        }
        for i in range(N_ITEMS)
    ]  # fmt: skip
    decisions = [
        {
            "item_id": i + 1, "action": "review", "intent": rng.choice(INTENTS),
            "priority": rng.choice(["P1", "P2", "P3"]),
            "owner": "reviewer" if i % 100 == 0 else "support", "sla_minutes": 60,
            "sla_due_at": now + timedelta(minutes=rng.randint(-600, 6000)),
            "pause_reasons": [], "why": ["rule:x"], "draft": "Thanks!",
            "draft_source": "saved reply", "created_at": now,
        }
        for i in range(N_ITEMS)
    ]  # fmt: skip
    with store.engine.begin() as conn:
        for start in range(0, N_ITEMS, 5_000):
            conn.execute(sa.insert(Item.__table__), items[start : start + 5_000])  # type: ignore[attr-defined]
            conn.execute(sa.insert(Decision.__table__), decisions[start : start + 5_000])  # type: ignore[attr-defined]
        if store.dialect == "sqlite":
            conn.execute(sa.text("INSERT INTO items_fts(items_fts) VALUES ('optimize')"))
    # What a store that has lived with its rows has had done: statistics, and (PostgreSQL's
    # autovacuum) a visibility map; SQLite's WAL folded back after the one bulk write.
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if store.dialect == "postgresql":
            conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            conn.execute(sa.text("ANALYZE"))
            conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    with store.session() as s:
        user = add_user(s, "reviewer", "reviewer", "bench-password-1")
        for ws in WORKSPACES[:4]:
            grant(s, user, ws)


def _timed(client: Any, path: str, n: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU milliseconds of ``n`` requests.

    The CPU time is the app's own cost however busy the machine is (with SQLite, all
    of a request's work is in this process; PostgreSQL's is in its server's).
    """
    for _ in range(10):  # warm up
        assert client.get(path).status_code == 200
    wall, cpu = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        r = client.get(path)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert r.status_code == 200
    return wall, cpu


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _as_postgres(*args: str) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@contextlib.contextmanager
def _postgres() -> Iterator[str | None]:
    """A database in a private cluster (None when the server binaries are not installed)."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        yield None
        return
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="bench-review-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, pg.pw_uid, pg.pw_gid)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    pg_ctl = str(bindir / "pg_ctl")
    try:
        subprocess.run(
            _as_postgres(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*_as_postgres(pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log")), "-w"]
            + ["start"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
            + ["bench"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(
            _as_postgres(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


Runs = dict[str, tuple[list[float], list[float]]]


def _run(backend: str, db_url: str | None, home_dir: Path) -> Runs:
    from fastapi.testclient import TestClient

    from agent.config import Catalog
    from agent.review import create_app
    from agent.runtime import Runtime
    from agent.store import open_store
    from runlogs import ActivityLog
    from workspaces.paths import Home

    home = Home(home_dir).ensure()
    t0 = time.perf_counter()
    store = open_store(db_url or home.db_url)
    _seed(store, random.Random(7))
    print(f"{backend}: seeded {N_ITEMS:,} items in {time.perf_counter() - t0:.0f} s", flush=True)
    app = create_app(Runtime(home, Catalog(), store, ActivityLog(home.logs_dir)))
    try:
        with TestClient(app, base_url="https://testserver") as client:
            page = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token
            data = {"username": "reviewer", "password": "bench-password-1"}
            client.post("/login", data={**data, "csrf_token": token.group(1)})
            first = client.get("/")
            assert f"{N_VISIBLE:,} items" in first.text, "the reviewer should see 4 of 5 workspaces"
            found = client.get("/api/items?q=%40user1230&page_size=25").json()
            authors = {i["author"] for i in found["items"]}  # 1230 and 1230x (not x4, x9)
            assert found["total"] == 9 and "@user1230" in authors, authors
            runs = {"baseline GET /api/me": _timed(client, "/api/me", N_REQUESTS)}
            for name, path in CASES:
                runs[name] = _timed(client, path, N_REQUESTS)
    finally:
        store.close()
    return runs


def _report(backend: str, runs: Runs) -> bool:
    base = statistics.median(runs["baseline GET /api/me"][0])
    print(
        f"{backend}: {N_ITEMS:,} pending items, {N_VISIBLE:,} visible to the reviewer;"
        f" {N_REQUESTS:,} requests each; load average {os.getloadavg()[0]:.1f}"
        f" on {os.cpu_count()} CPUs"
    )
    for name, (wall, cpu) in runs.items():
        p50, p95 = _p(wall, 0.5), _p(wall, 0.95)
        print(
            f"{name:<54} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ({p50 / base:5.1f}x baseline p50)"
            f"  cpu p50 {_p(cpu, 0.5):6.2f} p95 {_p(cpu, 0.95):6.2f} ms"
        )
    ok = True
    for name in GOALS:
        p95 = _p(runs[name][0], 0.95)
        ok = ok and p95 < 200
        verdict = "ok" if p95 < 200 else "MISSED"
        print(f"{backend} {name} p95 {p95:.1f} ms (goal < 200 ms): {verdict}")
    return ok


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    backends = os.environ.get("BENCH_REVIEW_BACKENDS", "sqlite,postgres").split(",")
    results = {}
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
            if backend == "sqlite":
                results[backend] = _report(backend, _run(backend, None, Path(tmp)))
                continue
            with _postgres() as url:
                if url is None:
                    print("postgres: skipped (no server binaries in /usr/lib/postgresql)")
                    continue
                results[backend] = _report(backend, _run(backend, url, Path(tmp)))
    print("all goals met" if all(results.values()) else "some goals MISSED")


if __name__ == "__main__":
    main()
