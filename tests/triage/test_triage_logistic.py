"""The spam filter's solver: Newton-CG reaches the minimum of liblinear's objective."""

import numpy as np

from agent.triage.features import featurize
from agent.triage.linear import SparseRows, nb_ratio
from agent.triage.logistic import fit_logistic
from agent.triage.training import _binary_fit

TEXTS = [
    ("free followers click here", 1),
    ("win a free iphone now", 1),
    ("check out my channel subscribe", 1),
    ("cheap followers dm me", 1),
    ("where is my order", 0),
    ("my refund never arrived", 0),
    ("love this song", 0),
    ("the app crashes when I log in", 0),
    ("free shipping on my order?", 0),
    ("subscribe button is broken", 0),
]


def _problem() -> tuple[SparseRows, np.ndarray, np.ndarray]:
    x = SparseRows.stack([featurize(t) for t, _ in TEXTS])
    y = np.array([label for _, label in TEXTS])
    weights = np.linspace(0.5, 1.5, len(TEXTS))
    return x, y, weights


def _dense(x: SparseRows) -> np.ndarray:
    dense = np.zeros((x.n_rows, int(x.cols.max()) + 1))
    for i in range(x.n_rows):
        a, b = x.indptr[i], x.indptr[i + 1]
        dense[i, x.cols[a:b]] = x.vals[a:b]
    return dense


def _objective_and_gradient(
    dense: np.ndarray, y: np.ndarray, s: np.ndarray, w: np.ndarray, b: float, c: float
) -> tuple[float, np.ndarray]:
    """liblinear's objective, written out densely and independently of the solver."""
    t = np.where(y == 1, 1.0, -1.0)
    s = c * s / s.mean()
    z = dense @ w + b
    f = 0.5 * (w @ w + b * b) + float(s @ np.log1p(np.exp(-t * z)))
    r = -s * t / (1.0 + np.exp(t * z))
    return f, np.append(w + dense.T @ r, b + r.sum())


def test_fit_reaches_the_minimum() -> None:
    x, y, s = _problem()
    dense = _dense(x)
    for c in (1.0, 100.0):
        model = fit_logistic(x, y, ("ham", "spam"), s, c=c)
        w = model.weights[: dense.shape[1], 1].astype(np.float64)
        b = float(model.bias[1])
        f, grad = _objective_and_gradient(dense, y, s, w, b, c)
        _, grad_zero = _objective_and_gradient(dense, y, s, np.zeros_like(w), 0.0, c)
        assert np.linalg.norm(grad) < 1e-3 * np.linalg.norm(grad_zero)
        rng = np.random.default_rng(0)
        for _ in range(20):  # every nearby point is worse
            dw = rng.normal(scale=1e-2, size=w.shape)
            assert _objective_and_gradient(dense, y, s, w + dw, b, c)[0] > f
        assert not model.weights[:, 0].any()  # the ham logit stays 0


def test_fit_is_deterministic_and_separates_the_training_rows() -> None:
    x, y, s = _problem()
    a = fit_logistic(x, y, ("ham", "spam"), s, c=100.0)
    b = fit_logistic(x, y, ("ham", "spam"), s, c=100.0)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)
    assert (a.proba_many(x)[:, 1] >= 0.5).astype(int).tolist() == y.tolist()


def test_weaker_regularization_trusts_the_rows_more() -> None:
    x, y, s = _problem()
    margins = []
    for c in (0.1, 1.0, 10.0):
        p = fit_logistic(x, y, ("ham", "spam"), s, c=c).proba_many(x)[:, 1]
        margins.append(float(np.mean(np.where(y == 1, p, 1 - p))))
    assert margins[0] < margins[1] < margins[2]


def test_spam_fit_folds_the_naive_bayes_scale_into_the_weights() -> None:
    x, y, s = _problem()
    model = _binary_fit(30.0)(x, y, ("ham", "spam"), s)
    scale = nb_ratio(x, y, s)
    scaled = SparseRows(x.indptr, x.cols, x.vals * scale[x.cols])
    plain = fit_logistic(scaled, y, ("ham", "spam"), s, c=30.0)
    # the shipped model scores raw features exactly as the plain fit scores scaled ones
    assert np.allclose(model.logits_many(x), plain.logits_many(scaled), atol=1e-4)
    assert not np.allclose(model.weights, plain.weights)
    assert model.c == 30.0
