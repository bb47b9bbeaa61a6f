"""Screenshot the review UI on the demo home (run `make demo` first) into docs/screenshots/.

Usage: .venv/bin/python scripts/docs_screenshots.py [ITEM_ID]
Uses the demo's admin user (DEMO_PASSWORD, default as in scripts/demo.sh).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from devices.playwright_driver import QUIET_ARGS, chromium_path

ROOT = Path(__file__).resolve().parent.parent
HOME = Path(os.environ.get("INBOX_AGENT_HOME", ROOT / ".inbox-agent"))
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-password-change-me")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    item = sys.argv[1] if len(sys.argv) > 1 else "1"
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from agent.cli import main; main()",
            "--home",
            str(HOME),
            "serve",
            "--port",
            str(port),
            "--insecure-cookies",
        ],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        out = ROOT / "docs" / "screenshots"
        out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium_path(), args=[*QUIET_ARGS, "--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/login")
            page.fill("input[name=username]", "demo")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{url}/?workspace=sandbox-acme-web")
            page.screenshot(path=str(out / "queue.png"))
            page.goto(f"{url}/items/{item}")
            page.screenshot(path=str(out / "item.png"), full_page=True)
            browser.close()
        print(f"wrote {out / 'queue.png'} and {out / 'item.png'}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
