"""A takeover of an Android workspace holds its device; the workspace page shows how to
reach the phone and its screen now; handing back frees it for sweeps again."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from agent import takeover
from agent.device_leases import device_holders
from agent.review import create_app
from agent.review.auth import add_user, get_user, grant
from sandbox.testing import RunningSandbox
from tests.android.conftest import WS, fresh_home
from tests.review.review_world import PASSWORD, csrf_of, login


def test_a_takeover_holds_the_phone_and_shows_its_screen_until_handed_back(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    rt = fresh_home(tmp_path, sandbox, seed=None)
    with rt.store.session() as s:
        ann = add_user(s, "ann", "reviewer", PASSWORD)
        grant(s, ann, WS)
        add_user(s, "bob", "reviewer", PASSWORD)  # granted nothing
    phone = rt.catalog.device_of(WS)
    assert phone is not None and phone.id == "sandbox-phone"

    app = create_app(rt, secure_cookies=False)
    with TestClient(app) as web, TestClient(app) as other:
        login(web, "ann")
        login(other, "bob")
        assert web.get(f"/workspaces/{WS}/screen.png").status_code == 404  # not taken over
        page = web.get(f"/workspaces/{WS}")
        r = web.post(
            f"/workspaces/{WS}/takeover",
            data={"csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        (holder,) = device_holders(rt.store, phone)
        assert holder.holder.startswith(f"takeover {WS} #")
        page = web.get(f"/workspaces/{WS}")
        assert "sandbox-phone" in page.text and "sandbox-1" in page.text
        assert f"/workspaces/{WS}/screen.png" in page.text
        shot = web.get(f"/workspaces/{WS}/screen.png")
        assert shot.status_code == 200 and shot.headers["content-type"] == "image/png"
        out = tmp_path / "screen.png"
        out.write_bytes(shot.content)
        with Image.open(out) as img:
            assert img.size == (720, 1280)
        assert other.get(f"/workspaces/{WS}/screen.png").status_code == 404  # no grant

        # While held: sweeps leave the workspace alone.
        held = rt.sweeper().sweep(WS)
        assert (held.status, held.stop_reason) == ("stopped", "taken_over")

        with rt.store.session() as s:
            user = get_user(s, "ann")
        assert user is not None
        takeover.hand_back(rt, WS, user)
        assert device_holders(rt.store, phone) == []
        assert web.get(f"/workspaces/{WS}/screen.png").status_code == 404
    events = [e.type for e in rt.log.events(WS)]
    assert "device_held" in events and "device_released" in events
    assert rt.sweeper().sweep(WS).status in ("ok", "drift")
