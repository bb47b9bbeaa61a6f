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

    def save_screen(self, png: bytes) -> Path:
        """Store a full screen, re-encoded with PNG optimisation (lossless)."""
        with Image.open(io.BytesIO(png)) as img:
            return self.save_png(_encode(img))

    def save_crops(
        self, screen_png: bytes, boxes: list[tuple[float, float, float, float] | None]
    ) -> list[Path | None]:
        """Crop each box (page pixels) out of a full-page screenshot; None where no box."""
        out: list[Path | None] = []
        with Image.open(io.BytesIO(screen_png)) as img:
            img.load()
            for box in boxes:
                if box is None or box[2] < 1 or box[3] < 1:
                    out.append(None)
                    continue
                x, y, w, h = box
                left, top = max(0, int(x)), max(0, int(y))
                right, bottom = (
                    min(img.width, int(x + w + 0.999)),
                    min(img.height, int(y + h + 0.999)),
                )
                if right <= left or bottom <= top:
                    out.append(None)
                    continue
                out.append(self.save_png(_encode(img.crop((left, top, right, bottom)))))
        return out


def _encode(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
