"""Near-duplicate clustering per workspace within a time window.

Each item's word set is summarized by an 8-value MinHash; four bands of two
values are looked up in a dict (locality-sensitive hashing), and a candidate
joins a cluster only when the Jaccard similarity of the word sets reaches the
configured threshold. The same outage complaint from forty people becomes one
cluster with a count; its first item is the case the others join (each member
stays an item of its own). A cluster remembers who wrote where (``authors``: author
and thread → the first item), so the same author repeating in the same thread is
told apart from another customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.triage.config import Dedup

_N_HASHES = 8
_BANDS = 4  # of two values each
_MASK = np.uint64((1 << 61) - 1)
_RNG = np.random.default_rng(20240501)  # fixed: the same text always gets the same signature
_A = _RNG.integers(1, 1 << 31, size=_N_HASHES, dtype=np.uint64)[:, None]
_B = _RNG.integers(0, 1 << 31, size=_N_HASHES, dtype=np.uint64)[:, None]


@dataclass
class Cluster:
    cluster_id: str
    first_id: str
    words: frozenset[int]
    size: int
    last_seen: float
    first_decision: Any = None  # the Decision of the first item, for intent/priority
    keys: list[tuple[int, int]] = field(default_factory=list)
    # (casefolded author, thread) -> the id of that author's first item in that thread
    authors: dict[tuple[str, str], str] = field(default_factory=dict)

    def repeat_of(self, author: str, thread: str | None) -> str | None:
        """The earlier item by ``author`` in ``thread`` (None: unknown author or thread)."""
        key = (author.strip().casefold(), thread or "")
        if not key[0] or not key[1]:
            return None
        return self.authors.get(key)

    def add_author(self, author: str, thread: str | None, item_id: str) -> None:
        key = (author.strip().casefold(), thread or "")
        if key[0] and key[1]:
            self.authors.setdefault(key, item_id)


@dataclass
class _Space:
    buckets: dict[tuple[int, int], list[Cluster]] = field(default_factory=dict)
    count: int = 0


class ClusterIndex:
    """Cluster state for many workspaces; ``assign`` is called once per item."""

    def __init__(self, dedup: Dedup) -> None:
        self.dedup = dedup
        self.window = dedup.window_minutes * 60.0
        self._spaces: dict[str, _Space] = {}
        self._seq = 0

    def reset(self) -> None:
        self._spaces.clear()

    def _signature(self, words: frozenset[int]) -> list[tuple[int, int]]:
        h = np.fromiter(words, dtype=np.uint64, count=len(words))
        m = ((_A * h + _B) & _MASK).min(axis=1).tolist()
        return [(band, m[2 * band] * 31 + m[2 * band + 1]) for band in range(_BANDS)]

    def assign(
        self, space_key: str, item_id: str, tokens: list[int], when: float, *, size: int = 1
    ) -> tuple[Cluster | None, bool]:
        """(cluster, is_duplicate); None when the text is too short to cluster.

        ``tokens`` are stable hashes of the item's words (``features.featurize_words``).
        ``size`` is the size a new cluster starts with (a stored case seeded back).
        """
        words = frozenset(tokens)
        if len(tokens) < self.dedup.min_tokens or len(words) < 2:
            return None, False
        space = self._spaces.setdefault(space_key, _Space())
        keys = self._signature(words)
        for key in keys:
            for cluster in space.buckets.get(key, ()):
                if when - cluster.last_seen > self.window:
                    continue
                inter = len(words & cluster.words)
                if inter / (len(words) + len(cluster.words) - inter) >= self.dedup.similarity:
                    cluster.size += 1
                    cluster.last_seen = max(cluster.last_seen, when)
                    return cluster, True
        self._seq += 1
        cluster = Cluster(f"c{self._seq}", item_id, words, size, when, keys=keys)
        for key in keys:
            space.buckets.setdefault(key, []).append(cluster)
        space.count += 1
        if space.count % 5000 == 0:
            self._prune(space, when)
        return cluster, False

    def _prune(self, space: _Space, now: float) -> None:
        for key in list(space.buckets):
            alive = [c for c in space.buckets[key] if now - c.last_seen <= self.window]
            if alive:
                space.buckets[key] = alive
            else:
                del space.buckets[key]
