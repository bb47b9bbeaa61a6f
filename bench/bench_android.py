"""Android benchmarks, each a ratio measured in this run.

(a) OCR: tesseract on one item's crop and on a whole 720x1280 screen of the sandbox
    phone, against the time it takes to capture that screen (the baseline).
(b) Sweeps of N new items (N = 10, 100: one DM conversation and one post's comments)
    on the sandbox phone (sandbox-acme-android) against the same N items swept in
    Chromium on the web sandbox (sandbox-acme-web).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.bench_sweep import new_runtime, sandbox, show, signed_in_template, timed
from devices.android.sandbox_backend import SandboxDeviceBackend
from devices.ocr import TesseractOcr
from sandbox.client import SandboxClient

PHONE = "sandbox-acme-android"
WEB = "sandbox-acme-web"
SERIAL = "sandbox-1"
SIZES = (10, 100)


def fill(client: SandboxClient, n: int) -> None:
    """N new items: half of them DMs in one conversation, half comments on one post, each
    text its own (an app without ids on screen knows a message by author, text and the
    minute shown: one customer's identical texts in one minute are one message to it)."""
    client.reset()
    post = client.add_post("acme", "Bench post")["id"]
    for i in range(n // 2):
        client.post_message("acme", "comment", f"fan{i % 7}", f"comment {i}: love it", thread=post)
    first = client.post_message("acme", "dm", "bench.dm", "first question")
    for i in range(n // 2 - 1):
        client.post_message(
            "acme", "dm", "bench.dm", f"question {i}: where is it?", thread=first["container_id"]
        )


def bench_ocr(url: str, client: SandboxClient) -> list[str]:
    rows: list[str] = []
    client.reset()
    first = client.post_message("acme", "dm", "bench.dm", "first")
    client.bulk("acme", "dm", 40, seed=3, thread=first["container_id"])
    client.add_device(SERIAL)
    backend = SandboxDeviceBackend(url, SERIAL)
    backend.app_start("com.sandbox.social")
    for name, value in (("login_username", "acme"), ("login_password", "sandbox")):
        _tap_id(backend, name)
        backend.type_text(value)
    _tap_id(backend, "login_button")
    backend.open_url(f"sandbox://inbox/{first['container_id']}")
    crops = [r for r in client.ocr_rows(SERIAL) if not r["clipped"] and not r["covered"]]
    shots = 5
    capture_s, png = timed(lambda: [backend.screenshot() for _ in range(shots)][-1])
    capture_s /= shots
    ocr = TesseractOcr()
    boxes = [_xywh(r["bounds"]) for r in crops] or [(48.0, 400.0, 600.0, 40.0)]
    crop_s, _ = timed(lambda: [ocr.read(png, b) for b in boxes])
    crop_s /= len(boxes)
    screen_s, _ = timed(ocr.read, png, (0.0, 0.0, 720.0, 1280.0))
    show(rows, f"(a) OCR one item crop {crop_s * 1000:6.0f} ms ({len(boxes)} crops)  "
               f"whole screen {screen_s * 1000:6.0f} ms  capture a screen "
               f"{capture_s * 1000:5.0f} ms  ratio crop/capture {crop_s / capture_s:5.1f}x  "
               f"screen/crop {screen_s / crop_s:5.1f}x")  # fmt: skip
    backend.close()
    return rows


def _xywh(bounds: list[int]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = bounds
    return float(x1), float(y1), float(x2 - x1), float(y2 - y1)


def _tap_id(backend: SandboxDeviceBackend, name: str) -> None:
    import re

    xml = backend.dump()
    found = re.search(rf'resource-id="com\.sandbox\.social:id/{name}"[^>]*bounds="([^"]+)"', xml)
    assert found, name
    x1, y1, x2, y2 = (int(v) for v in re.findall(r"\d+", found.group(1)))
    backend.tap((x1 + x2) // 2, (y1 + y2) // 2)


def bench_sweeps(client: SandboxClient, tmp: Path, profile: Path) -> list[str]:
    rows: list[str] = []
    for n in SIZES:
        fill(client, n)
        web = new_runtime(tmp / f"web-{n}", profile)
        web_s, r_web = timed(web.sweeper().sweep, WEB)
        assert r_web.status == "ok" and r_web.new_items == n, r_web
        client.add_device(SERIAL)  # a fresh phone, signed in
        phone = new_runtime(tmp / f"phone-{n}")
        assert phone.sweeper().login(PHONE).status == "ok"
        phone_s, r_phone = timed(phone.sweeper().sweep, PHONE)
        assert r_phone.new_items == n, r_phone
        per_item = f"{phone_s / n * 1000:.0f} ms/item, {r_phone.screenshots} evidence files"
        show(rows, f"(b) N={n:<4} web (Chromium) {web_s:6.2f}s  phone (sandbox device) "
                   f"{phone_s:6.2f}s  ratio {phone_s / web_s:5.2f}x  ({per_item})")  # fmt: skip
    return rows


def main() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    tmp = Path(tempfile.mkdtemp(prefix="bench-android-"))
    started = time.monotonic()
    try:
        with sandbox() as (url, client, _pid):
            os.environ["INBOX_AGENT_SANDBOX_URL"] = url
            os.environ.setdefault("SANDBOX_PASSWORD", "sandbox")  # the sandbox's practice password
            bench_ocr(url, client)
            profile = signed_in_template(tmp / "template")
            bench_sweeps(client, tmp, profile)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"(android benches took {time.monotonic() - started:.0f}s)")


if __name__ == "__main__":
    main()
