"""Evidence crops: a crop that shows nothing is not kept as evidence."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from flows.evidence import EvidenceStore


def test_a_one_colour_crop_is_not_evidence_and_a_drawn_one_is(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    screen = Image.new("RGB", (200, 100), "black")  # a page that rendered nothing here
    ImageDraw.Draw(screen).text((110, 40), "hello", fill="white")
    assert store.save_crop(screen, (0, 0, 100, 100)) is None  # all black: clipped away
    kept = store.save_crop(screen, (100, 30, 100, 40))
    assert kept is not None and kept.is_file()
    assert store.save_crop(screen, (300, 0, 10, 10)) is None  # off the screen
