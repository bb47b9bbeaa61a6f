"""Screenshot evidence: full screens and per-item crops, stored once per content.

Files are named by the SHA-256 of their bytes and sharded by the first two hex
digits, so a screen captured twice is stored once and a crop's name proves what it
shows. Screens are kept as the device or browser encoded them (PNG); crops are cut
from the decoded screen and encoded as lossless WebP (``bench/bench_evidence.py``, on
real saved pages and phone screens: two thirds of PNG's size in about PNG's time).

A sweep hands each captured screen, with the boxes of the items on it, to an
:class:`EvidenceWriter`: decoding, cropping, encoding and writing happen on worker
threads while the browser goes on, and the item rows are stored only once the
writer says the files exist, so a row never names a file that is not there.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

Box = tuple[float, float, float, float]

WRITER_THREADS = 2


class EvidenceStore:
    def __init__(self, root: Path):
        self.root = root
        self.written = 0  # files written by this store (screens, crops, trees)
        self._lock = threading.Lock()

    def save_bytes(self, data: bytes, suffix: str) -> Path:
        """Store bytes under their digest (written once; safe from several threads)."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / digest[:2] / f"{digest}{suffix}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
            with self._lock:
                self.written += 1
        return path

    def save_png(self, png: bytes) -> Path:
        return self.save_bytes(png, ".png")

    def save_tree(self, xml: str) -> Path:
        """Store a device's screen tree (the uiautomator dump a stop was decided on)."""
        return self.save_bytes(xml.encode("utf-8"), ".xml")

    def save_screen(self, png: bytes) -> Path:
        """Store a full screen, re-encoded with PNG optimisation (lossless): stop and
        drift screens, rare enough that size beats time."""
        with Image.open(io.BytesIO(png)) as img:
            return self.save_png(encode_png(img))

    def save_crop(self, screen: Image.Image, box: Box) -> Path | None:
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
        return self.save_bytes(encode_webp(crop), ".webp")


@dataclass(frozen=True)
class ScreenFiles:
    """Where one screen's evidence was written: the screen, and a crop per box asked."""

    screen: Path
    crops: list[Path | None]


def write_screen(store: EvidenceStore, png: bytes, boxes: list[Box | None]) -> ScreenFiles:
    """Store a captured screen as it is and cut the boxes' crops from it (decoded once)."""
    path = store.save_png(png)
    crops: list[Path | None] = [None] * len(boxes)
    if any(box is not None for box in boxes):
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            for k, box in enumerate(boxes):
                if box is not None:
                    crops[k] = store.save_crop(image, box)
    return ScreenFiles(path, crops)


class EvidenceWriter:
    """Writes screens and crops on worker threads; each job's future says when its files
    exist. Pillow releases the GIL while it decodes and encodes, so the sweep's thread
    (and the browser) go on meanwhile. ``close`` waits for the jobs handed in and stops
    the threads."""

    def __init__(self, store: EvidenceStore, threads: int = WRITER_THREADS):
        self.store = store
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, png: bytes, boxes: list[Box | None]) -> Future[ScreenFiles]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="evidence")
        return self._pool.submit(write_screen, self.store, png, boxes)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _blank(img: Image.Image) -> bool:
    """One colour all over (every band's minimum equals its maximum)."""
    extrema = img.getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    return all(low == high for low, high in bands)


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def encode_webp(img: Image.Image) -> bytes:
    """Lossless WebP (``quality`` is effort here, ``method`` the speed/size trade-off)."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="WEBP", lossless=True, quality=50, method=1)
    return buf.getvalue()
