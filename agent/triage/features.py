"""Hashed word and character n-gram features, computed with a handful of numpy calls.

Word unigrams (CRC32, stable across processes, unlike ``hash()``), bigrams and
trigrams (combined from the unigram hashes in numpy), the concepts of
``agent.triage.lexicon``, and a few shape features (``_shape``: question and
exclamation marks, repeated characters, shouting in capitals, emoji, numbers,
money, mentions, hashtags, length) are hashed into one space; character
3–5-grams of the folded text (digits as 0, punctuation and links kept) are
hashed with a vectorized rolling hash. Counts
become ``log1p`` weights and the vector is L2-normalized. Feature index 0 is a
constant bias feature, so no item has an empty vector.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from agent.triage.lexicon import concepts
from agent.triage.normalize import fold, normalize

N_FEATURES = 1 << 18
MAX_CHARS = 1000  # the model reads the first 1,000 folded characters
CHAR_NGRAMS = (3, 4, 5)
CONCEPT_REPEAT = 3  # a concept counts like a word seen three times (log1p weight)
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf"
_WORD = re.compile(rf"[^\W_]+|[{_EMOJI}]")
_DIGITS = re.compile(r"\d")
_MASK = np.uint64(N_FEATURES - 1)
_MUL = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1_000_003)
_BIGRAM = np.uint64(0x100000001B3)
_TRIGRAM = np.uint64(0x1000193)

# shape features read the normalized (not folded) text; each is one cheap test
_REPEAT = re.compile(r"([^\W\d_])\1\1")  # "sooo", "!!!" is counted by "!"
_CAPS = re.compile(r"\b[A-Z]{3,}\b")
_EMOJI_RE = re.compile(f"[{_EMOJI}]")
_MONEY = re.compile(r"[$€£¥]|\b(?:usd|eur|gbp|brl|reais|euros?|dollars?)\b", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w")
_HASHTAG = re.compile(r"(?<!\w)#\w")
_LONG_NUMBER = re.compile(r"\d{4,}")


def _shape_tokens(text: str, n_tokens: int) -> list[str]:
    """Shape tokens: punctuation, repeats, shouting, emoji, money, mentions, length."""
    found = []
    if "?" in text:
        found.append("§shape:q")
    if "!" in text:
        found.append("§shape:x")
    if _REPEAT.search(text):
        found.append("§shape:rep")
    if not text.islower() and len(_CAPS.findall(text)) >= 2:  # one acronym is not shouting
        found.append("§shape:caps")
    if not text.isascii() and _EMOJI_RE.search(text):
        found.append("§shape:emoji")
    if _MONEY.search(text):
        found.append("§shape:money")
    if "@" in text and _MENTION.search(text):
        found.append("§shape:mention")
    if "#" in text and _HASHTAG.search(text):
        found.append("§shape:tag")
    if _LONG_NUMBER.search(text):
        found.append("§shape:num")
    size = "xs" if n_tokens < 4 else "s" if n_tokens < 12 else "m" if n_tokens < 30 else "l"
    found.append(f"§len:{size}")
    return found


_EXTRA_CACHE: dict[str, int] = {}


def _extra_hash(token: str) -> int:
    h = _EXTRA_CACHE.get(token)
    if h is None:
        h = _EXTRA_CACHE[token] = zlib.crc32(token.encode())
    return h


def _char_hashes(text: str) -> np.ndarray:
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    size = len(codes)
    if size < CHAR_NGRAMS[0]:
        return np.zeros(0, dtype=np.uint64)
    # h holds the hash of the n-gram starting at each position; extend it one char at a time
    h = codes.copy()
    for k in range(1, CHAR_NGRAMS[0]):
        h = h[:-1] * _PRIME + codes[k:]
    parts = [h]
    for n in range(CHAR_NGRAMS[0] + 1, CHAR_NGRAMS[-1] + 1):
        if size < n:
            break
        h = h[:-1] * _PRIME + codes[n - 1 :]
        parts.append(h + np.uint64(n))
    h = np.concatenate(parts)
    h ^= h >> np.uint64(29)
    h *= _MUL
    h ^= h >> np.uint64(32)
    return h


def featurize(folded: str, text: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique feature indices (int64) and their float32 weights (unit L2 norm).

    ``text`` is the normalized text before folding (for shape features such as
    capitals); the folded text stands in when it is not given.
    """
    idx, vals, _ = featurize_words(folded, text)
    return idx, vals


def featurize_text(raw: str) -> tuple[np.ndarray, np.ndarray]:
    """``featurize`` of a message as it came (normalized and folded here)."""
    text = normalize(raw)
    return featurize(fold(text), text)


def featurize_words(
    folded: str, text: str | None = None
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """``featurize`` plus the CRC32 of each word (duplicate clustering reuses them)."""
    cut = _DIGITS.sub("0", folded[:MAX_CHARS])
    toks = _WORD.findall(cut)
    token_h = [zlib.crc32(t.encode()) for t in toks]
    extra = [_extra_hash(f"§{c}") for c in concepts(cut)] * CONCEPT_REPEAT
    extra += [_extra_hash(s) for s in _shape_tokens((text or folded)[:MAX_CHARS], len(toks))]
    tok = np.asarray(token_h, dtype=np.uint64)
    bigrams = tok[:-1] * _BIGRAM + tok[1:]
    # trigrams tell a spammer's "check out my" from a customer's "you charged me"
    trigrams = bigrams[:-1] * _TRIGRAM + tok[2:]
    word_h = np.concatenate((tok, bigrams, trigrams, np.asarray(extra, np.uint64)))
    # over the folded text itself, punctuation and links included ("://", ".com/", "!!!"):
    # the spam filter gains most from these (docs/triage-eval.md)
    char_h = _char_hashes(f" {cut} ")
    all_h = np.concatenate((word_h * _MUL, char_h, np.zeros(1, dtype=np.uint64)))
    idx = (all_h & _MASK).astype(np.int64)
    idx[-1] = 0  # bias feature
    idx.sort()
    edges = np.empty(len(idx) + 1, dtype=bool)  # where a run of equal indices starts or ends
    edges[0] = edges[-1] = True
    np.not_equal(idx[1:], idx[:-1], out=edges[1:-1])
    bounds = np.flatnonzero(edges)
    uniq = idx[bounds[:-1]]
    vals = np.log1p((bounds[1:] - bounds[:-1]).astype(np.float32))
    vals *= np.float32(1.0) / np.sqrt(np.dot(vals, vals))
    return uniq, vals, token_h
