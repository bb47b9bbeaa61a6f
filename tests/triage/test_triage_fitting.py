"""The spam filter's fit: scikit-learn's liblinear on naive-Bayes-scaled features."""

import numpy as np

from agent.triage.features import featurize
from agent.triage.linear import SparseRows
from triage_dev.fitting import fit_binary, nb_ratio
from triage_dev.training import _binary_fit

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


def test_fit_is_deterministic_and_separates_the_training_rows() -> None:
    x, y, s = _problem()
    a = fit_binary(x, y, ("ham", "spam"), s, c=100.0)
    b = fit_binary(x, y, ("ham", "spam"), s, c=100.0)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)
    assert (a.proba_many(x)[:, 1] >= 0.5).astype(int).tolist() == y.tolist()


def test_weaker_regularization_trusts_the_rows_more() -> None:
    x, y, s = _problem()
    margins = []
    for c in (0.1, 1.0, 10.0):
        p = fit_binary(x, y, ("ham", "spam"), s, c=c).proba_many(x)[:, 1]
        margins.append(float(np.mean(np.where(y == 1, p, 1 - p))))
    assert margins[0] < margins[1] < margins[2]


def test_spam_fit_folds_the_naive_bayes_scale_into_the_weights() -> None:
    x, y, s = _problem()
    model = _binary_fit(30.0)(x, y, ("ham", "spam"), s)
    scale = nb_ratio(x, y, s)
    scaled = SparseRows(x.indptr, x.cols, x.vals * scale[x.cols])
    plain = fit_binary(scaled, y, ("ham", "spam"), s, c=30.0)
    # the shipped model scores raw features exactly as the plain fit scores scaled ones
    assert np.allclose(model.logits_many(x), plain.logits_many(scaled), atol=1e-4)
    assert not np.allclose(model.weights, plain.weights)
    assert model.c == 30.0
