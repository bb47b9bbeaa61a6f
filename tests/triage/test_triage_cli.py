"""``inbox-agent triage``: per-line decisions and errors; ``triage train`` on a tiny set."""

import json
from pathlib import Path

from typer.testing import CliRunner

from agent.commands.triage import app

runner = CliRunner()


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def good(i: str, text: str = "does it come in blue?") -> bytes:
    obj = {"id": i, "text": text, "platform": "instagram", "kind": "comment", "author": "a"}
    return json.dumps(obj).encode()


def test_good_and_bad_lines(tmp_path: Path) -> None:
    src = write_lines(
        tmp_path / "in.jsonl",
        [
            good("1"),
            b'{"id": "2", "text": "", "platform": "x", "kind": "dm", "author": "a"}',
            json.dumps(
                {"id": "3", "text": "a" * 1_000_000, "platform": "x", "kind": "dm"}
            ).encode(),
            b'{"id": "4", "text": "caf\xe9", "platform": "x", "kind": "dm"}',
            bytes(b for b in range(256) if b != 10),
            b'{"id": "6", "platform": "x", "kind": "dm"}',
            b"[1, 2, 3]",
            b'"just a string"',
            good("9", "love it"),
        ],
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["--input", str(src), "--output", str(out)])
    assert result.exit_code == 1
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 9
    assert rows[0]["id"] == "1" and rows[0]["intent"] == "product_question"
    assert rows[-1]["id"] == "9" and "action" in rows[-1]
    errors = {r["line"]: r["error"] for r in rows if "error" in r}
    assert set(errors) == {2, 3, 4, 5, 6, 7, 8}
    assert errors[2] == {"field": "text", "message": "is empty"}
    assert errors[3]["field"] in {"text", "line"}
    assert "UTF-8" in errors[4]["message"]
    assert errors[6] == {"field": "text", "message": "is missing"}
    assert "JSON object" in errors[7]["message"]
    stderr = result.stderr if result.stderr_bytes is not None else result.output
    assert f"{src}:2: text: is empty" in stderr
    assert f"{src}:6: text: is missing" in stderr


def test_all_good_exits_zero_to_stdout(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", [good("1"), b"", good("2", "refund me now")])
    result = runner.invoke(app, ["--input", str(src)])
    assert result.exit_code == 0
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert [x["id"] for x in lines] == ["1", "2"]
    assert lines[1]["action"] == "pause" and lines[1]["draft"] is None


def test_missing_input_is_a_user_error() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code != 0
    assert "--input" in str(result.exception)


def test_train_rebuilds_reproducibly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "open").mkdir(parents=True)
    rows = []
    for intent, texts in {
        "praise": ["love it", "amazing thanks", "best ever"],
        "spam": ["free money click", "sub4sub", "win iphone link in bio"],
        "order_issue": ["where is my order", "package never came", "wrong size arrived"],
    }.items():
        rows += [f"{intent}\ten\t{t}" for t in texts]
    (data / "examples.tsv").write_text("\n".join(rows) + "\n")
    (data / "open" / "Youtube01-Test.csv").write_text(
        "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n1,a,d,check my channel,1\n2,b,d,great song,0\n"
    )
    (data / "open" / "bitext_customer_support_train_4514.csv").write_text(
        "id,instruction,intent\n1,track my order,track_order\n2,I want a refund,get_refund\n"
        "5,cancel order,cancel_order\n"
    )
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for out in (a, b):
        result = runner.invoke(app, ["train", "--data", str(data), "--out", str(out)])
        assert result.exit_code == 0, result.output
    import numpy as np

    with np.load(a) as x, np.load(b) as y:
        assert set(x.files) == set(y.files)
        for key in x.files:
            assert np.array_equal(x[key], y[key])
