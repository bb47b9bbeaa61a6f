"""Triage measured on the team's labelled real messages (``triage_dev.labels``).

Each message goes through the full pipeline (rules, learned scores, routing, drafts)
as a public comment, without the duplicate stage. Must-pause counts as held back when
the action is pause (or escalate without a draft); a false pause is a pause on a
message labelled not must-pause. Intervals: 95% percentile bootstrap over messages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agent.triage.models import Decision, TriageInput
from agent.triage.pipeline import Pipeline
from triage_dev.labels import Labelled

PRIORITY_P1 = "P1"


@dataclass
class RealResult:
    rows: list[Labelled]
    decisions: list[Decision]

    def _arr(self, fn: object) -> np.ndarray:
        return np.array([fn(r, d) for r, d in zip(self.rows, self.decisions, strict=True)])  # type: ignore[operator]

    @property
    def gold(self) -> list[str]:
        return [r.label.intent for r in self.rows]

    @property
    def pred(self) -> list[str]:
        return [d.intent for d in self.decisions]

    def must(self) -> np.ndarray:
        return self._arr(lambda r, d: r.label.must_pause)

    def held(self) -> np.ndarray:
        return self._arr(lambda r, d: held_back(d))

    def paused(self) -> np.ndarray:
        return self._arr(lambda r, d: d.action == "pause")

    def drafted(self) -> np.ndarray:
        return self._arr(lambda r, d: d.draft is not None)

    def gold_p1(self) -> np.ndarray:
        return self._arr(lambda r, d: r.label.priority == PRIORITY_P1)

    def pred_p1(self) -> np.ndarray:
        return self._arr(lambda r, d: d.priority == PRIORITY_P1)

    def dropped(self) -> np.ndarray:
        return self._arr(lambda r, d: d.action == "drop")

    def spam_gold(self) -> np.ndarray:
        return self._arr(lambda r, d: r.label.intent == "spam")


def held_back(d: Decision) -> bool:
    """What a must-pause message needs: paused, or escalated without a draft."""
    return d.action == "pause" or (d.action == "escalate" and d.draft is None)


CASES = Path(__file__).resolve().parents[1] / "tests" / "triage" / "cases" / "failure_kinds.yaml"


def load_cases() -> list[dict[str, Any]]:
    """The failure-kind cases (written from the label guide alone)."""
    data = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def case_input(i: int, case: dict[str, Any]) -> TriageInput:
    """A case as a public comment to its brand's account."""
    return TriageInput(
        f"case{i}", case["text"], "instagram", "comment", case.get("author", ""),
        account=case["brand"].lstrip("@"),
    )  # fmt: skip


def triage_real(pipe: Pipeline, rows: Sequence[Labelled]) -> RealResult:
    decisions = []
    for r in rows:
        pipe.reset()
        m = r.message
        decisions.append(pipe.triage(TriageInput(m.id, m.text, m.source, "comment", m.author)))
    return RealResult(list(rows), decisions)


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    labels = sorted(set(gold))
    f1s = []
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == p == lab)
        n_pred = sum(1 for p in pred if p == lab)
        n_gold = sum(1 for g in gold if g == lab)
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_gold if n_gold else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def _rate(num: np.ndarray, den: np.ndarray) -> float:
    return float(num[den].mean()) if den.any() else float("nan")


def headline(res: RealResult) -> dict[str, float]:
    must, held, paused = res.must(), res.held(), res.paused()
    return {
        "n": float(len(res.rows)),
        "intent_accuracy": float(
            np.mean([g == p for g, p in zip(res.gold, res.pred, strict=True)])
        ),
        "intent_macro_f1": macro_f1(res.gold, res.pred),
        "must_pause": float(must.sum()),
        "must_pause_recall": _rate(held, must),
        "false_pause_rate": _rate(paused, ~must),
        "must_pause_with_draft": float((must & res.drafted()).sum()),
        "p1_recall": _rate(res.pred_p1(), res.gold_p1()),
        "p1": float(res.gold_p1().sum()),
        "customers_dropped": _rate(res.dropped(), ~res.spam_gold()),
        # what blocking drafts near a stop costs: messages that need no person and got one
        "drafted_not_must": _rate(res.drafted(), ~must),
    }


def bootstrap(res: RealResult, n: int = 1000, seed: int = 0) -> dict[str, tuple[float, float]]:
    """95% intervals of the headline measures, resampling messages."""
    rng = np.random.default_rng(seed)
    size = len(res.rows)
    gold, pred = np.array(res.gold), np.array(res.pred)
    must, held, paused = res.must(), res.held(), res.paused()
    gp1, pp1 = res.gold_p1(), res.pred_p1()
    names = ("intent_macro_f1", "must_pause_recall", "false_pause_rate", "p1_recall")
    draws: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(n):
        i = rng.integers(0, size, size)
        draws["intent_macro_f1"].append(macro_f1(list(gold[i]), list(pred[i])))
        draws["must_pause_recall"].append(_rate(held[i], must[i]))
        draws["false_pause_rate"].append(_rate(paused[i], ~must[i]))
        draws["p1_recall"].append(_rate(pp1[i], gp1[i]))
    return {k: (float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5)))
            for k, v in draws.items()}  # fmt: skip


def misses(res: RealResult) -> list[tuple[str, str]]:
    """(id, what went wrong) for must-pause items not held back: ids only, no text."""
    out = []
    for r, d, m, h in zip(res.rows, res.decisions, res.must(), res.held(), strict=True):
        if m and not h:
            out.append((r.message.id, f"{'+'.join(r.label.families)} -> {d.action} {d.intent}"))
    return out


def by_language(res: RealResult) -> dict[str, tuple[float, int]]:
    n: Counter[str] = Counter()
    ok: Counter[str] = Counter()
    for r, d in zip(res.rows, res.decisions, strict=True):
        n[r.label.language] += 1
        ok[r.label.language] += d.intent == r.label.intent
    return {lang: (ok[lang] / c, c) for lang, c in n.most_common()}
