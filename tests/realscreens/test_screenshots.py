"""The boxes the driver reports line up with the screenshots recorded with the dumps.

Two checks that know nothing of the packs' reasoning: the edges of a solid-coloured
element (a chat bubble, a button) sit where the box says, to within a few pixels;
and the text OCR reads inside a box is the text the dump gives that element. Both
must fail for a box shifted by 20 px, so each is also run on such a box.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageOps, ImageStat

from devices.android.driver import AndroidDriver
from devices.android.recorded import RecordedScreen
from devices.driver import FieldQuery
from devices.selectors import Locator, Selector, SelectorPack

from . import truth
from .conftest import driver_on

Screen = Callable[[str], AndroidDriver]
Box = tuple[float, float, float, float]
EDGE_SLACK = 3  # px: "within a few pixels" (a bubble's edge is anti-aliased over ~2 px)


def _image(d: AndroidDriver) -> Image.Image:
    return Image.open(io.BytesIO(d.screenshot())).convert("RGB")


def _close(a: object, b: object) -> bool:
    assert isinstance(a, tuple) and isinstance(b, tuple)
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) <= 24


def edges_match(img: Image.Image, box: Box) -> bool:
    """Whether a solid element fills ``box``: its colour (the box's commonest) is found
    just inside each edge, at the edge's middle, and not just outside it."""
    x, y, w, h = (int(v) for v in box)
    x2, y2, xm, ym = x + w - 1, y + h - 1, x + w // 2, y + h // 2
    crop = img.crop((x, y, x + w, y + h))
    colours = crop.getcolors(maxcolors=w * h) or []
    colour = max(colours)[1]
    inner = [(x + 2, ym), (x2 - 2, ym), (xm, y + 2), (xm, y2 - 2)]
    outer = [
        (x - EDGE_SLACK, ym),
        (x2 + EDGE_SLACK, ym),
        (xm, y - EDGE_SLACK),
        (xm, y2 + EDGE_SLACK),
    ]
    return all(_close(img.getpixel(p), colour) for p in inner) and not any(
        _close(img.getpixel(p), colour) for p in outer
    )


def ocr(img: Image.Image, box: Box) -> str:
    """One line of text in ``box`` (light text on dark is inverted first)."""
    import pytesseract

    x, y, w, h = (int(v) for v in box)
    crop = img.crop((x, y, x + w, y + h)).convert("L")
    crop = crop.resize((crop.width * 2, crop.height * 2))
    if ImageStat.Stat(crop).mean[0] < 128:
        crop = ImageOps.invert(crop)
    return " ".join(pytesseract.image_to_string(crop, config="--psm 7").split())


def shifted(box: Box, dx: float = 0, dy: float = 0) -> Box:
    return box[0] + dx, box[1] + dy, box[2], box[3]


# -- the screenshot and the dump share one coordinate space ---------------------------------


@pytest.mark.parametrize(
    ("dump", "png"),
    [
        (truth.WHATSAPP_THREAD, "whatsapp_chat_thread.png"),
        (truth.TIKTOK_FEED, "tiktok_foryou_feed.png"),
    ],
)
def test_the_screenshot_is_the_dumps_screen_plus_the_navigation_bar(
    android_ui: Path, dump: str, png: str
) -> None:
    with Image.open(android_ui / png) as img:
        size = img.size
    # Same width and origin; the dump's windows stop at y=1483 while the display is
    # 1600 high: the system navigation bar below is not in the dump (its background
    # node there is [0,0][0,0]).
    assert size == (720, 1600)
    assert truth.window_width(dump) == size[0]
    assert truth.window_bottom(dump) == 1483 < size[1]
    (nav,) = truth.by_id(dump, "android:id/navigationBarBackground")
    assert truth.bounds(nav) == (0, 0, 0, 0)
    assert RecordedScreen(android_ui / dump).window_size() == size


# -- WhatsApp: bubbles --------------------------------------------------------------------


@pytest.fixture
def thread(packs: dict[str, SelectorPack], screen: Screen) -> tuple[AndroidDriver, list[Box]]:
    """The driver on the recorded chat, and the boxes it reports for the text bubbles."""
    pack, d = packs["whatsapp-android"], screen(truth.WHATSAPP_THREAD)
    read = d.extract(pack.selector("message"), [FieldQuery("t", pack.selector("message_text"))])
    return d, [x.box for x in read.items if x.fields["t"] is not None and x.box is not None]


def test_whatsapp_text_bubbles_edges_are_where_the_driver_says(
    thread: tuple[AndroidDriver, list[Box]],
) -> None:
    d, text_bubbles = thread
    assert len(text_bubbles) == sum(1 for b in truth.whatsapp_bubbles() if b.is_text) == 7
    img = _image(d)
    for box in text_bubbles:
        assert edges_match(img, box), box
        for dx, dy in ((20, 0), (-20, 0), (0, 20), (0, -20)):
            assert not edges_match(img, shifted(box, dx, dy)), (box, dx, dy)


def test_whatsapp_bubble_texts_read_by_ocr_are_the_dumps_texts(
    tesseract: None, packs: dict[str, SelectorPack], screen: Screen
) -> None:
    pack, d = packs["whatsapp-android"], screen(truth.WHATSAPP_THREAD)
    img = _image(d)
    read = d.extract(pack.selector("message_body"), [])  # each text's own box
    expected = [b for b in truth.whatsapp_bubbles() if b.text is not None]
    assert [x.box for x in read.items] == [
        truth.as_xywh(b.text_box) for b in expected if b.text_box
    ]
    picks = {0: "1000000000000", 8: "2023-08-14_191713.pdf", 9: "4000000000000"}
    for index, text in picks.items():
        box = read.items[index].box
        assert box is not None and expected[index].text == text
        assert ocr(img, box) == text
        assert text not in ocr(img, shifted(box, dy=20))  # a box 20 px off reads other pixels
        assert text not in ocr(img, shifted(box, dx=20))


# -- TikTok ---------------------------------------------------------------------------------


def test_tiktok_comment_count_and_author_read_by_ocr(
    tesseract: None, packs: dict[str, SelectorPack], screen: Screen
) -> None:
    pack, d = packs["tiktok-android"], screen(truth.TIKTOK_FEED)
    img = _image(d)
    said, _ = truth.tiktok_comments()
    for name, text in (("video_comment_count", str(said)), ("video_author", "ESPN Brasil")):
        (box,) = [x.box for x in d.extract(pack.selector(name), []).items]
        assert box is not None
        assert re.sub(r"[^\w ]", "", ocr(img, box)).strip().startswith(text), name
        assert text not in ocr(img, shifted(box, dy=20)), name


def test_tiktok_buttons_edges_are_where_the_driver_says(screen: Screen) -> None:
    d = screen(truth.TIKTOK_FEED)
    img = _image(d)
    for label in ("Personalizar feed", "Mais como este"):
        sel = Selector(name="b", alternatives=(Locator(text=label, exact=True),))
        (box,) = [x.box for x in d.extract(sel, []).items]
        assert box is not None and edges_match(img, box), label
        assert not edges_match(img, shifted(box, dy=20)), label


def test_tiktok_inbox_tap_lands_on_the_tab_labelled_caixa_de_entrada(
    tesseract: None, packs: dict[str, SelectorPack], android_ui: Path
) -> None:
    backend = RecordedScreen(android_ui / truth.TIKTOK_FEED)
    d = driver_on(backend)
    d.tap(packs["tiktok-android"].selector("inbox_tab"), timeout_s=0)
    ((x, y),) = backend.taps()
    img = _image(d)

    def label_below(px: int, py: int) -> str:  # the tab's label is drawn under its icon
        return ocr(img, (max(0, px - 72), py, 144, 63))

    assert label_below(x, y) == "Caixa de entrada"
    # The label node's own box is [0,0][0,0]: its centre is the status bar's clock.
    label, _ = truth.tiktok_inbox_tab()
    assert truth.bounds(label) == (0, 0, 0, 0)
    assert "Caixa" not in label_below(0, 0)
