"""The review queue page with 10,000 pending items: p50/p95 over 1,000 requests each.

Served in-process (FastAPI's TestClient over the ASGI app, a SQLite store in a
temporary home), signed in as a reviewer granted 4 of 5 workspaces. The baseline,
measured in the same run, is ``GET /api/me``: a trivial authenticated route, so
the difference is what the queue itself costs. Goal: queue p95 < 200 ms.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

N_ITEMS = 10_000
N_REQUESTS = 1_000
WORKSPACES = ["acme-web", "acme-instagram", "globex-web", "initech-app", "umbrella-web"]
INTENTS = ["product_question", "order_issue", "billing_refund", "praise", "complaint"]


def _seed(store, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    from agent.review.auth import add_user, grant
    from agent.store import Decision, Item, utcnow

    now = utcnow()
    with store.session() as s:
        items = [
            Item(
                key=f"bench-{i}", workspace=WORKSPACES[i % 5], platform="sandbox", account="@b",
                thread=f"t{i % 700}", author=f"@user{i}", text=f"message {i} " + "lorem " * 20,
                status="in_review", posted_at=now,
            )
            for i in range(N_ITEMS)
        ]  # fmt: skip
        s.add_all(items)
        s.flush()
        s.add_all(
            Decision(
                item_id=item.id or 0, action="review", intent=rng.choice(INTENTS),
                priority=rng.choice(["P1", "P2", "P3"]), owner="support", sla_minutes=60,
                sla_due_at=now + timedelta(minutes=rng.randint(-600, 6000)),
                why=["rule:x"], draft="Thanks!", draft_source="saved reply",
            )
            for item in items
        )  # fmt: skip
        user = add_user(s, "reviewer", "reviewer", "bench-password-1")
        for ws in WORKSPACES[:4]:
            grant(s, user, ws)


def _timed(client, path: str, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    for _ in range(20):  # warm up
        assert client.get(path).status_code == 200
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    return out


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from fastapi.testclient import TestClient

    from agent.config import Catalog
    from agent.review import create_app
    from agent.runtime import Runtime
    from agent.store import open_store
    from runlogs import ActivityLog
    from workspaces.paths import Home

    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        home = Home(Path(tmp)).ensure()
        store = open_store(home.db_url)
        _seed(store, random.Random(7))
        app = create_app(Runtime(home, Catalog(), store, ActivityLog(home.logs_dir)))
        with TestClient(app, base_url="https://testserver") as client:
            page = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token
            data = {"username": "reviewer", "password": "bench-password-1"}
            client.post("/login", data={**data, "csrf_token": token.group(1)})
            first = client.get("/")
            assert "8,000 items" in first.text, "the reviewer should see 4 of 5 workspaces"
            runs = {
                "baseline GET /api/me": _timed(client, "/api/me", N_REQUESTS),
                "queue page GET /": _timed(client, "/", N_REQUESTS),
                "queue page 80 GET /?page=80": _timed(client, "/?page=80", N_REQUESTS),
                "filtered GET /?intent=order_issue&sla=breached": _timed(
                    client, "/?intent=order_issue&sla=breached", N_REQUESTS
                ),
                "JSON GET /api/items": _timed(client, "/api/items", N_REQUESTS),
            }
        store.close()
    base = statistics.median(runs["baseline GET /api/me"])
    print(f"{N_ITEMS:,} pending items, 8,000 visible to the reviewer; {N_REQUESTS:,} requests each")
    for name, values in runs.items():
        p50, p95 = _p(values, 0.5), _p(values, 0.95)
        print(f"{name:<48} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ({p50 / base:5.1f}x baseline p50)")
    p95 = _p(runs["queue page GET /"], 0.95)
    print(f"queue page p95 {p95:.1f} ms (goal < 200 ms): {'ok' if p95 < 200 else 'MISSED'}")


if __name__ == "__main__":
    main()
