"""Screenshot evidence: full screens and per-item crops, compressed, stored once per content.

Files are named by the SHA-256 of their pixels' PNG encoding and sharded by
the first two hex digits, so a screen captured twice is stored once and a
crop's name proves what it shows.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from PIL import Image


class EvidenceStore:
    def __init__(self, root: Path):
        self.root = root
        self.written = 0

    def save_png(self, png: bytes) -> Path:
        digest = hashlib.sha256(png).hexdigest()
        path = self.root / digest[:2] / f"{digest}.png"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(png)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
            self.written += 1
        return path

    def save_tree(self, xml: str) -> Path:
        """Store a device's screen tree (the uiautomator dump a stop was decided on)."""
        data = xml.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / digest[:2] / f"{digest}.xml"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return path

    def save_screen(self, png: bytes) -> Path:
        """Store a full screen, re-encoded with PNG optimisation (lossless)."""
        with Image.open(io.BytesIO(png)) as img:
            return self.save_png(_encode(img))

    def save_crop(self, screen: Image.Image, box: tuple[float, float, float, float]) -> Path | None:
        """Crop a box (x, y, w, h in the screen's pixels) out of a decoded screen.

        None when the box is empty or the crop shows nothing (one colour: the item
        is clipped away or drawn off screen), so a reviewer sees "no crop" rather
        than a black rectangle passed off as evidence.
        """
        x, y, w, h = box
        left, top = max(0, int(x)), max(0, int(y))
        right = min(screen.width, int(x + w + 0.999))
        bottom = min(screen.height, int(y + h + 0.999))
        if right <= left or bottom <= top:
            return None
        crop = screen.crop((left, top, right, bottom))
        if _blank(crop):
            return None
        return self.save_png(_encode(crop))


class ScreenCache:
    """Decodes and stores each screen once, however many items are cropped from it."""

    def __init__(self, evidence: EvidenceStore):
        self.evidence = evidence
        self._png: bytes | None = None
        self._image: Image.Image | None = None
        self._path: Path | None = None

    def get(self, png: bytes) -> tuple[Image.Image, Path]:
        if png is not self._png or self._image is None or self._path is None:
            self._image = Image.open(io.BytesIO(png))
            self._image.load()
            self._path = self.evidence.save_png(png)
            self._png = png
        return self._image, self._path


def _blank(img: Image.Image) -> bool:
    """One colour all over (every band's minimum equals its maximum)."""
    extrema = img.getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    return all(low == high for low, high in bands)


def _encode(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
