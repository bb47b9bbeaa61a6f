"""The Markdown report of ``inbox-agent eval triage`` (docs/triage-eval.md).

``ClassReport`` holds per-class precision, recall and F1 with its table and
confusion matrix; ``bootstrap_interval`` says how far a number could move with
other items of the same kind; ``render`` writes the whole report, ending with the
team's notes (``data/eval-notes.md``). The measurements are in ``evaluation``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from triage_dev.training import DATA_DIR, SPAM_PRECISION

NOTES_PATH = DATA_DIR / "eval-notes.md"  # "How to read these numbers": the team's notes
MAX_CUSTOMER_DROP = 0.01  # issue 11: at most 1 in 100 real customers dropped


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
            "Real customer tweets dropped (all 2,718)",
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


def render(
    yt: dict[str, object],
    bitext: ClassReport,
    clinc: dict[str, object],
    own: dict[str, object],
    customers: dict[str, object],
    numbers: dict[str, float],
    data: Path,
    limit: int | None,
    seconds: float,
    real: list[str] | None = None,
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
        *(real or []),
        "## How to read these numbers",
        "",
        NOTES_PATH.read_text(encoding="utf-8").rstrip(),
    ]
    return "\n".join(out) + "\n"
