"""Linear models over hashed features: stored coefficients and fast scoring.

A ``SoftmaxModel`` is a multinomial logistic regression; binary models (the spam
filter, the "needs a person" heads) are stored as the two-class case. They are
fitted with scikit-learn by the development package (``triage_dev.fitting``) and
shipped as plain arrays in ``model.npz`` (no pickles). Confidence is calibrated by
a temperature fitted on a held-out fold.

Scoring one item gathers a few hundred weight rows and sums them: a few
microseconds, no per-call overhead of a machine-learning library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.triage.errors import ModelError
from agent.triage.features import N_FEATURES


@dataclass
class SparseRows:
    """Rows of (indices, values) pairs, stacked CSR-style."""

    indptr: np.ndarray
    cols: np.ndarray
    vals: np.ndarray

    @classmethod
    def stack(cls, rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> SparseRows:
        lengths = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=len(rows))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        cols = np.concatenate([r[0] for r in rows]).astype(np.int64)
        vals = np.concatenate([r[1] for r in rows]).astype(np.float32)
        return cls(indptr, cols, vals)

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def take(self, rows: np.ndarray) -> SparseRows:
        return SparseRows.stack(
            [
                (
                    self.cols[self.indptr[i] : self.indptr[i + 1]],
                    self.vals[self.indptr[i] : self.indptr[i + 1]],
                )
                for i in rows
            ]
        )


class SoftmaxModel:
    """Multinomial logistic regression: ``weights`` (N_FEATURES x C), ``bias`` (C)."""

    def __init__(
        self,
        classes: Sequence[str],
        weights: np.ndarray,
        bias: np.ndarray,
        temperature: float = 1.0,
        threshold: float = 0.5,
    ) -> None:
        self.classes = list(classes)
        self.weights = weights.astype(np.float32, copy=False)
        self.bias = bias.astype(np.float32, copy=False)
        self.temperature = float(temperature)
        self.threshold = float(threshold)  # decision threshold of a binary model
        self.c: float | None = None  # the spam filter's C it was trained with (not saved)
        self.spam_weight: float | None = None  # spam class weight it was trained with (not saved)

    def logits(self, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        out: np.ndarray = vals @ self.weights[idx] + self.bias
        return out

    def proba(self, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        z = self.logits(idx, vals) / self.temperature
        z = np.exp(z - z.max())
        result: np.ndarray = z / z.sum()
        return result

    def logits_many(self, x: SparseRows) -> np.ndarray:
        return _forward(x, self.weights) + self.bias

    def proba_many(self, x: SparseRows) -> np.ndarray:
        return _softmax(self.logits_many(x) / self.temperature)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_classes": np.array(self.classes),
            f"{prefix}_weights": self.weights.astype(np.float16),
            f"{prefix}_bias": self.bias,
            f"{prefix}_temperature": np.array([self.temperature]),
            f"{prefix}_threshold": np.array([self.threshold]),
        }

    @classmethod
    def from_arrays(cls, data: dict[str, np.ndarray], prefix: str) -> SoftmaxModel:
        classes, weights = _classes_and_weights(data, prefix)
        try:
            bias = data[f"{prefix}_bias"]
            temperature = float(data[f"{prefix}_temperature"][0])
            threshold = float(data.get(f"{prefix}_threshold", np.array([0.5]))[0])
        except KeyError as exc:
            raise ModelError(f"model file has no {exc.args[0]!r} array") from exc
        return cls(classes, weights, bias, temperature, threshold)


def _classes_and_weights(data: dict[str, np.ndarray], prefix: str) -> tuple[list[str], np.ndarray]:
    """A model's class names and its (N_FEATURES x classes) weights, as float32."""
    try:
        classes = [str(c) for c in data[f"{prefix}_classes"]]
        weights = data[f"{prefix}_weights"]
    except KeyError as exc:
        raise ModelError(f"model file has no {exc.args[0]!r} array") from exc
    if weights.shape != (N_FEATURES, len(classes)):
        expected = (N_FEATURES, len(classes))
        raise ModelError(f"{prefix} weights have shape {weights.shape}, expected {expected}")
    return classes, weights.astype(np.float32)


class HeadsModel:
    """Independent logistic heads over the same features (multi-label): one column each.

    The "needs a person" score: head ``any`` says whether a message must pause, one head
    per stop-rule family says which family it is. ``thresholds`` are per head (that of
    ``any`` pauses); ``draft_block`` is the lower ``any`` score from which no draft is made.
    """

    def __init__(
        self,
        classes: Sequence[str],
        weights: np.ndarray,
        bias: np.ndarray,
        thresholds: np.ndarray,
        draft_block: float = 0.5,
    ) -> None:
        self.classes = list(classes)
        self.weights = weights.astype(np.float32, copy=False)
        self.bias = bias.astype(np.float32, copy=False)
        self.thresholds = thresholds.astype(np.float64, copy=False)
        self.draft_block = float(draft_block)

    def proba_many(self, x: SparseRows) -> np.ndarray:
        return sigmoid(_forward(x, self.weights) + self.bias)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_classes": np.array(self.classes),
            f"{prefix}_weights": self.weights.astype(np.float16),
            f"{prefix}_bias": self.bias,
            f"{prefix}_thresholds": self.thresholds,
            f"{prefix}_draft_block": np.array([self.draft_block]),
        }

    @classmethod
    def from_arrays(cls, data: dict[str, np.ndarray], prefix: str) -> HeadsModel:
        classes, weights = _classes_and_weights(data, prefix)
        try:
            bias, thresholds = data[f"{prefix}_bias"], data[f"{prefix}_thresholds"]
            draft_block = float(data[f"{prefix}_draft_block"][0])
        except KeyError as exc:
            raise ModelError(f"model file has no {exc.args[0]!r} array") from exc
        return cls(classes, weights, bias, thresholds, draft_block)


def save_models(path: Path, models: dict[str, SoftmaxModel | HeadsModel], meta: str) -> None:
    arrays: dict[str, np.ndarray] = {"meta": np.array([meta])}
    for prefix, model in models.items():
        arrays.update(model.arrays(prefix))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read model file: {exc}") from exc


def load_models(path: Path, prefixes: Sequence[str]) -> dict[str, SoftmaxModel]:
    data = _read(path)
    return {p: SoftmaxModel.from_arrays(data, p) for p in prefixes}


@dataclass(frozen=True)
class ShippedModels:
    """What ``model.npz`` holds: the intent model, the spam filter, the "needs a person"
    heads (``pause``)."""

    intent: SoftmaxModel
    spam: SoftmaxModel
    pause: HeadsModel


def load_shipped(path: Path) -> ShippedModels:
    """All three from one read of the file."""
    data = _read(path)
    return ShippedModels(
        SoftmaxModel.from_arrays(data, "intent"),
        SoftmaxModel.from_arrays(data, "spam"),
        HeadsModel.from_arrays(data, "pause"),
    )


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    result: np.ndarray = z / z.sum(axis=1, keepdims=True)
    return result


def _forward(x: SparseRows, w: np.ndarray) -> np.ndarray:
    gathered = np.take(w, x.cols, axis=0) * x.vals[:, None]
    out: np.ndarray = np.add.reduceat(gathered, x.indptr[:-1], axis=0)
    return out
