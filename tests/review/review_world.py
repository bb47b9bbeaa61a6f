"""Helpers for the review tests: a home with two clients' workspaces, users, items, logins."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont
from sqlmodel import select

from agent.config import load_catalog
from agent.review.auth import add_user, get_user, grant
from agent.review.queries import draft_hash, latest_decision
from agent.runtime import Runtime
from agent.store import Decision, Item, ItemCreate, OutboxEntry, Store, User, add_item, utcnow
from workspaces.paths import Home

PASSWORD = "correct horse battery staple"
ACME = "acme-web"
GLOBEX = "globex-web"
SECRET = "GLOBEX-CONFIDENTIAL-7731"


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size) if FONT.exists() else ImageFont.load_default()


def screenshot_png(
    path: Path, text: str, size: tuple[int, int] = (480, 320), author: str = "@customer"
) -> Path:
    """A real PNG of a fake inbox screen showing ``text`` (the crop box is 16,60-464,140)."""
    img = Image.new("RGB", size, (245, 247, 250))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, size[0], 36), fill=(29, 35, 48))
    draw.text((12, 9), "Inbox - Direct messages", fill=(255, 255, 255), font=_font(15))
    draw.rounded_rectangle(
        (16, 60, size[0] - 16, 140), radius=10, fill=(255, 255, 255), outline=(200, 205, 214)
    )
    draw.ellipse((26, 70, 50, 94), fill=(120, 144, 200))
    draw.text((58, 70), author[:40], fill=(40, 40, 40), font=_font(13))
    lines, line = [], ""
    for word in text.split()[:40]:
        if len(line) + len(word) > 52:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    lines.append(line)
    for n, chunk in enumerate(lines[:3]):
        draw.text((58, 90 + 15 * n), chunk[:60], fill=(20, 20, 20), font=_font(12))
    for n in range(3):
        y = 160 + 48 * n
        draw.rounded_rectangle((16, y, size[0] - 16, y + 38), radius=8, fill=(236, 239, 244))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG")
    return path


def workspace_yaml(workspace: str, reply: str | None = "sandbox-reply") -> str:
    """A sandbox workspace file (built-in flows and pack); ``reply=None``: no reply flow."""
    reply_line = f"  reply: {reply}\n" if reply else ""
    return (
        f"id: {workspace}\nclient: {workspace}\nplatform: sandbox\nsurface: web\n"
        "environment:\n  kind: browser_profile\n  start_url: http://127.0.0.1:9\n"
        "  expected_account: '@brand'\n"
        f"flows:\n  inbox: sandbox-inbox\n{reply_line}selectors: sandbox-web\n"
    )


@dataclass
class World:
    runtime: Runtime
    home: Home

    @property
    def store(self) -> Store:
        return self.runtime.store

    def configure(
        self,
        workspace: str,
        *,
        reply: str | None = "sandbox-reply",
        flows: dict[str, str] | None = None,
    ) -> None:
        """Write the workspace's file (and extra flow files) and reload the runtime's catalog.

        The catalog is used as loaded, problems and all: a test may configure what
        ``validate`` refuses (a reply flow that answers only DMs) to see what the
        review actions do with it.
        """
        folder = self.home.config_dir("workspaces")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{workspace}.yaml").write_text(workspace_yaml(workspace, reply))
        for flow_id, text in (flows or {}).items():
            flow_dir = self.home.config_dir("flows")
            flow_dir.mkdir(parents=True, exist_ok=True)
            (flow_dir / f"{flow_id}.yaml").write_text(text)
        self.runtime.catalog = load_catalog(self.home)

    def user(self, name: str, role: str, *workspaces: str) -> None:
        with self.store.session() as s:
            user = add_user(s, name, role, PASSWORD)
            for ws in workspaces:
                grant(s, user, ws)

    def item(
        self,
        workspace: str,
        text: str,
        *,
        thread: str = "t1",
        kind: str = "comment",
        author: str = "@customer",
        draft: str | None = "Thanks for reaching out! We are on it.",
        intent: str = "product_question",
        priority: str = "P3",
        action: str = "review",
        sla_minutes: int | None = 60,
        status: str = "in_review",
        screenshot: bool = False,
    ) -> int:
        screen = crop = None
        if screenshot:
            digest = hashlib.sha256(f"{workspace}{text}".encode()).hexdigest()
            screen_path = self.home.screenshots_dir / digest[:2] / f"{digest}.png"
            screen = str(screenshot_png(screen_path, text, author=author))
            crop_path = self.home.screenshots_dir / digest[:2] / f"{digest}-crop.webp"
            with Image.open(screen) as full:  # crops are lossless WebP, as a sweep writes them
                full.crop((16, 60, 464, 140)).save(crop_path, format="WEBP", lossless=True)
            crop = str(crop_path)
        with self.store.session() as s:
            row, _ = add_item(
                s,
                ItemCreate(
                    workspace=workspace,
                    platform="sandbox",
                    account="@brand",
                    thread=thread,
                    kind=kind,
                    author=author,
                    text=text,
                    posted_at=utcnow() - timedelta(minutes=5),
                    screenshot=screen,
                    crop=crop,
                    evidence_box=[16, 60, 448, 80] if screenshot else None,
                ),
            )
            row.status = status
            s.add(row)
            assert row.id is not None
            due = utcnow() + timedelta(minutes=sla_minutes) if sla_minutes is not None else None
            s.add(
                Decision(
                    item_id=row.id,
                    action=action,
                    intent=intent,
                    priority=priority,
                    queue="support",
                    owner=f"{workspace}-support",
                    sla_minutes=sla_minutes,
                    sla_due_at=due,
                    confidence=0.91,
                    why=["rule:intent.question", "model:0.91"],
                    draft=draft,
                    draft_source="saved reply: shipping-times" if draft else None,
                )
            )
            return row.id

    def get_item(self, item_id: int) -> Item:
        with self.store.session() as s:
            item = s.get(Item, item_id)
            assert item is not None
            return item

    def get_user(self, name: str) -> User:
        with self.store.session() as s:
            user = get_user(s, name)
            assert user is not None
            return user

    def draft_hash(self, item_id: int) -> str:
        """The hash an approval must name: of the item's draft as a reviewer saw it."""
        with self.store.session() as s:
            return draft_hash(self.get_item(item_id), latest_decision(s, item_id))

    def outbox(self) -> list[OutboxEntry]:
        with self.store.session() as s:
            return list(s.exec(select(OutboxEntry)).all())


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client
