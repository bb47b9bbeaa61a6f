"""Binary logistic regression fitted to convergence by Newton's method (the spam filter).

The objective is liblinear's L2-regularized logistic regression with a
penalized intercept (sklearn's ``LogisticRegression(solver="liblinear")``)::

    0.5 * (|w|^2 + b^2) + C * sum_i s_i * log(1 + exp(-t_i * (x_i . w + b)))

with per-row weights ``s`` rescaled to mean 1 and labels ``t`` in {-1, +1}. It is
strictly convex, so the fit is *the* minimum, not wherever a step budget ran
out: the regularization strength ``C`` alone decides how much the filter trusts
its training rows, and nested validation can choose it. (The Adam trainer in
``linear`` stops after a fixed number of steps; for weak regularization that is
far from converged, and the spam filter measured better converged: see
docs/triage-eval.md.)

Newton-CG: each iteration solves H d = -g inexactly by conjugate gradients
(Hessian-vector products, never the Hessian), then backtracks along d until the
objective falls enough (Armijo). Float64, no randomness: the same rows in the
same order give the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agent.triage.features import N_FEATURES
from agent.triage.linear import SoftmaxModel, SparseRows

MAX_NEWTON = 60
MAX_CG = 60
TOL = 1e-5  # stop when the gradient norm has shrunk this much from its value at zero


class _Rows:
    """X over the used columns only, plus the intercept column, as float64 CSR."""

    def __init__(self, x: SparseRows) -> None:
        self.used, cols = np.unique(x.cols, return_inverse=True)
        self.cols = cols.astype(np.int64)
        self.vals = x.vals.astype(np.float64)
        self.rows = np.repeat(np.arange(x.n_rows), np.diff(x.indptr))
        self.n_rows, self.n_cols = x.n_rows, len(self.used)

    def dot(self, w: np.ndarray) -> np.ndarray:
        """X w + b for ``w`` = (weights of the used columns, intercept)."""
        out = np.bincount(self.rows, self.vals * w[self.cols], minlength=self.n_rows)
        result: np.ndarray = out + w[-1]
        return result

    def tdot(self, g: np.ndarray) -> np.ndarray:
        """X^T g, with the intercept's entry (the sum of g) last."""
        out = np.bincount(self.cols, self.vals * g[self.rows], minlength=self.n_cols)
        return np.append(out, g.sum())


def _loss(z: np.ndarray, t: np.ndarray, s: np.ndarray) -> float:
    return float(s @ np.logaddexp(0.0, -t * z))


def fit_logistic(
    x: SparseRows,
    y: np.ndarray,
    classes: Sequence[str],
    sample_weight: np.ndarray | None = None,
    c: float = 100.0,
) -> SoftmaxModel:
    """A converged binary model (class 1 positive) as a two-class ``SoftmaxModel``.

    The negative class keeps zero weights, so the softmax over the two logits is
    the logistic function of the positive one.
    """
    rows = _Rows(x)
    t = np.where(y == 1, 1.0, -1.0)
    s = np.ones(x.n_rows) if sample_weight is None else sample_weight.astype(np.float64)
    s = c * s / s.mean()
    w = np.zeros(rows.n_cols + 1)

    def objective(w: np.ndarray, z: np.ndarray) -> float:
        return 0.5 * float(w @ w) + _loss(z, t, s)

    z = rows.dot(w)
    f = objective(w, z)
    g0 = None
    for _ in range(MAX_NEWTON):
        sig = 1.0 / (1.0 + np.exp(-t * z))  # P(the row's own label)
        grad = w + rows.tdot(s * (sig - 1.0) * t)
        norm = float(np.sqrt(grad @ grad))
        g0 = norm if g0 is None else g0
        if norm <= TOL * g0:
            break
        curvature = s * sig * (1.0 - sig)
        step = _newton_step(rows, curvature, -grad, norm)
        slope = float(grad @ step)
        alpha = 1.0
        while True:  # Armijo backtracking; a Newton step is usually taken whole
            w_new = w + alpha * step
            z_new = rows.dot(w_new)
            f_new = objective(w_new, z_new)
            if f_new <= f + 1e-4 * alpha * slope or alpha < 1e-8:
                break
            alpha *= 0.5
        w, z, f = w_new, z_new, f_new
    weights = np.zeros((N_FEATURES, 2), dtype=np.float32)
    weights[rows.used, 1] = w[:-1]
    return SoftmaxModel(classes, weights, np.array([0.0, w[-1]], dtype=np.float32))


def _newton_step(rows: _Rows, curvature: np.ndarray, b: np.ndarray, grad_norm: float) -> np.ndarray:
    """Approximately solve H d = b by conjugate gradients (inexact Newton, forcing term).

    H v = v + X^T (curvature * X v): the Hessian is never formed.
    """
    tol = min(0.5, np.sqrt(grad_norm)) * grad_norm
    d = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = float(r @ r)
    for _ in range(MAX_CG):
        if np.sqrt(rr) <= tol:
            break
        hp = p + rows.tdot(curvature * rows.dot(p))
        alpha = rr / float(p @ hp)
        d += alpha * p
        r -= alpha * hp
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return d
