"""Linear models over hashed features: training (numpy only) and fast scoring.

A ``SoftmaxModel`` is a multinomial logistic regression; the binary spam filter
is stored as the two-class case (it is fitted by ``logistic``). ``train_softmax``
(the intent model) is full-batch Adam on an L2-regularized log-loss with
per-example weights, started from zeros, so the same data in the same order
gives the same weights. Confidence is calibrated by temperature
scaling fitted on a held-out fold (``fit_temperature``).

Scoring one item gathers a few hundred weight rows and sums them: a few
microseconds, no per-call overhead of a machine-learning library.

``nb_ratio`` gives the naive Bayes log-count ratio of each feature (Wang and
Manning 2012, "Baselines and Bigrams", NBSVM): the spam filter is fitted on
features scaled by it (``training._binary_fit``, solver in ``logistic``).
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
        try:
            weights = data[f"{prefix}_weights"]
            classes = [str(c) for c in data[f"{prefix}_classes"]]
            bias = data[f"{prefix}_bias"]
            temperature = float(data[f"{prefix}_temperature"][0])
            threshold = float(data.get(f"{prefix}_threshold", np.array([0.5]))[0])
        except KeyError as exc:
            raise ModelError(f"model file has no {exc.args[0]!r} array") from exc
        if weights.shape != (N_FEATURES, len(classes)):
            expected = (N_FEATURES, len(classes))
            raise ModelError(f"{prefix} weights have shape {weights.shape}, expected {expected}")
        return cls(classes, weights.astype(np.float32), bias, temperature, threshold)


def save_models(path: Path, models: dict[str, SoftmaxModel], meta: str) -> None:
    arrays: dict[str, np.ndarray] = {"meta": np.array([meta])}
    for prefix, model in models.items():
        arrays.update(model.arrays(prefix))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


def load_models(path: Path, prefixes: Sequence[str]) -> dict[str, SoftmaxModel]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read model file: {exc}") from exc
    return {p: SoftmaxModel.from_arrays(data, p) for p in prefixes}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    result: np.ndarray = z / z.sum(axis=1, keepdims=True)
    return result


def _forward(x: SparseRows, w: np.ndarray) -> np.ndarray:
    gathered = np.take(w, x.cols, axis=0) * x.vals[:, None]
    out: np.ndarray = np.add.reduceat(gathered, x.indptr[:-1], axis=0)
    return out


class _Design:
    """The training matrix over the columns used in training, sorted by row and by column.

    Weights are kept class-major (C x used columns) during training, so the
    forward pass and the gradient are one 1-D gather and ``reduceat`` per class.
    """

    def __init__(self, x: SparseRows) -> None:
        self.n_rows = x.n_rows
        self.used, cols = np.unique(x.cols, return_inverse=True)
        self.cols = cols.astype(np.int64)
        self.vals = x.vals.astype(np.float32)
        self.starts = x.indptr[:-1]
        self.empty = np.flatnonzero(np.diff(x.indptr) == 0)
        rows = np.repeat(np.arange(x.n_rows), np.diff(x.indptr))
        order = np.argsort(self.cols, kind="stable")
        self.t_rows = rows[order]
        self.t_vals = self.vals[order]
        sorted_cols = self.cols[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = sorted_cols[1:] != sorted_cols[:-1]
        self.t_starts = np.flatnonzero(first)  # every used column occurs at least once

    def forward(self, wt: np.ndarray) -> np.ndarray:
        """X W for class-major weights ``wt`` (C x used): n_rows x C."""
        out = np.empty((self.n_rows, len(wt)), dtype=np.float32)
        for c, row in enumerate(wt):
            out[:, c] = np.add.reduceat(row[self.cols] * self.vals, self.starts)
        out[self.empty] = 0.0
        return out

    def backward(self, g: np.ndarray) -> np.ndarray:
        """X^T G, class-major: C x used."""
        out = np.empty((g.shape[1], len(self.used)), dtype=np.float32)
        for c in range(g.shape[1]):
            out[c] = np.add.reduceat(g[:, c][self.t_rows] * self.t_vals, self.t_starts)
        return out


def nb_ratio(
    x: SparseRows, y: np.ndarray, sample_weight: np.ndarray, alpha: float = 1.0
) -> np.ndarray:
    """Naive Bayes log-count ratio per feature: log(p_j / |p|) - log(q_j / |q|).

    ``p`` (``q``) sums the presence of each feature over the positive (negative)
    rows, each row counted with its weight relative to the mean weight, plus the
    smoothing ``alpha``. Features never seen share one ratio; their weight stays 0.
    """
    rows = np.repeat(np.arange(x.n_rows), np.diff(x.indptr))
    weight = (sample_weight / sample_weight.mean()).astype(np.float64)
    presence = (x.vals > 0) * weight[rows]
    pos = y[rows] == 1
    p = np.full(N_FEATURES, alpha)
    q = np.full(N_FEATURES, alpha)
    np.add.at(p, x.cols[pos], presence[pos])
    np.add.at(q, x.cols[~pos], presence[~pos])
    ratio: np.ndarray = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
    return ratio


def train_softmax(
    x: SparseRows,
    y: np.ndarray,
    classes: Sequence[str],
    sample_weight: np.ndarray | None = None,
    l2: float = 1e-5,
    steps: int = 160,
    lr: float = 0.1,
) -> SoftmaxModel:
    """Fit weights by full-batch Adam; deterministic for the same inputs."""
    n, c = x.n_rows, len(classes)
    sw = np.ones(n, dtype=np.float32) if sample_weight is None else sample_weight.astype(np.float32)
    sw = sw / sw.sum()
    onehot = np.zeros((n, c), dtype=np.float32)
    onehot[np.arange(n), y] = 1.0
    design = _Design(x)
    w = np.zeros((c, len(design.used)), dtype=np.float32)  # class-major, used columns only
    b = np.zeros(c, dtype=np.float32)
    m_w: np.ndarray = np.zeros_like(w)
    v_w: np.ndarray = np.zeros_like(w)
    m_b: np.ndarray = np.zeros_like(b)
    v_b: np.ndarray = np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        p = _softmax(design.forward(w) + b)
        g = (p - onehot) * sw[:, None]
        gw = design.backward(g)
        gw += l2 * w
        gb = g.sum(axis=0)
        m_w = beta1 * m_w + (1 - beta1) * gw
        v_w = beta2 * v_w + (1 - beta2) * gw * gw
        m_b = beta1 * m_b + (1 - beta1) * gb
        v_b = beta2 * v_b + (1 - beta2) * gb * gb
        corr1, corr2 = 1 - beta1**step, 1 - beta2**step
        w -= (lr * (m_w / corr1) / (np.sqrt(v_w / corr2) + eps)).astype(np.float32)
        b -= (lr * (m_b / corr1) / (np.sqrt(v_b / corr2) + eps)).astype(np.float32)
    full = np.zeros((N_FEATURES, c), dtype=np.float32)
    full[design.used] = w.T
    return SoftmaxModel(classes, full, b)


def fit_temperature(model: SoftmaxModel, x: SparseRows, y: np.ndarray) -> float:
    """Temperature minimizing held-out negative log-likelihood (grid search, deterministic)."""
    logits = model.logits_many(x)
    best_t, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.05), np.log(5.0), 120)):
        p = _softmax(logits / t)
        nll = float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def pick_threshold(p_pos: np.ndarray, is_pos: np.ndarray, min_precision: float) -> float:
    """Lowest threshold whose precision on a held-out fold reaches ``min_precision``.

    Lower thresholds catch more; the precision floor protects real customers.
    Falls back to 0.99 when no threshold reaches the floor.
    """
    for t in np.round(np.arange(0.30, 0.991, 0.01), 2):
        flagged = p_pos >= t
        if flagged.sum() >= 5 and float(is_pos[flagged].mean()) >= min_precision:
            return float(t)
    return 0.99
