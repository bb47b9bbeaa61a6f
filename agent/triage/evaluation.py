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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agent.triage.config import TriageConfig, load_config
from agent.triage.models import TriageInput
from agent.triage.pipeline import Pipeline
from agent.triage.training import (
    BITEXT_TO_INTENT,
    DATA_DIR,
    INTENTS,
    SPAM_PRECISION,
    read_bitext,
    read_own_examples,
    read_youtube,
    train_spam_model,
    vectorize,
)

NOTES_PATH = DATA_DIR / "eval-notes.md"  # "How to read these numbers": the team's notes

EVAL_STAGES = ["normalize", "spam", "intent", "stop_rules", "priority", "routing", "draft"]


@dataclass
class ClassReport:
    labels: list[str]
    gold: list[str]
    pred: list[str]
    rows: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for label in self.labels:
            tp = sum(1 for g, p in zip(self.gold, self.pred, strict=True) if g == p == label)
            n_pred = sum(1 for p in self.pred if p == label)
            n_gold = sum(1 for g in self.gold if g == label)
            prec = tp / n_pred if n_pred else 0.0
            rec = tp / n_gold if n_gold else 0.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
            self.rows[label] = (prec, rec, f1, n_gold)

    @property
    def accuracy(self) -> float:
        return float(np.mean([g == p for g, p in zip(self.gold, self.pred, strict=True)]))

    @property
    def macro_f1(self) -> float:
        present = [r[2] for r in self.rows.values() if r[3] > 0]
        return float(np.mean(present)) if present else 0.0

    def table(self) -> str:
        lines = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, (p, r, f, n) in self.rows.items():
            if n or any(x == label for x in self.pred):
                lines.append(f"| {label} | {p:.3f} | {r:.3f} | {f:.3f} | {n} |")
        return "\n".join(lines)

    def confusion(self) -> str:
        labels = [lab for lab in self.labels if lab in self.gold or lab in self.pred]
        short = [lab[:8] for lab in labels]
        counts = Counter(zip(self.gold, self.pred, strict=True))
        lines = ["| gold \\ predicted | " + " | ".join(short) + " |"]
        lines.append("|---" * (len(labels) + 1) + "|")
        for g in labels:
            cells = [str(counts.get((g, p), 0) or ".") for p in labels]
            lines.append(f"| {g} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _pipeline(config: TriageConfig | None) -> Pipeline:
    base = config or load_config(None)
    return Pipeline(base.model_copy(update={"stages": EVAL_STAGES}))


def bootstrap_interval(
    gold: Sequence[str], pred: Sequence[str], label: str, n: int = 2000, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of ``label``'s precision and F1, resampling items.

    Tells how far the point estimate could move with other comments of the same kind
    (the videos are not resampled: five are too few for that).
    """
    g = np.array([x == label for x in gold])
    p = np.array([x == label for x in pred])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(g), size=(n, len(g)))
    tp = (g[draws] & p[draws]).sum(axis=1).astype(float)
    flagged = p[draws].sum(axis=1)
    positives = g[draws].sum(axis=1)
    precision = np.divide(tp, flagged, out=np.zeros(n), where=flagged > 0)
    f1 = np.divide(2 * tp, flagged + positives, out=np.zeros(n), where=flagged + positives > 0)
    return {
        name: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
        for name, v in (("precision", precision), ("f1", f1))
    }


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
    for video in videos:
        train = [e for e in youtube if e.group != video]
        if limit is not None:
            train = train[: limit * 8]
        test = [e for e in youtube if e.group == video][:limit]
        model = train_spam_model(own, train, bitext_train)
        p = model.proba_many(vectorize([e.text for e in test]))[:, model.classes.index("spam")]
        cut = threshold if threshold is not None else model.threshold
        fold_pred = ["spam" if x >= cut else "ham" for x in p]
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
MAX_CUSTOMER_DROP = 0.02  # the project's own bar: at most 2 in 100 real customers dropped


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
    md = _markdown(
        yt, bitext, clinc, own, customers, numbers, data, limit, time.perf_counter() - start
    )
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(md, encoding="utf-8")
    return md, numbers


def _check(value: float, target: float, at_most: bool = False) -> str:
    ok = value <= target if at_most else value >= target
    return "met" if ok else "**not met**"


def _summary_rows(n: dict[str, float], own: dict[str, object]) -> list[str]:
    flags = f"{own['flags_total']} flags on {own['sensitive']} sensitive items"
    rows = [
        ("YouTube spam F1 (leave-one-video-out)", "youtube_spam_f1", 0.95, ">= 0.95"),
        ("YouTube spam precision", "youtube_spam_precision", 0.97, ">= 0.97"),
        ("YouTube spam recall", "youtube_spam_recall", None, ""),
        ("Bitext macro F1 (held-out split)", "bitext_macro_f1", 0.95, ">= 0.95"),
        ("CLINC150 out-of-scope handled (general or review)", "clinc_oos_handled", None, ""),
        (
            f"Own held-out intent accuracy ({own['n']} items)",
            "heldout_intent_accuracy",
            0.85,
            ">= 0.85",
        ),
        (f"Own held-out stop-rule recall ({flags})", "heldout_stop_rule_recall", 1.0, "= 1.0"),
        (
            "Real customer tweets dropped (own bar, not in the issue)",
            "customer_tweets_dropped",
            MAX_CUSTOMER_DROP,
            f"<= {MAX_CUSTOMER_DROP}",
        ),
    ]
    out = []
    for label, key, target, shown in rows:
        at_most = shown.startswith("<=")
        verdict = _check(n[key], target, at_most) if target is not None else ""
        out.append(f"| {label} | {n[key]:.4f} | {shown} | {verdict} |")
    return out


def _interval_line(report: ClassReport) -> str:
    ci = bootstrap_interval(report.gold, report.pred, "spam")
    (p_lo, p_hi), (f_lo, f_hi) = ci["precision"], ci["f1"]
    return (
        f"95% bootstrap interval over the {len(report.gold)} comments: spam precision "
        f"{p_lo:.3f}-{p_hi:.3f}, spam F1 {f_lo:.3f}-{f_hi:.3f}."
    )


def _markdown(
    yt: dict[str, object],
    bitext: ClassReport,
    clinc: dict[str, object],
    own: dict[str, object],
    customers: dict[str, object],
    numbers: dict[str, float],
    data: Path,
    limit: int | None,
    seconds: float,
) -> str:
    yt_report, own_report = yt["report"], own["report"]
    assert isinstance(yt_report, ClassReport) and isinstance(own_report, ClassReport)
    folds = yt["folds"]
    assert isinstance(folds, list)
    misses = own["misses"]
    assert isinstance(misses, list)
    by_lang = own["by_lang"]
    assert isinstance(by_lang, dict)
    n = numbers
    sliced = f", first {limit} rows per set" if limit else ""
    out = [
        "# Triage evaluation",
        "",
        "Written by `inbox-agent eval triage` "
        f"(data: `{data.name}/`{sliced}; "
        f"{seconds:.0f} s). Re-run it to refresh; do not edit by hand.",
        "",
        "## Summary",
        "",
        "| measure | value | target | |",
        "|---|---|---|---|",
        *_summary_rows(n, own),
        "",
        "## YouTube Spam Collection, leave-one-video-out",
        "",
        "The spam filter is retrained for each fold on the other four videos plus the",
        "project's own examples and the Bitext training split (as not-spam; each",
        "not-spam source weighs the same). Its regularization C, spam class weight and drop",
        "threshold are chosen inside the fold by an inner leave-one-video-out over the",
        "four training videos: the threshold is the lowest reaching "
        f"{SPAM_PRECISION:.1%} precision",
        "on those out-of-video scores, and the candidate with the best F1 there wins.",
        "The test video is never read.",
        "",
        "| held-out video | C (nested) | spam weight (nested) | threshold | spam precision "
        "| spam recall | spam F1 | spam rows |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {v} | {c:g} | {w:g} | {t:.2f} | {p:.3f} | {r:.3f} | {f:.3f} | {s} |"
            for v, c, w, t, p, r, f, s in folds
        ],
        "",
        yt_report.table(),
        "",
        _interval_line(yt_report),
        "",
        yt_report.confusion(),
        "",
        "## Bitext mapped onto the taxonomy (held-out split)",
        "",
        f"Accuracy {bitext.accuracy:.3f}, macro F1 {bitext.macro_f1:.3f}.",
        "",
        bitext.table(),
        "",
        bitext.confusion(),
        "",
        "## CLINC150 out-of-scope",
        "",
        f"{clinc['n']} out-of-scope rows: {clinc['as_general']:.3f} classified `general`, "
        f"{clinc['low_confidence']:.3f} below the review threshold; "
        f"handled {clinc['handled']:.3f}.",
        f"Confidently classified as something else: {dict(clinc['confident_other'])}.",  # type: ignore[call-overload]
        "",
        "## Own held-out set",
        "",
        f"{own['n']} messages written by the team (en, es, pt, fr, de; typos, slang, emoji, "
        "sarcasm), never used for training.",
        "",
        f"Intent accuracy {own_report.accuracy:.3f}, macro F1 {own_report.macro_f1:.3f}.",
        "",
        "| language | accuracy | items |",
        "|---|---|---|",
        *[f"| {lang} | {acc:.3f} | {cnt} |" for lang, (acc, cnt) in by_lang.items()],
        "",
        own_report.table(),
        "",
        own_report.confusion(),
        "",
        "### Stop rules",
        "",
        f"- recall: {n['heldout_stop_rule_recall']:.3f} ({own['flags_total']} gold flags)",
        f"- sensitive items paused: {own['sensitive_paused']} of {own['sensitive']}; "
        f"with a draft: {own['sensitive_drafted']}",
        f"- non-sensitive items paused anyway: {own['false_pause']} of {own['non_sensitive']}",
        "",
        *(["Missed flags:", "", *[f"- {m}" for m in misses], ""] if misses else []),
        "## Real customer messages (drops)",
        "",
        f"{customers['n']} real inbound tweets from customers to brands (Customer Support on",
        "Twitter, CC BY-NC-SA 4.0: internal evaluation only, so no text from it appears here),",
        "run through the default pipeline as public comments. A drop loses a customer.",
        "",
        f"Dropped: {customers['dropped']:.4f}; actions: {customers['actions']}.",
        "",
        "## How to read these numbers",
        "",
        NOTES_PATH.read_text(encoding="utf-8").rstrip(),
    ]
    return "\n".join(out) + "\n"
