"""Hashed word and character n-gram features, computed with a handful of numpy calls.

Word unigrams and bigrams, plus the concepts of ``agent.triage.lexicon``, are
hashed with CRC32 (stable across processes, unlike
``hash()``); character 2–5-grams of the folded text are hashed with a vectorized
rolling hash. Counts become ``log1p`` weights and the vector is L2-normalized.
Feature index 0 is a constant bias feature, so no item has an empty vector.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from agent.triage.lexicon import concepts

N_FEATURES = 1 << 18
MAX_CHARS = 1000  # the model reads the first 1,000 folded characters
CHAR_NGRAMS = (3, 4, 5)
CONCEPT_REPEAT = 3  # a concept counts like a word seen three times (log1p weight)
_WORD = re.compile(r"[^\W_]+|[\U0001F000-\U0001FAFF\u2600-\u27BF]")
_DIGITS = re.compile(r"\d")
_MASK = np.uint64(N_FEATURES - 1)
_MUL = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1_000_003)


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


def featurize(folded: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique feature indices (int64) and their float32 weights (unit L2 norm)."""
    idx, vals, _ = featurize_words(folded)
    return idx, vals


def featurize_words(folded: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """``featurize`` plus the CRC32 of each word (duplicate clustering reuses them)."""
    text = _DIGITS.sub("0", folded[:MAX_CHARS])
    toks = _WORD.findall(text)
    token_h = [zlib.crc32(t.encode()) for t in toks]
    word_h = list(token_h)
    word_h += [zlib.crc32(f"{a} {b}".encode()) for a, b in zip(toks, toks[1:], strict=False)]
    word_h += [zlib.crc32(f"§{c}".encode()) for c in concepts(text)] * CONCEPT_REPEAT
    char_h = _char_hashes(f" {' '.join(toks)} ")
    all_h = np.concatenate(
        (np.asarray(word_h, dtype=np.uint64) * _MUL, char_h, np.zeros(1, dtype=np.uint64))
    )
    idx = (all_h & _MASK).astype(np.int64)
    idx[-1] = 0  # bias feature
    idx.sort()
    first = np.empty(len(idx), dtype=bool)
    first[0] = True
    np.not_equal(idx[1:], idx[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    uniq = idx[starts]
    counts = np.diff(np.append(starts, len(idx)))
    vals = np.log1p(counts).astype(np.float32)
    vals /= np.float32(np.sqrt(np.dot(vals, vals)))
    return uniq, vals, token_h
