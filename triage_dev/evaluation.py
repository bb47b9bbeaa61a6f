"""``inbox-agent eval triage``: measure the triage core on real labeled data.

- YouTube Spam Collection, leave-one-video-out: the spam filter is retrained for
  each fold without the test video (never tested on a video it trained on).
- Bitext mapped onto the taxonomy: the held-out split (``id % 5 == 0``), which
  the shipped model never saw.
- CLINC150 out-of-scope rows: counted as handled when the intent is ``general``
  or the confidence is below the review threshold (action review, no guess).
- The project's own held-out set (``data/heldout.jsonl``, never used for training):
  intent accuracy and stop-rule recall on its sensitive items.
- Real inbound customer tweets (Customer Support on Twitter, CC BY-NC-SA 4.0: read
  from the shared data for internal evaluation only, no text of it is written out):
  the share the default pipeline would drop. These are customers writing to brands,
  so every drop is a customer lost; the YouTube numbers cannot show this.

Intent numbers come from the full pipeline (rules included) without the duplicate
stage, so near-identical test rows do not drop each other.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from agent.triage.config import MODEL_PATH, STAGE_NAMES, TriageConfig, load_config
from agent.triage.linear import load_models
from agent.triage.models import TriageInput
from agent.triage.pipeline import CUSTOMER_MARGIN, Pipeline, customer_reading
from triage_dev.eval_report import ClassReport, render
from triage_dev.realtext import available
from triage_dev.training import (
    BITEXT_TO_INTENT,
    DATA_DIR,
    INTENTS,
    FeatureCache,
    read_bitext,
    read_own_examples,
    read_real,
    read_youtube,
    train_spam_model,
)

# every default stage but the duplicate check (near-identical test rows must not drop each
# other) and the corrections (a workspace's own)
EVAL_STAGES = [s for s in STAGE_NAMES if s not in ("duplicates", "corrections")]


def _pipeline(config: TriageConfig | None) -> Pipeline:
    base = config or load_config(None)
    return Pipeline(base.model_copy(update={"stages": EVAL_STAGES}))


def eval_youtube(
    data: Path, threshold: float | None, limit: int | None = None
) -> dict[str, object]:
    youtube = read_youtube(data / "youtube_spam")
    if not youtube:
        raise FileNotFoundError(f"{data / 'youtube_spam'}: no Youtube0*.csv files")
    own = read_own_examples()
    bitext_train, _ = read_bitext(DATA_DIR / "open" / "bitext_customer_support_train_4514.csv")
    videos = sorted({e.group for e in youtube})
    if limit is not None:  # a quick slice (tests): two folds, small training sets
        videos, own, bitext_train = videos[:2], own[::4], bitext_train[: limit * 4]
    gold: list[str] = []
    pred: list[str] = []
    folds = []
    features = FeatureCache()  # the folds share most of their rows
    intents = load_models(MODEL_PATH, ("intent",))["intent"]
    # the shipped filter also learns from the real development messages (as customers)
    real = read_real("dev") if available() else []
    if limit is not None:
        real = real[: limit * 4]
    for video in videos:
        train = [e for e in youtube if e.group != video]
        if limit is not None:
            train = train[: limit * 8]
        test = [e for e in youtube if e.group == video][:limit]
        model = train_spam_model(own, train, bitext_train, features, real)
        x_test = features([e.text for e in test])
        p = model.proba_many(x_test)[:, model.classes.index("spam")]
        cut = threshold if threshold is not None else model.threshold
        # as in the pipeline: a comment the intent model reads as a customer's problem is
        # never dropped (the shipped intent model never saw a YouTube comment)
        kept = [customer_reading(row, intents.classes) is not None
                for row in intents.proba_many(x_test)]  # fmt: skip
        near = [cut <= x < cut + CUSTOMER_MARGIN for x in p]
        fold_pred = [
            "spam" if x >= cut and not (k and n) else "ham"
            for x, k, n in zip(p, kept, near, strict=True)
        ]
        fold = ClassReport(["spam", "ham"], [e.label for e in test], fold_pred)
        folds.append((video.split(":", 1)[1], model.c, model.spam_weight, cut, *fold.rows["spam"]))
        gold += [e.label for e in test]
        pred += fold_pred
    return {"report": ClassReport(["spam", "ham"], gold, pred), "folds": folds}


def _intents(
    pipe: Pipeline, texts: Sequence[str], kind: str = "dm"
) -> list[tuple[str, float, str]]:
    pipe.reset()  # no author of an earlier set is known here
    out = []
    for i, text in enumerate(texts):
        d = pipe.triage(
            # one author per row: every author is new, so none is trusted as a known customer
            TriageInput(id=str(i), text=text, platform="eval", kind=kind, author=f"eval-{i}")
        )
        out.append((d.intent, d.confidence, d.action))
    return out


def eval_bitext(data: Path, pipe: Pipeline, limit: int | None = None) -> ClassReport:
    _, test = read_bitext(data / "intents" / "bitext_customer_support_train_4514.csv")
    test = test[:limit]
    pred = _intents(pipe, [e.text for e in test])
    labels = sorted(set(BITEXT_TO_INTENT.values()))
    return ClassReport(
        labels + ["other"],
        [e.label for e in test],
        [p[0] if p[0] in labels else "other" for p in pred],
    )


def eval_clinc(data: Path, pipe: Pipeline, limit: int | None = None) -> dict[str, object]:
    with (data / "intents" / "clinc150_test_sample.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r["text"] for r in csv.DictReader(fh) if r["scope"] != "in_scope"][:limit]
    pred = _intents(pipe, rows)
    threshold = pipe.config.thresholds.intent_review
    handled = [p[0] == "general" or p[1] < threshold for p in pred]
    return {
        "n": len(rows),
        "handled": float(np.mean(handled)) if rows else 0.0,
        "as_general": float(np.mean([p[0] == "general" for p in pred])) if rows else 0.0,
        "low_confidence": float(np.mean([p[1] < threshold for p in pred])) if rows else 0.0,
        "confident_other": Counter(p[0] for p, h in zip(pred, handled, strict=True) if not h),
    }


CUSTOMER_TWEETS = Path("tweets") / "twcs_inbound_random_2718.csv"


def eval_customers(data: Path, pipe: Pipeline, limit: int | None = None) -> dict[str, object]:
    """How many real inbound customer tweets the pipeline drops (spam filter), and how."""
    with (data / CUSTOMER_TWEETS).open(encoding="utf-8", newline="") as fh:
        rows = [r["text"] for r in csv.DictReader(fh) if r["text"].strip()][:limit]
    pred = _intents(pipe, rows, kind="comment")
    actions = Counter(p[2] for p in pred)
    return {
        "n": len(rows),
        "dropped": actions["drop"] / len(rows) if rows else 0.0,
        "actions": dict(sorted(actions.items())),
    }


def eval_heldout(pipe: Pipeline, path: Path = DATA_DIR / "heldout.jsonl") -> dict[str, object]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    gold: list[str] = []
    pred: list[str] = []
    misses: list[str] = []
    by_lang: Counter[str] = Counter()
    lang_ok: Counter[str] = Counter()
    flags_total = flags_found = sensitive = paused = drafted = false_pause = 0
    for row in rows:
        pipe.reset()
        d = pipe.triage(
            TriageInput(row["id"], row["text"], row["platform"], row["kind"], row["author"])
        )
        gold.append(row["intent"])
        pred.append(d.intent)
        by_lang[row["lang"]] += 1
        lang_ok[row["lang"]] += d.intent == row["intent"]
        fired = {reason.split(".", 1)[0] for reason in d.pause_reasons}
        if row["stop_rules"]:
            sensitive += 1
            paused += d.action == "pause"
            drafted += d.draft is not None
            for family in row["stop_rules"]:
                flags_total += 1
                if family in fired:
                    flags_found += 1
                else:
                    misses.append(f"{row['id']} {family}: {row['text']}")
        elif d.action == "pause":
            false_pause += 1
    report = ClassReport(list(INTENTS), gold, pred)
    return {
        "report": report,
        "n": len(rows),
        "stop_recall": flags_found / flags_total if flags_total else 1.0,
        "flags_total": flags_total,
        "sensitive": sensitive,
        "sensitive_paused": paused,
        "sensitive_drafted": drafted,
        "false_pause": false_pause,
        "non_sensitive": len(rows) - sensitive,
        "misses": misses,
        "by_lang": {lang: (lang_ok[lang] / n, n) for lang, n in sorted(by_lang.items())},
    }


def run(
    data: Path, report_path: Path | None, limit: int | None = None
) -> tuple[str, dict[str, float]]:
    """Run every evaluation; returns (markdown, headline numbers) and writes the report."""
    start = time.perf_counter()
    config = load_config(None)
    pipe = _pipeline(config)
    yt = eval_youtube(data, config.thresholds.spam_drop, limit)
    bitext = eval_bitext(data, pipe, limit)
    clinc = eval_clinc(data, pipe, limit)
    own = eval_heldout(pipe)
    customers = eval_customers(data, pipe, limit)
    real = None
    if available() and limit is None:
        from triage_dev import real_report
        from triage_dev.real_eval import headline

        evaluated = real_report.evaluate(pipe)
        real = real_report.render(evaluated)
        test = headline(evaluated.test)
    yt_report = yt["report"]
    own_report = own["report"]
    assert isinstance(yt_report, ClassReport) and isinstance(own_report, ClassReport)
    spam_p, spam_r, spam_f, _ = yt_report.rows["spam"]
    numbers = {
        "youtube_spam_precision": spam_p,
        "youtube_spam_recall": spam_r,
        "youtube_spam_f1": spam_f,
        "bitext_macro_f1": bitext.macro_f1,
        "clinc_oos_handled": float(clinc["handled"]),  # type: ignore[arg-type]
        "heldout_intent_accuracy": own_report.accuracy,
        "heldout_stop_rule_recall": float(own["stop_recall"]),  # type: ignore[arg-type]
        "customer_tweets_dropped": float(customers["dropped"]),  # type: ignore[arg-type]
    }
    if real is not None:
        numbers.update({f"real_test_{k}": v for k, v in test.items() if k != "n"})
    md = render(
        yt, bitext, clinc, own, customers, numbers, data, limit, time.perf_counter() - start,
        real,
    )  # fmt: skip
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(md, encoding="utf-8")
    return md, numbers
