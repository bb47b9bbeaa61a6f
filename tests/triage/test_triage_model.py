"""Features and the shipped model: deterministic, calibrated, reproducible training."""

import numpy as np
import pytest

from agent.triage.features import N_FEATURES, featurize
from agent.triage.linear import SparseRows, load_models, load_shipped
from agent.triage.normalize import detect_language, fold, normalize
from triage_dev.fitting import fit_binary, fit_softmax, fit_temperature
from triage_dev.training import INTENTS, MODEL_PATH, PAUSE_HEADS


def test_features_are_deterministic_and_normalized() -> None:
    a = featurize(fold("Where is my ORDER?? 😡"))
    b = featurize(fold("Where is my ORDER?? 😡"))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[0].max() < N_FEATURES and abs(float(np.dot(a[1], a[1])) - 1) < 1e-5


def test_fold_and_language() -> None:
    assert fold(normalize("  RÜCKERSTATTUNG\u200b  bitte ")) == "ruckerstattung bitte"
    assert detect_language(fold("¿dónde está mi pedido? gracias")) == "es"
    assert detect_language(fold("wo ist meine Bestellung, bitte")) == "de"


def test_shipped_model_loads_with_taxonomy() -> None:
    models = load_models(MODEL_PATH, ("intent", "spam"))
    assert models["intent"].classes == list(INTENTS)
    assert models["spam"].classes == ["ham", "spam"]
    assert 0.05 <= models["intent"].temperature <= 5
    heads = load_shipped(MODEL_PATH).pause
    assert heads.classes == list(PAUSE_HEADS)
    # drafts are blocked from a lower "needs a person" score than the one that pauses
    assert 0 < heads.draft_block <= heads.thresholds[0] < 1


def test_training_is_reproducible_and_temperature_fits() -> None:
    texts = ["love it", "great thanks", "refund now", "money back please", "hi there"] * 3
    y = np.array([0, 0, 1, 1, 2] * 3)
    x = SparseRows.stack([featurize(t) for t in texts])
    classes = ["praise", "refund", "general"]
    m1 = fit_softmax(x, y, classes)
    m2 = fit_softmax(x, y, classes)
    assert np.array_equal(m1.weights, m2.weights)
    assert m1.proba_many(x).argmax(axis=1).tolist() == y.tolist()
    assert fit_temperature(m1, x, y) > 0


def test_binary_fit_is_the_two_class_case() -> None:
    texts = ["love it", "great thanks", "refund now", "money back please"] * 3
    y = np.array([0, 0, 1, 1] * 3)
    x = SparseRows.stack([featurize(t) for t in texts])
    model = fit_binary(x, y, ("no", "refund"), np.ones(len(y)), c=10.0)
    p = model.proba_many(x)[:, 1]
    assert (p[y == 1] > 0.5).all() and (p[y == 0] < 0.5).all()
    assert not model.weights[:, 0].any()  # logits [0, w.x + b]


def test_shape_features_read_the_unfolded_text() -> None:
    from agent.triage.features import _shape_tokens

    shout = _shape_tokens("CHECK OUT MY CHANNEL!!! sooo good 😍 $5 @bob #win", 10)
    for token in ("x", "rep", "caps", "emoji", "money", "mention", "tag"):
        assert f"§shape:{token}" in shout
    calm = _shape_tokens("is the USB cable included?", 5)
    assert "§shape:q" in calm and "§shape:caps" not in calm  # one acronym is not shouting
    assert featurize("hi", "HI THERE FRIEND")[0].tolist() != featurize("hi")[0].tolist()


def test_spam_threshold_keeps_its_logit_margin_under_temperature() -> None:
    from triage_dev.training import _at_temperature

    assert _at_temperature(0.5, 2.0) == 0.5
    assert _at_temperature(0.8, 1.0) == 0.8
    assert 0.5 < _at_temperature(0.8, 2.0) < 0.8


def test_character_ngrams_see_punctuation_and_links() -> None:
    link = set(featurize("check www.site.com/free now")[0].tolist())
    words = set(featurize("check www site com free now")[0].tolist())
    assert link != words and len(link - words) >= 5  # ".com/", "w.si"... are features


def test_spam_class_weight_scales_only_spam_rows() -> None:
    import numpy as np

    from triage_dev.training import Example, _spam_weights

    rows = [Example("a", "spam"), Example("b", "ham"), Example("c", "ham")]
    base = np.ones(3)
    w1, w2 = _spam_weights(rows, base, 1.0), _spam_weights(rows, base, 1.5)
    assert w2[0] == 1.5 * w1[0] and (w2[1:] == w1[1:]).all()


def test_nb_ratio_signs_and_unseen_features() -> None:
    from triage_dev.fitting import nb_ratio

    rows = [featurize("free followers click here"), featurize("where is my order")]
    x = SparseRows.stack(rows * 3)
    y = np.array([1, 0] * 3)
    ratio = nb_ratio(x, y, np.ones(6))
    spam_only = np.setdiff1d(rows[0][0], rows[1][0])
    ham_only = np.setdiff1d(rows[1][0], rows[0][0])
    assert (ratio[spam_only] > 0).all() and (ratio[ham_only] < 0).all()
    unseen = np.setdiff1d(np.arange(1000, 2000), np.concatenate([rows[0][0], rows[1][0]]))
    assert np.ptp(ratio[unseen]) == 0.0  # only the smoothing: one shared value
    assert abs(ratio[unseen][0]) < ratio[spam_only].min()


def test_feature_cache_featurizes_each_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from triage_dev import training

    cache = training.FeatureCache()
    texts = ["Where is my ORDER?? 😡", "free followers", "Where is my ORDER?? 😡"]
    x = cache(texts)
    for i, t in enumerate(texts):
        text = normalize(t)
        idx, vals = featurize(fold(text), text)
        assert np.array_equal(x.cols[x.indptr[i] : x.indptr[i + 1]], idx)
        assert np.array_equal(x.vals[x.indptr[i] : x.indptr[i + 1]], vals)
    assert len(cache._rows) == 2
    calls: list[str] = []
    original = training.featurize_text

    def counting(raw: str) -> tuple[np.ndarray, np.ndarray]:
        calls.append(raw)
        return original(raw)

    monkeypatch.setattr(training, "featurize_text", counting)
    cache(["free followers", "new text"])
    assert calls == ["new text"]  # only the text it had not seen
