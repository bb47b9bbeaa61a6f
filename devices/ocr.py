"""OCR of screen crops: text that custom views draw only into their pixels.

Real tesseract through pytesseract. A crop is upscaled (tesseract reads best at a
cap height of about 30 px), turned to grayscale and, when its background is dark,
inverted, then thresholded; the words' mean confidence (0-1) comes back with the
text. ``OMP_THREAD_LIMIT=1`` is set unless the caller set it: tesseract's
OpenMP threads make it about three times slower on a small, shared machine.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass

from PIL import Image, ImageOps

from devices.errors import DriverError

Box = tuple[float, float, float, float]
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def _word(word: str) -> str:
    """Undo tesseract's one common confusion on sans-serif UI text: a capital I drawn as a
    plain bar read as "|" ("Can | get a refund", "|'m"): a bar as a word is an I."""
    if word == "|" or word.startswith(("|'", "|’")):
        return "I" + word[1:]
    return word


@dataclass
class TesseractOcr:
    """Reads a box of a PNG screenshot. ``scale`` upscales the crop; ``threshold`` (0-255)
    binarises it (None: grayscale only); ``lang`` is tesseract's language list."""

    scale: float = 2.0
    threshold: int | None = 160
    lang: str = "eng"
    psm: int = 6  # a block of text: a bubble of one or more lines
    pad: int = 4  # pixels of the element's own background kept around the text

    def __post_init__(self) -> None:
        if shutil.which("tesseract") is None:
            raise DriverError("tesseract is not installed (apt package tesseract-ocr)")

    def prepare(self, png: bytes, box: Box) -> Image.Image:
        with Image.open(io.BytesIO(png)) as img:
            x, y, w, h = box
            area = (
                max(0, int(x) - self.pad),
                max(0, int(y) - self.pad),
                min(img.width, int(x + w) + self.pad),
                min(img.height, int(y + h) + self.pad),
            )
            crop = ImageOps.grayscale(img.crop(area))
        if self.scale != 1:
            crop = crop.resize(
                (max(1, int(crop.width * self.scale)), max(1, int(crop.height * self.scale))),
                Image.Resampling.LANCZOS,
            )
        histogram = crop.histogram()
        dark = sum(histogram[:128]) > sum(histogram[128:])
        if dark:  # light text on a dark bubble
            crop = ImageOps.invert(crop)
        if self.threshold is not None:
            limit = self.threshold
            crop = crop.point(lambda v: 255 if v > limit else 0)
        return crop

    def read(self, png: bytes, box: Box) -> tuple[str, float]:
        import pytesseract  # imported on first use: it is slow to import and rarely needed

        image = self.prepare(png, box)
        try:
            data = pytesseract.image_to_data(
                image,
                lang=self.lang,
                config=f"--psm {self.psm}",
                output_type=pytesseract.Output.DICT,
            )
        except (pytesseract.TesseractError, OSError) as exc:
            raise DriverError(f"OCR failed: {exc}") from exc
        lines: dict[tuple[int, int, int], list[str]] = {}
        confidences: list[float] = []
        for i, word in enumerate(data["text"]):
            conf = float(data["conf"][i])
            if conf < 0 or not word.strip():
                continue
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            lines.setdefault(key, []).append(word)
            confidences.append(conf)
        text = " ".join(" ".join(_word(w) for w in words) for _, words in sorted(lines.items()))
        confidence = sum(confidences) / len(confidences) / 100 if confidences else 0.0
        return text, round(confidence, 3)
