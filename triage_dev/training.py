"""Training data and the reproducible build of the shipped models (``triage train``).

Sources, in ``triage_dev/data`` (see ATTRIBUTION.md) and ``../shared/data``:

- ``examples.tsv``: the project's own labeled examples (14 intents, en/es/pt/fr/de);
- ``open/Youtube0*.csv``: the YouTube Spam Collection (spam filter);
- ``open/bitext_*.csv``: Bitext, mapped onto the taxonomy by ``BITEXT_TO_INTENT``;
  rows with ``id % 5 == 0`` are the evaluation split and never used here;
- the development part of the team's real labels (``triage_dev.labels``; texts from
  ``../shared/data``, skipped when it is not there). The test part is never read.

Models (fitted with scikit-learn, ``triage_dev.fitting``): the intent model (multinomial
logistic regression), the spam filter (logistic regression over naive-Bayes-scaled
features, NBSVM-style; ``C`` and drop threshold by an inner leave-one-video-out over the
YouTube videos it trains on, ``select_spam``) and the "needs a person" heads
(``train_pause_heads``: thresholds from out-of-fold scores on the real development part).

Everything is read in file order and fitted from zeros with fixed seeds, so a rebuild
gives the same weights. ``heldout.jsonl`` is never read by this module.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.triage.config import MODEL_PATH
from agent.triage.features import N_FEATURES, featurize_text
from agent.triage.linear import HeadsModel, SoftmaxModel, SparseRows, save_models
from agent.triage.normalize import fold, normalize
from triage_dev.fitting import (
    fit_binary,
    fit_softmax,
    fit_temperature,
    nb_ratio,
    pick_threshold,
)

DATA_DIR = Path(__file__).parent / "data"
__all__ = ["MODEL_PATH", "DATA_DIR"]

INTENTS = (
    "product_question",
    "order_issue",
    "billing_refund",
    "account_access",
    "bug_report",
    "outage",
    "complaint",
    "sales_lead",
    "partnership",
    "feature_request",
    "praise",
    "general",
    "spam",
    "safety",
)

BITEXT_TO_INTENT = {
    "cancel_order": "billing_refund",
    "check_cancellation_fee": "billing_refund",
    "get_refund": "billing_refund",
    "track_refund": "billing_refund",
    "check_refund_policy": "billing_refund",
    "payment_issue": "billing_refund",
    "check_invoice": "billing_refund",
    "get_invoice": "billing_refund",
    "track_order": "order_issue",
    "change_order": "order_issue",
    "change_shipping_address": "order_issue",
    "set_up_shipping_address": "order_issue",
    "create_account": "account_access",
    "delete_account": "account_access",
    "edit_account": "account_access",
    "switch_account": "account_access",
    "recover_password": "account_access",
    "registration_problems": "account_access",
    "complaint": "complaint",
    "place_order": "sales_lead",
    "check_payment_methods": "product_question",
    "delivery_options": "product_question",
    "delivery_period": "product_question",
    "review": "general",
    "contact_customer_service": "general",
    "contact_human_agent": "general",
    "newsletter_subscription": "general",
}

# The spam threshold is the lowest reaching this precision on unseen (inner-fold) videos:
# the target floor 0.97 plus a 0.005 margin. 0.98 (the earlier floor) gave up recall
# for precision the target does not ask for (see docs/triage-eval.md for both).
SPAM_PRECISION = 0.975
# Intent: the own-example weight comes from an earlier 3-fold cross-validation on the own
# examples (with the former Adam trainer: weight 16 best, 0.804 accuracy); C = 10 and the
# real-message weight were checked once by 3-fold cross-validation on the real development
# part (C 3, weight 8: macro F1 0.40) and not tuned further. Spam: C (liblinear's inverse
# regularization strength) and threshold by nested validation on the training videos only
# (``select_spam``).
SPAM_C = 100.0  # fallback when fewer than two training videos
SPAM_C_GRID = (10.0, 30.0, 100.0, 300.0, 1000.0)
# Weight of the spam class relative to not-spam (after balancing), chosen with C.
# The grid (1.0, 1.5) was measured: the inner selection chose 1.0 in every fold.
SPAM_WEIGHT_GRID = (1.0,)
INTENT_C = 10.0
OWN_WEIGHT = 16.0  # an own example counts as much as 16 Bitext rows (3-fold CV)
REAL_WEIGHT = 16.0  # a labelled real message (development part) likewise
SEED_NOTE = "deterministic: scikit-learn SAG (seeded) / liblinear from zeros, file order"


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    group: str = ""  # source and, for YouTube, the video (the leave-one-out unit)


def read_own_examples(path: Path = DATA_DIR / "examples.tsv") -> list[Example]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        intent, lang, text = line.split("\t", 2)
        out.append(Example(text, intent, f"own:{lang}"))
    return out


def read_youtube(folder: Path) -> list[Example]:
    out = []
    for path in sorted(folder.glob("Youtube0*.csv")):
        video = path.stem.split("-", 1)[-1]
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                label = "spam" if row["CLASS"].strip() == "1" else "ham"
                out.append(Example(row["CONTENT"], label, f"youtube:{video}"))
    return out


def read_bitext(path: Path) -> tuple[list[Example], list[Example]]:
    """(train, test) rows mapped onto the taxonomy; test is ``id % 5 == 0``."""
    train: list[Example] = []
    test: list[Example] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            ex = Example(
                row["instruction"], BITEXT_TO_INTENT[row["intent"]], f"bitext:{row['intent']}"
            )
            (test if int(row["id"]) % 5 == 0 else train).append(ex)
    return train, test


class FeatureCache:
    """Features of each distinct text, computed once.

    Nested selection reads the same texts about twenty times (every candidate,
    every inner fold) and the evaluation retrains once per video: featurizing them
    again each time was 40% of a training run.
    """

    def __init__(self) -> None:
        self._rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, texts: Sequence[str]) -> SparseRows:
        rows = self._rows
        for t in texts:
            if t not in rows:
                rows[t] = featurize_text(t)
        return SparseRows.stack([rows[t] for t in texts])


def vectorize(texts: Sequence[str]) -> SparseRows:
    return FeatureCache()(texts)


def _balanced_weights(labels: Sequence[str], base: np.ndarray) -> np.ndarray:
    weights = base.astype(np.float64).copy()
    for label in set(labels):
        mask = np.array([lab == label for lab in labels])
        weights[mask] /= weights[mask].sum()
    return weights


Fit = Callable[[SparseRows, np.ndarray, Sequence[str], np.ndarray], SoftmaxModel]


def _fit_calibrated(
    examples: Sequence[Example],
    classes: Sequence[str],
    base_weight: np.ndarray,
    fit: Fit,
    min_precision: float | None = None,
    positive_weight: float = 1.0,
    features: Callable[[Sequence[str]], SparseRows] = vectorize,
) -> SoftmaxModel:
    x = features([e.text for e in examples])
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[e.label] for e in examples])
    weights = _balanced_weights([e.label for e in examples], base_weight)
    if positive_weight != 1.0:  # binary: class 1 is the positive class
        weights[y == 1] *= positive_weight
    fold_mask = np.arange(len(examples)) % 5 == 2  # calibration fold: every fifth example
    train_idx, cal_idx = np.flatnonzero(~fold_mask), np.flatnonzero(fold_mask)
    probe = fit(x.take(train_idx), y[train_idx], classes, weights[train_idx])
    x_cal = x.take(cal_idx)
    temperature = fit_temperature(probe, x_cal, y[cal_idx])
    model = fit(x, y, classes, weights)
    model.temperature = temperature
    if min_precision is not None:  # binary: class 1 is the positive class
        probe.temperature = temperature
        p_pos = probe.proba_many(x_cal)[:, 1]
        model.threshold = pick_threshold(p_pos, y[cal_idx] == 1, min_precision)
    return model


def _binary_fit(c: float) -> Fit:
    """The spam filter's fit: logistic regression on naive-Bayes-scaled features.

    The scale (``nb_ratio``) comes from the rows of each fit and is folded into the
    returned weights, which then apply to unscaled features.
    """

    def fit(
        x: SparseRows, y: np.ndarray, classes: Sequence[str], weights: np.ndarray
    ) -> SoftmaxModel:
        scale = nb_ratio(x, y, weights)
        scaled = SparseRows(x.indptr, x.cols, x.vals * scale[x.cols])
        model = fit_binary(scaled, y, classes, weights, c=c)
        model.weights *= scale[:, None]
        model.c = c
        return model

    return fit


def _softmax_fit(c: float) -> Fit:
    def fit(
        x: SparseRows, y: np.ndarray, classes: Sequence[str], weights: np.ndarray
    ) -> SoftmaxModel:
        return fit_softmax(x, y, classes, weights, c=c)

    return fit


def _source_weight(e: Example) -> float:
    if e.group.startswith("own"):
        return OWN_WEIGHT
    if e.group.startswith("real"):
        return REAL_WEIGHT
    return 1.0


def train_intent_model(
    own: Sequence[Example],
    bitext_train: Sequence[Example],
    real: Sequence[Example] = (),
    c: float = INTENT_C,
    features: Callable[[Sequence[str]], SparseRows] = vectorize,
) -> SoftmaxModel:
    examples = list(own) + list(bitext_train) + list(real)
    base = np.array([_source_weight(e) for e in examples])
    return _fit_calibrated(examples, INTENTS, base, _softmax_fit(c), features=features)


def _spam_examples(
    own: Sequence[Example],
    youtube: Sequence[Example],
    bitext_train: Sequence[Example],
    real: Sequence[Example] = (),
) -> tuple[list[Example], np.ndarray]:
    """Spam training rows and base weights.

    Each source (own, YouTube, Bitext) weighs the same within not-spam: otherwise the
    many customer-service rows would make up most of it, and the filter would learn
    "not customer service = spam", flagging ordinary social comments ("love this
    song"). Within spam, an own example counts twice.
    """
    examples = [Example(e.text, "spam" if e.label == "spam" else "ham", e.group) for e in own]
    examples += list(youtube)
    examples += [Example(e.text, "ham", e.group) for e in bitext_train[::3]]
    # real customers (sarcastic, swearing, quoting prices, sharing links) are what the
    # filter must not drop: their not-spam messages join the own source. The few real
    # spam rows (brands' own promotions with links) are left out: with them, "thanks for
    # sorting it out!! https://t.co/..." read as spam. YouTube leave-one-video-out F1:
    # 0.9481 like this, 0.9496 with the spam rows, 0.9506 without real rows (which drop
    # 2.3% of the 1,800 team tweets; like this 0.0%).
    examples += [Example(e.text, "ham", f"own:{e.group}") for e in real if e.label != "spam"]
    sources = [e.group.split(":", 1)[0] for e in examples]
    ham_sizes = Counter(s for s, e in zip(sources, examples, strict=True) if e.label == "ham")
    n_ham = sum(ham_sizes.values())
    base = np.array(
        [
            n_ham / (len(ham_sizes) * ham_sizes[s])
            if e.label == "ham"
            else (2.0 if s == "own" else 1.0)
            for s, e in zip(sources, examples, strict=True)
        ]
    )
    return examples, base


def _f1_at(p_pos: np.ndarray, is_pos: np.ndarray, threshold: float) -> float:
    flagged = p_pos >= threshold
    tp = float((flagged & is_pos).sum())
    return 2 * tp / (flagged.sum() + is_pos.sum()) if tp else 0.0


@dataclass(frozen=True)
class SpamSelection:
    """What nested validation on the training videos chose for the spam filter."""

    c: float
    spam_weight: float
    threshold: float  # at temperature 1, on probabilities of models that never saw the video
    f1: dict[tuple[float, float], float]  # validation F1 of each candidate (C, spam weight)


def _spam_weights(examples: Sequence[Example], base: np.ndarray, spam_weight: float) -> np.ndarray:
    weights = _balanced_weights([e.label for e in examples], base)
    weights[np.array([e.label == "spam" for e in examples])] *= spam_weight
    return weights


def select_spam(
    own: Sequence[Example],
    youtube: Sequence[Example],
    bitext_train: Sequence[Example],
    features: FeatureCache | None = None,
    real: Sequence[Example] = (),
) -> SpamSelection | None:
    """Nested validation: regularization C, class weight and drop threshold judged on unseen videos.

    Inner leave-one-video-out: each candidate is trained without one training video
    (and without every fourth own and Bitext row) and scored on that video's
    comments. The threshold is the lowest
    reaching the precision floor on these pooled out-of-video scores, and the
    candidate with the best F1 at its threshold wins. Only the caller's training data
    is read, so an outer test video never influences any choice. None when there
    are fewer than two videos.
    """
    videos = sorted({e.group for e in youtube})
    if len(videos) < 2:
        return None
    features = features or FeatureCache()
    candidates = [(c, w) for c in SPAM_C_GRID for w in SPAM_WEIGHT_GRID]
    f1: dict[tuple[float, float], float] = {}
    thresholds: dict[tuple[float, float], float] = {}
    for c, spam_weight in candidates:
        p_all: list[np.ndarray] = []
        pos_all: list[np.ndarray] = []
        for part, video in enumerate(videos):
            train = [e for e in youtube if e.group != video]
            test = [e for e in youtube if e.group == video]
            keep = [e for i, e in enumerate(own) if i % 4 != part % 4]
            bitext_keep = [e for i, e in enumerate(bitext_train) if i % 4 != part % 4]
            real_keep = [e for i, e in enumerate(real) if i % 4 != part % 4]
            examples, base = _spam_examples(keep, train, bitext_keep, real_keep)
            x = features([e.text for e in examples])
            y = np.array([e.label == "spam" for e in examples], dtype=np.int64)
            weights = _spam_weights(examples, base, spam_weight)
            model = _binary_fit(c)(x, y, ("ham", "spam"), weights)
            p_all.append(model.proba_many(features([e.text for e in test]))[:, 1])
            pos_all.append(np.array([e.label == "spam" for e in test]))
        p, pos = np.concatenate(p_all), np.concatenate(pos_all)
        key = (c, spam_weight)
        thresholds[key] = pick_threshold(p, pos, SPAM_PRECISION)
        f1[key] = _f1_at(p, pos, thresholds[key])
    # ties: the stronger regularization (smaller C), then the smaller spam weight
    best = max(candidates, key=lambda k: (f1[k], -k[0], -k[1]))
    return SpamSelection(best[0], best[1], thresholds[best], f1)


def _at_temperature(threshold: float, temperature: float) -> float:
    """The same logit margin as ``threshold`` at temperature 1, as a calibrated probability."""
    t = min(max(threshold, 1e-6), 1 - 1e-6)
    margin = float(np.log(t / (1 - t)))
    return float(round(1.0 / (1.0 + np.exp(-margin / temperature)), 4))


def train_spam_model(
    own: Sequence[Example],
    youtube: Sequence[Example],
    bitext_train: Sequence[Example],
    features: FeatureCache | None = None,
    real: Sequence[Example] = (),
) -> SoftmaxModel:
    """The spam filter; C, class weight and threshold chosen by ``select_spam``.

    With fewer than two videos (quick test slices) it falls back to SPAM_C and a
    threshold from the calibration fold. ``features`` may be shared by callers that
    train several filters on overlapping rows (the evaluation's folds).
    """
    features = features or FeatureCache()
    chosen = select_spam(own, youtube, bitext_train, features, real)
    examples, base = _spam_examples(own, youtube, bitext_train, real)
    c = chosen.c if chosen else SPAM_C
    spam_weight = chosen.spam_weight if chosen else 1.0
    model = _fit_calibrated(
        examples,
        ("ham", "spam"),
        base,
        _binary_fit(c),
        min_precision=None if chosen else SPAM_PRECISION,
        positive_weight=spam_weight,
        features=features,
    )
    if chosen is not None:
        model.threshold = _at_temperature(chosen.threshold, model.temperature)
    model.spam_weight = spam_weight
    return model


def build(
    data_dir: Path = DATA_DIR, out: Path = MODEL_PATH, real: bool = True
) -> dict[str, SoftmaxModel | HeadsModel]:
    """Train the models from the training data and write ``out`` (model.npz).

    ``real``: include the development part of the team's labelled real messages (read
    from ``../shared/data``; skipped with a note when that folder is not there).
    """
    own = read_own_examples(data_dir / "examples.tsv")
    youtube = read_youtube(data_dir / "open")
    bitext_train, _ = read_bitext(data_dir / "open" / "bitext_customer_support_train_4514.csv")
    from triage_dev.realtext import available

    use_real = real and available()
    real_intents = read_real("dev") if use_real else []
    real_pauses = read_real_pauses("dev") if use_real else []
    features = FeatureCache()
    models: dict[str, SoftmaxModel | HeadsModel] = {
        "intent": train_intent_model(own, bitext_train, real_intents, features=features),
        "spam": train_spam_model(own, youtube, bitext_train, features, real_intents),
        "pause": train_pause_heads(own, bitext_train, real_pauses, features),
    }
    spam = models["spam"]
    assert isinstance(spam, SoftmaxModel)
    meta = (
        f"own={len(own)} youtube={len(youtube)} bitext_train={len(bitext_train)} "
        f"real_dev={len(real_intents)}; spam_c={spam.c}; {SEED_NOTE}"
    )
    save_models(out, models, meta)
    return models


# -- real messages (the team's labels; development part only) ---------------------------

PAUSE_HEADS = (
    "any", "private_data", "refund", "legal", "safety", "account_compromise", "press", "p1",
)  # fmt: skip
# the "p1" head raises an item to P1 (the guide's P1: safety, legal, compromise, outage,
# press): at the cheapest score, a missed P1 costing P1_MISS_COST false ones, within at most
# MAX_FALSE_P1 of the other messages raised, out of fold like the pause threshold
P1_FAMILIES = frozenset({"safety", "legal", "account_compromise", "press"})
P1_INTENTS = frozenset({"safety", "outage"})
P1_MISS_COST = 5.0
MAX_FALSE_P1 = 0.08
# Out of fold on the development part (rules and head together): the pause threshold is
# the one with the lowest cost, a missed must-pause costing MISS_COST false pauses (a false
# pause costs a reviewer a minute; a miss can cost a customer's safety), among those whose
# false-pause rate stays at MAX_FALSE_PAUSE; below it, drafts are blocked down to the
# score that still reaches PAUSE_RECALL of the must-pause messages.
MAX_FALSE_PAUSE = 0.15
MISS_COST = 10.0
PAUSE_RECALL = 0.98
PAUSE_C = 0.3  # measured out of fold on the development part (AUC 0.845 with the weight below)
PAUSE_REAL_WEIGHT = 48.0  # a labelled real message against a weakly labelled row (16: AUC 0.836)
# Bitext intents that ask for money back or a cancellation with money at stake (the label
# guide's refund bullet); every other Bitext row is a not-pause row.
BITEXT_REFUND = {"get_refund", "track_refund", "cancel_order"}


@dataclass(frozen=True)
class PauseExample:
    text: str
    families: frozenset[str]  # empty: no person needed
    group: str = ""
    p1: bool = False  # the guide's P1


def read_real(part: str = "dev") -> list[Example]:
    """The team's labelled real messages of one part as intent examples (group real:LANG)."""
    from triage_dev.labels import labelled

    return [Example(r.message.text, r.label.intent, f"real:{r.label.language}") for r in
            labelled(part)]  # fmt: skip


def read_real_pauses(part: str = "dev") -> list[PauseExample]:
    from triage_dev.labels import labelled

    return [PauseExample(r.message.text, frozenset(r.label.families), "real",
                         r.label.priority == "P1") for r in labelled(part)]  # fmt: skip


def weak_pauses(own: Sequence[Example], bitext_train: Sequence[Example]) -> list[PauseExample]:
    """Pause labels for rows nobody labelled for it: the deterministic rules' families (the
    own examples), a safety intent (safety), and Bitext's refund and cancellation asks."""
    from agent.triage import rules

    out = []
    for e in own:
        fams = {h.family for h in rules.run(fold(normalize(e.text)))}
        if e.label == "safety":
            fams.add("safety")
        p1 = e.label in P1_INTENTS or bool(fams & P1_FAMILIES)
        out.append(PauseExample(e.text, frozenset(fams), e.group, p1))
    for e in bitext_train:
        refund = e.group.split(":", 1)[-1] in BITEXT_REFUND
        out.append(PauseExample(e.text, frozenset({"refund"} if refund else ()), e.group))
    return out


def _head_target(e: PauseExample, head: str) -> int:
    if head == "p1":
        return int(e.p1)
    return int(bool(e.families) if head == "any" else head in e.families)


def fit_pause_heads(
    examples: Sequence[PauseExample],
    features: Callable[[Sequence[str]], SparseRows] = vectorize,
    thresholds: np.ndarray | None = None,
    draft_block: float = 0.5,
) -> HeadsModel:
    """One logistic head per entry of PAUSE_HEADS (liblinear, balanced classes; a real
    message counts PAUSE_REAL_WEIGHT times an own or Bitext row)."""
    x = features([e.text for e in examples])
    base = np.array([PAUSE_REAL_WEIGHT if e.group == "real" else 1.0 for e in examples])
    weights = np.zeros((N_FEATURES, len(PAUSE_HEADS)), dtype=np.float32)
    bias = np.full(len(PAUSE_HEADS), -30.0, dtype=np.float32)
    for k, head in enumerate(PAUSE_HEADS):
        y = np.array([_head_target(e, head) for e in examples])
        if y.sum() < 2:
            continue  # a head without examples never fires
        w = _balanced_weights([str(v) for v in y], base)
        model = fit_binary(x, y, ("no", head), w, c=PAUSE_C)
        weights[:, k], bias[k] = model.weights[:, 1], model.bias[1]
    if thresholds is None:
        thresholds = np.full(len(PAUSE_HEADS), 0.5)
    return HeadsModel(PAUSE_HEADS, weights, bias, thresholds, draft_block)


def pause_thresholds(
    real: Sequence[PauseExample],
    other: Sequence[PauseExample],
    features: Callable[[Sequence[str]], SparseRows],
    folds: int = 5,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Thresholds from out-of-fold scores on the real rows (rules and ``any`` together).

    Returns (thresholds: ``any`` pauses at the cheapest score (MISS_COST) keeping false
    pauses at MAX_FALSE_PAUSE, family heads only name the family; the draft block: the
    highest score still reaching PAUSE_RECALL; the out-of-fold scores)."""
    from agent.triage import rules

    oof = np.zeros((len(real), len(PAUSE_HEADS)))
    if len(real) < folds or not any(e.families for e in real):
        # no real labels (no ../shared/data): nothing to choose on, the plain defaults
        return np.full(len(PAUSE_HEADS), 0.5), 0.25, oof
    for f in range(folds):
        train = [e for i, e in enumerate(real) if i % folds != f] + list(other)
        held = [i for i in range(len(real)) if i % folds == f]
        heads = fit_pause_heads(train, features)
        oof[held] = heads.proba_many(features([real[i].text for i in held]))
    fired = [{h.family for h in rules.run(fold(normalize(e.text)))} for e in real]
    ruled = np.array([bool(f) for f in fired])
    must = np.array([bool(e.families) for e in real])
    thresholds = np.full(len(PAUSE_HEADS), 0.5)
    p = oof[:, 0]
    grid = np.round(np.arange(0.02, 0.99, 0.01), 2)
    flagged = [ruled | (p >= t) for t in grid]
    allowed = [
        (MISS_COST * float((must & ~f).sum()) + float((~must & f).sum()), t)
        for t, f in zip(grid, flagged, strict=True)
        if float(f[~must].mean()) <= MAX_FALSE_PAUSE
    ]
    thresholds[0] = min(allowed)[1] if allowed else 0.99
    recall_at = [float(f[must].mean()) for f in flagged]
    block = max((t for t, r in zip(grid, recall_at, strict=True) if r >= PAUSE_RECALL),
                default=0.02)  # fmt: skip
    p1 = PAUSE_HEADS.index("p1")
    by_rule = np.array([bool(f & P1_FAMILIES) for f in fired])
    thresholds[p1] = _p1_threshold(np.array([e.p1 for e in real]), by_rule, oof[:, p1])
    return thresholds, float(min(block, thresholds[0])), oof


def _p1_threshold(gold: np.ndarray, by_rule: np.ndarray, p: np.ndarray) -> float:
    """The cheapest ``p1`` score (P1_MISS_COST) raising at most MAX_FALSE_P1 of the rest,
    on top of what the rules already raise."""
    grid = np.round(np.arange(0.02, 0.99, 0.01), 2)
    costs = []
    for t in grid:
        raised = by_rule | (p >= t)
        if float(raised[~gold].mean()) <= MAX_FALSE_P1:
            miss, false = float((gold & ~raised).sum()), float((~gold & raised).sum())
            costs.append((P1_MISS_COST * miss + false, t))
    return float(min(costs)[1]) if costs else 0.99


def train_pause_heads(
    own: Sequence[Example],
    bitext_train: Sequence[Example],
    real: Sequence[PauseExample],
    features: Callable[[Sequence[str]], SparseRows] = vectorize,
) -> HeadsModel:
    other = weak_pauses(own, bitext_train)
    thresholds, block, _ = pause_thresholds(real, other, features)
    return fit_pause_heads(list(real) + other, features, thresholds, block)
