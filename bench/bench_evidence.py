"""Evidence encoding: PNG against lossless WebP, for size and time, on screens nobody on the
team drew.

The screens are real saved pages (``../shared/data/web_html``: a Facebook post's comments,
an X DM inbox, an X thread) rendered in Chromium at the sweep's viewport and captured as
a sweep captures them, plus the real Android screenshots (``../shared/data/android_ui``).
Each screen is cut into comment-high crops (90 px bands, as a list row) and every crop
and screen is encoded each way. Printed per format: milliseconds per crop and per screen,
and KiB per crop and per screen, with the ratio against PNG at the level a sweep used
before (``compress_level=6``), measured in this run.
"""

from __future__ import annotations

import base64
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from devices.playwright_driver import chromium_path, launch_args
from flows.evidence import encode_webp

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PAGES = (
    "facebook_mbasic_nintendo_post_comments.html",
    "x_dm_inbox_brocc_redacted.html",
    "x_tweet_thread_brocc_redacted.html",
)
ROW_PX = 90


def _screens() -> list[Image.Image]:
    """Screens of the real pages (two per page, as a sweep scrolls) and the phone's."""
    out: list[Image.Image] = []
    args = launch_args()
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=args,
            viewport={"width": 1280, "height": 900}, java_script_enabled=False,
            offline=True,
        )  # fmt: skip
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        for name in PAGES:
            path = DATA / "web_html" / name
            if not path.is_file():
                continue
            page.goto(path.as_uri(), wait_until="load")
            for top in (0, 900):
                page.evaluate("(y) => window.scrollTo(0, y)", top)
                shot = cdp.send(
                    "Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True}
                )
                out.append(Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB"))
        ctx.close()
    for png in sorted((DATA / "android_ui").glob("*.png")):
        with Image.open(png) as img:
            out.append(img.convert("RGB"))
    return out


def _png(level: int) -> Callable[[Image.Image], bytes]:
    def encode(img: Image.Image) -> bytes:
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=level)
        return buf.getvalue()

    return encode


def _webp(quality: int, method: int) -> Callable[[Image.Image], bytes]:
    def encode(img: Image.Image) -> bytes:
        buf = io.BytesIO()
        img.save(buf, format="WEBP", lossless=True, quality=quality, method=method)
        return buf.getvalue()

    return encode


FORMATS: dict[str, Callable[[Image.Image], bytes]] = {
    "png level 6 (before)": _png(6),
    "png level 1": _png(1),
    "webp lossless q0 m0": _webp(0, 0),
    "webp lossless q50 m1 (crops now)": encode_webp,
    "webp lossless q50 m2": _webp(50, 2),
    "webp lossless q75 m4": _webp(75, 4),
}


def _measure(
    encode: Callable[[Image.Image], bytes], images: list[Image.Image]
) -> tuple[float, float]:
    """(ms per image, KiB per image), best of three rounds for the time."""
    best = float("inf")
    size = 0
    for _ in range(3):
        started = time.perf_counter()
        size = sum(len(encode(img)) for img in images)
        best = min(best, time.perf_counter() - started)
    return best / len(images) * 1000, size / len(images) / 1024


def main() -> None:
    screens = _screens()
    if not screens:
        print("(skipped: no real pages under ../shared/data)")
        return
    crops = [
        s.crop((0, top, s.width, top + ROW_PX))
        for s in screens
        for top in range(0, s.height - ROW_PX, ROW_PX * 2)
    ]
    print(f"{len(screens)} real screens, {len(crops)} crops of {ROW_PX} px")
    base_crop = base_screen = (0.0, 0.0)
    for name, encode in FORMATS.items():
        crop = _measure(encode, crops)
        screen = _measure(encode, screens)
        if name.endswith("(before)"):
            base_crop, base_screen = crop, screen
        print(
            f"{name:34s} crop {crop[0]:6.2f} ms {crop[1]:6.1f} KiB "
            f"({crop[0] / base_crop[0]:4.2f}x time, {crop[1] / base_crop[1]:4.2f}x size)   "
            f"screen {screen[0]:6.1f} ms {screen[1]:6.1f} KiB "
            f"({screen[0] / base_screen[0]:4.2f}x time, {screen[1] / base_screen[1]:4.2f}x size)",
            flush=True,
        )


if __name__ == "__main__":
    main()
