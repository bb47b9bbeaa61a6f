"""A small multilingual concept lexicon: extra features shared across languages.

Each concept (``refund``, ``login``, ``outage``…) lists folded stems in en, es,
pt, fr and de. A message that mentions one gets a ``§concept`` token, so what the
model learns from (mostly English) training text carries over to the other
languages. The lexicon (``data/lexicon.yaml``) is data the team reads and edits;
it decides nothing on its own (the model weighs it like any other feature).
Links and bare domains ("bit.ly/x", "site.tk") add a ``§link`` token.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

CONCEPTS: dict[str, list[str]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "lexicon.yaml").read_text(encoding="utf-8")
)

_STEM_TO_CONCEPT: dict[str, str] = {}
for _concept, _stems in CONCEPTS.items():
    for _stem in _stems:
        _STEM_TO_CONCEPT.setdefault(_stem, _concept)


def _trie_pattern(words: list[str]) -> str:
    """A regex equivalent to ``word1|word2|...`` built as a trie (longest match first).

    Python's engine tries alternatives one by one; a trie makes it test one
    character class per position instead of hundreds of literals.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie)


# Greedy trie match: the longest stem wins ("refund" over "re…"); stems are literal text.
_REGEX = re.compile(_trie_pattern(sorted(_STEM_TO_CONCEPT)))


# A link or bare domain ("adf.ly/x", "oldchat.tk", "www.site.com"), even with spaces.
_LINK = re.compile(
    r"https?:|www\.|\b[a-z0-9-]{2,} ?\. ?(?:com|net|org|ly|tk|biz|info|me|co|io|us|ru|nl|de|fr"
    r"|es|br|xyz|site|online|gl|gg|to|cc)\b(?: ?/)?"
)


def concepts(folded: str) -> list[str]:
    """Concept names mentioned in folded text (each once, in order of first mention)."""
    found: dict[str, None] = {}
    if "." in folded and _LINK.search(folded):
        found["link"] = None
    for match in _REGEX.finditer(folded):
        found[_STEM_TO_CONCEPT[match.group(0)]] = None
    return list(found)
