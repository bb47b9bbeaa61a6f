"""``inbox-agent eval triage`` on a small slice of the shared data (skipped without it)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.commands.evaluate import REPO, app

DATA = REPO.parent / "shared" / "data"


@pytest.mark.skipif(not (DATA / "youtube_spam").is_dir(), reason="shared data not present")
def test_eval_small_slice_writes_report(tmp_path: Path) -> None:
    report = tmp_path / "eval.md"
    result = CliRunner().invoke(app, ["triage", "--limit", "15", "--report", str(report)])
    assert result.exit_code == 0, result.output
    text = report.read_text()
    headings = ("YouTube Spam Collection", "Bitext", "CLINC150", "Own held-out", "Stop rules")
    for heading in (*headings, "Real customer messages"):
        assert heading in text
    assert "heldout_stop_rule_recall: 1.0000" in result.output
    assert "customer_tweets_dropped: " in result.output


def test_eval_needs_data(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["triage", "--data", str(tmp_path)])
    assert result.exit_code != 0


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_data() -> None:
    from triage_dev.eval_report import bootstrap_interval

    gold = ["spam", "ham"] * 50
    pred = ["spam", "ham"] * 45 + ["ham", "spam"] * 5  # 90% right: P = R = F1 = 0.9
    small = bootstrap_interval(gold, pred, "spam")
    big = bootstrap_interval(gold * 20, pred * 20, "spam")
    for name in ("precision", "f1"):
        lo, hi = small[name]
        assert lo < 0.9 < hi
        assert big[name][1] - big[name][0] < (hi - lo) / 2
    perfect = bootstrap_interval(gold, gold, "spam")
    assert perfect["f1"] == (1.0, 1.0)
