"""Model fitting with scikit-learn; the result is stored as plain coefficients.

The runtime (``agent.triage.linear``) scores with numpy only: a fitted
``LogisticRegression`` becomes a ``SoftmaxModel`` (weights, bias, temperature,
threshold), written to ``model.npz`` without pickles.

- ``fit_softmax``: multinomial logistic regression (SAG, seeded), the intent model;
- ``fit_binary``: L2 logistic regression with liblinear (penalized intercept), the
  spam filter and the "needs a person" heads, stored as the two-class case
  (logits ``[0, w.x + b]`` give the same probabilities);
- ``fit_temperature``: temperature scaling on a held-out fold (scipy's bounded
  scalar minimizer over the log-likelihood);
- ``nb_ratio``: the naive Bayes log-count ratio (Wang and Manning 2012, NBSVM),
  the spam filter's feature scaling;
- ``pick_threshold``: the lowest threshold reaching a precision floor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression

from agent.triage.features import N_FEATURES
from agent.triage.linear import SoftmaxModel, SparseRows, _softmax


def to_csr(x: SparseRows) -> sp.csr_matrix:
    return sp.csr_matrix(
        (x.vals.astype(np.float64), x.cols, x.indptr), shape=(x.n_rows, N_FEATURES)
    )


def _used(x: sp.csr_matrix) -> tuple[np.ndarray, sp.csr_matrix]:
    """The columns any row uses, and X over those only (lbfgs then keeps small arrays)."""
    used = np.unique(x.indices)
    return used, x[:, used]


def fit_softmax(
    x: SparseRows,
    y: np.ndarray,
    classes: Sequence[str],
    sample_weight: np.ndarray | None = None,
    c: float = 10.0,
    max_iter: int = 100,
) -> SoftmaxModel:
    """Multinomial logistic regression by SAG (lbfgs measured 8x slower here); seeded."""
    used, xu = _used(to_csr(x))
    sw = None if sample_weight is None else sample_weight / sample_weight.mean()
    clf = LogisticRegression(C=c, solver="sag", max_iter=max_iter, tol=1e-4, random_state=0)
    clf.fit(xu, y, sample_weight=sw)
    weights = np.zeros((N_FEATURES, len(classes)), dtype=np.float32)
    bias = np.zeros(len(classes), dtype=np.float32)
    present = clf.classes_.astype(int)
    if len(present) == 2:  # sklearn stores a binary fit as one column
        weights[used, present[1]] = clf.coef_[0]
        bias[present[1]] = clf.intercept_[0]
    else:
        weights[np.ix_(used, present)] = clf.coef_.T
        bias[present] = clf.intercept_
    if len(present) < len(classes):  # classes without rows are never predicted
        bias[np.setdiff1d(np.arange(len(classes)), present)] = -30.0
    return SoftmaxModel(classes, weights, bias)


def fit_binary(
    x: SparseRows,
    y: np.ndarray,
    classes: Sequence[str],
    sample_weight: np.ndarray,
    c: float = 1.0,
) -> SoftmaxModel:
    """liblinear's L2 logistic regression; class 1 of ``y`` is ``classes[1]``."""
    used, xu = _used(to_csr(x))
    clf = LogisticRegression(C=c, solver="liblinear", tol=1e-6, max_iter=1000)
    clf.fit(xu, y, sample_weight=sample_weight / sample_weight.mean())
    weights = np.zeros((N_FEATURES, 2), dtype=np.float32)
    weights[used, 1] = clf.coef_[0]
    return SoftmaxModel(classes, weights, np.array([0.0, clf.intercept_[0]], dtype=np.float32))


def fit_temperature(model: SoftmaxModel, x: SparseRows, y: np.ndarray) -> float:
    """Temperature minimizing held-out negative log-likelihood."""
    logits = model.logits_many(x).astype(np.float64)
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        p = _softmax(logits / np.exp(log_t))
        return float(-np.mean(np.log(p[rows, y] + 1e-12)))

    best = minimize_scalar(nll, bounds=(np.log(0.05), np.log(5.0)), method="bounded")
    return float(np.exp(best.x))


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
