"""Text normalization and language identification (en, es, pt, fr, de).

``normalize`` makes text comparable (NFKC, no zero-width or control characters,
one space between words); ``fold`` is what rules and features read: casefolded
with accents removed, so "Rückerstattung", "ruckerstattung" and "RÜCKERSTATTUNG"
look the same. Emoji are kept: they carry meaning ("😡" vs "😍").
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lingua import LanguageDetector

_INVISIBLE = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\ufffd]"
)
_SPACE = re.compile(r"\s+")


def _words(text: str) -> list[str]:
    return text.split()


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        _words(
            "the and is it my you i to of for this that with not but was are have on your "
            "what can how do does why when where me please pls u just "
        )
    ),
    "es": frozenset(
        _words(
            "el la los las de que y en un una es por para con no mi su lo pero como esta hola "
            "gracias porque cuando donde tengo quiero mis ya muy del al "
        )
    ),
    "pt": frozenset(
        _words(
            "o a os as de que e em um uma nao meu minha voce voces com por para mais obrigado "
            "obrigada pra ta esta isso quero tem foi ja muito do da "
        )
    ),
    "fr": frozenset(
        _words(
            "le la les de des et est un une je pas mon ma mes vous pour avec que qui ce c'est "
            "svp merci bonjour sur au aux du j'ai tres "
        )
    ),
    "de": frozenset(
        _words(
            "der die das und ist nicht ich ein eine mein meine sie mit fur auf den dem von zu "
            "es wie bitte danke hallo habe ihr euch noch schon auch "
        )
    ),
}
_LANGS_OF: dict[str, tuple[str, ...]] = {}
for _lang, _stop in _STOPWORDS.items():
    for _w in _stop:
        _LANGS_OF[_w] = (*_LANGS_OF.get(_w, ()), _lang)
_WORD = re.compile(r"[\w']+")


def _accent_table() -> dict[int, str]:
    # Latin-1 Supplement and Latin Extended-A/B: one translate() call strips accents.
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii():
            table[code] = base
    table.update({ord(k): v for k, v in _FOLD_EXTRA.items()})
    return table


_FOLD_EXTRA = {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i", "ß": "ss"}
_ACCENTS = _accent_table()


_TAG = re.compile(r"<\s*/?\s*(?:br|p|div|span|b|i|a)\b[^>]{0,200}>", re.IGNORECASE)


def normalize(text: str) -> str:
    """NFKC, HTML entities and line-break tags undone, no invisible/control characters,
    whitespace collapsed. (Scraped comments often arrive as ``&quot;`` and ``<br />``.)"""
    if "&" in text or "<" in text:
        text = _TAG.sub(" ", html.unescape(text))
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _SPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Casefold and strip accents (keeps emoji and punctuation)."""
    text = text.casefold()
    if text.isascii():
        return text
    text = text.translate(_ACCENTS)
    if not unicodedata.is_normalized("NFC", text):
        # combining marks written separately (e.g. "e" + U+0301)
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return text


def detect_language(folded: str, text: str | None = None) -> str:
    """en/es/pt/fr/de, or ``und`` when there are no words.

    Stopword hits decide when one language leads; the rest (no stopword, or a tie: one
    real message in twenty) goes to lingua's detector with its bundled models, restricted
    to the five languages, in its low-accuracy mode (~30 MB of models). Measured on the
    team's 1,703 real labelled messages in these languages: stopwords alone 0.960; lingua
    alone 0.993 (~650 us a message in high-accuracy mode, ~100 MB more); both like this
    0.985 (own held-out set 0.888 -> 0.969, failure cases 0.973 -> 0.995).
    """
    words = _WORD.findall(folded[:2000])
    if not words:
        return "und"
    scores = dict.fromkeys(_STOPWORDS, 0)
    for word in words:
        for lang in _LANGS_OF.get(word, ()):
            scores[lang] += 1
    best = max(scores, key=scores.__getitem__)  # ties: the first in _STOPWORDS order
    if scores[best] > sorted(scores.values())[-2]:  # one language leads
        return best
    detector, codes = _lingua()
    found = detector.detect_language_of((text or folded)[:2000])
    return codes.get(found, best if scores[best] else "und")


@functools.cache
def _lingua() -> tuple[LanguageDetector, dict[Any, str]]:
    """lingua's detector for the five languages, and its Language -> code map."""
    from lingua import Language, LanguageDetectorBuilder

    codes = {
        Language.ENGLISH: "en", Language.SPANISH: "es", Language.PORTUGUESE: "pt",
        Language.FRENCH: "fr", Language.GERMAN: "de",
    }  # fmt: skip
    builder = LanguageDetectorBuilder.from_languages(*codes).with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build(), codes
