"""The command line end to end: exit statuses, outputs, summaries and error messages.

A fake engine stands in for detection so these tests check the command line, not the
rules: it flags 涨停 (stock_tipping), marks 谣言 (financial_rumor, review only) and
raises on BOOM.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from qinglang import cli
from qinglang.model import CategoryScore, Entity, Hit, Post, Verdict
from qinglang.policy.loader import taxonomy
from qinglang.render.explain import explain_text

runner = CliRunner()

VERSIONS = {"engine": "fake-1", "packs": {"test": "1"}}


class FakeEngine:
    packs: ClassVar[list[Any]] = []

    def __init__(self, packs: list[str] | None = None, **model_options: Any) -> None:
        self.pack_args = packs

    @property
    def taxonomy(self) -> dict[str, Any]:
        return taxonomy()

    @property
    def versions(self) -> dict[str, Any]:
        return VERSIONS

    def detect(self, posts: Sequence[Post]) -> list[Verdict]:
        out = []
        for p in posts:
            if "BOOM" in p.text:
                raise RuntimeError("engine exploded")
            cats: list[CategoryScore] = []
            hits: list[Hit] = []
            ents: list[Entity] = []
            if "涨停" in p.text:
                i = p.text.index("涨停")
                cats.append(CategoryScore("stock_tipping", 0.9, "high", False, ["t.tip"]))
                hits.append(Hit("stock_tipping", "t.tip", "test", "1", "text", "涨停", i, i + 2, "涨停", 0.9))
            if "谣言" in p.text:
                cats.append(CategoryScore("financial_rumor", 0.6, "low", True, ["t.rumor"]))
            if "abc123" in p.text:
                i = p.text.index("abc123")
                ents.append(Entity("wechat", "wechat:abc123", "text", i, i + 6, "abc123"))
            severity = "high" if any(c.severity == "high" for c in cats) else ("low" if cats else "none")
            out.append(Verdict(p.id, cats, severity, any(c.review_only for c in cats), hits, ents,
                               VERSIONS, p.account_id, p.platform))
        return out


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "make_engine", FakeEngine)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def errors_of(rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(r["error"]["record"], r["error"]["code"]) for r in rows if "error" in r]


def usage_error(result: Any, code: str) -> None:
    assert result.exit_code == 2, result.output
    assert f"error {code}:" in result.stderr
    assert "Traceback" not in result.output


# --- scan: bad input, end to end --------------------------------------------------------


def test_scan_bad_records_each_become_an_error_and_the_run_goes_on(tmp_path: Path, fake: None) -> None:
    lines = [
        b'{"id": "good-1", "text": "\xe4\xbb\x8a\xe5\xa4\xa9\xe6\xb6\xa8\xe5\x81\x9c"}',  # 今天涨停
        b'{"id": "broken", "text": ',                        # malformed JSON
        b'{"id": "bytes", "text": "bad \xff\xfe"}',            # invalid UTF-8
        b'{"id": "notext"}',                                 # missing text
        b'{"id": "numtext", "text": 12345}',                 # non-string text
        b'{"id": "ctrl", "text": "a\\u0000b"}',              # control character
        b'{"id": "huge", "text": "' + b"a" * 10_000_001 + b'"}',  # 10 MB text
        b'{"id": "good-2", "text": "ok"}',
    ]
    src = tmp_path / "posts.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli.app, ["scan", str(src), "-o", str(out)])
    assert result.exit_code == 1, result.output
    rows = read_jsonl(out)
    assert len(rows) == len(lines)  # input records = verdicts + errors
    assert [r["id"] for r in rows] == ["good-1", None, None, "notext", "numtext", "ctrl", "huge", "good-2"]
    assert errors_of(rows) == [
        (2, "QL-1001"), (3, "QL-1002"), (4, "QL-1003"), (5, "QL-1004"), (6, "QL-1005"), (7, "QL-1006"),
    ]
    messages = {r["error"]["code"]: r["error"]["message"] for r in rows if "error" in r}
    assert "line 3" in messages["QL-1002"] and "0xff" in messages["QL-1002"]
    assert "'text' must be a string" in messages["QL-1004"]
    assert "U+0000 at position 1" in messages["QL-1005"]
    assert "10,000,001 characters" in messages["QL-1006"]
    assert rows[0]["flagged"] is True and rows[-1]["flagged"] is False
    summary = result.stdout
    assert "records" in summary and "QL-1006" in summary
    counts = next(line for line in summary.splitlines() if " s (" in line).split()
    assert counts[:5] == ["8", "2", "1", "0", "6"]


def test_scan_empty_file(tmp_path: Path, fake: None) -> None:
    src = tmp_path / "empty.jsonl"
    src.write_bytes(b"")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli.app, ["scan", str(src), "-o", str(out), "-q"])
    assert result.exit_code == 1
    assert read_jsonl(out) == [
        {"id": None, "error": {"code": "QL-1007", "message": f"{src} holds no records", "record": 0}}
    ]
    assert result.stdout == ""  # --quiet


def test_scan_csv_row_with_too_many_fields(tmp_path: Path, fake: None) -> None:
    src = tmp_path / "posts.csv"
    src.write_text("id,text\n1,涨停\n2,a,b\n3,fine\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(cli.app, ["scan", str(src), "-o", str(out)])
    assert result.exit_code == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [(r["id"], r["flagged"], r["error_code"], r["error_record"]) for r in rows] == [
        ("1", "true", "", ""), ("", "", "QL-1001", "2"), ("3", "false", "", ""),
    ]
    assert rows[0]["categories"] == "stock_tipping:0.9"
    assert "3 fields, the header has 2" in rows[1]["error_message"]


def test_scan_parquet_with_null_text(tmp_path: Path, fake: None) -> None:
    src = tmp_path / "posts.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "text": ["涨停", None, "ok"]}), src)
    out = tmp_path / "out.parquet"
    result = runner.invoke(cli.app, ["scan", str(src), "-o", str(out)])
    assert result.exit_code == 1
    rows = pq.read_table(out).to_pylist()
    assert [(r["id"], r["flagged"], r["error_code"], r["error_record"]) for r in rows] == [
        ("1", True, None, None), ("2", None, "QL-1003", 2), ("3", False, None, None),
    ]
    assert orjson.loads(rows[0]["verdict_json"])["hits"][0]["rule"] == "t.tip"


def test_scan_engine_failure_on_one_post(tmp_path: Path, fake: None) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "BOOM"}\n{"id": "c", "text": "y"}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli.app, ["scan", str(src), "-o", str(out)])
    assert result.exit_code == 1
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[1]["error"]["code"] == "QL-1010" and rows[1]["error"]["record"] == 2


# --- scan: happy paths ------------------------------------------------------------------


def test_scan_clean_run_exits_zero(tmp_path: Path, fake: None) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_text('{"id": 1, "text": "涨停"}\n{"id": 2, "text": "谣言"}\n{"id": 3, "text": "hi"}\n',
                   encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli.app, ["scan", str(src), "-o", str(out), "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert [r["flagged"] for r in read_jsonl(out)] == [True, True, False]
    assert "stock_tipping" in result.stdout and "financial_rumor" in result.stdout
    assert result.stderr == ""


def test_scan_stdin_to_stdout(fake: None) -> None:
    data = '{"id": 1, "text": "涨停"}\n{"id": 2, "text": 3}\n'
    result = runner.invoke(cli.app, ["scan", "-", "-o", "-"], input=data.encode())
    assert result.exit_code == 1
    rows = [orjson.loads(line) for line in result.stdout_bytes.splitlines()]  # stdout: data only
    assert rows[0]["id"] == "1" and rows[1]["error"]["code"] == "QL-1004"
    assert "records" in result.stderr  # the summary goes to stderr


def test_scan_stdin_csv(fake: None) -> None:
    result = runner.invoke(cli.app, ["scan", "-", "--format", "csv", "-q"], input=b"id,text\n7,hi\n")
    assert result.exit_code == 0
    assert orjson.loads(result.stdout_bytes)["id"] == "7"


def test_scan_sample(tmp_path: Path, fake: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = tmp_path / "posts.jsonl"
    sample.write_text('{"id": "s1", "text": "涨停"}\n', encoding="utf-8")
    monkeypatch.setattr(cli, "_sample_posts", lambda: sample)
    result = runner.invoke(cli.app, ["scan", "--sample", "-q"])
    assert result.exit_code == 0
    assert orjson.loads(result.stdout_bytes)["id"] == "s1"


def test_bundled_samples_scan_when_present(tmp_path: Path, fake: None) -> None:
    from importlib import resources

    if not resources.files("qinglang.samples").joinpath("posts.jsonl").is_file():
        pytest.skip("sample posts not bundled yet")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli.app, ["scan", "--sample", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert read_jsonl(out)


# --- scan: usage errors -----------------------------------------------------------------


def test_missing_input(tmp_path: Path, fake: None) -> None:
    usage_error(runner.invoke(cli.app, ["scan", str(tmp_path / "nope.jsonl")]), "QL-4002")


def test_unsupported_input_suffix(tmp_path: Path, fake: None) -> None:
    src = tmp_path / "posts.txt"
    src.write_text("x")
    usage_error(runner.invoke(cli.app, ["scan", str(src)]), "QL-4001")


def test_unsupported_output_suffix(tmp_path: Path, fake: None) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_text('{"id": 1, "text": "x"}\n')
    usage_error(runner.invoke(cli.app, ["scan", str(src), "-o", str(tmp_path / "o.xml")]), "QL-4001")


def test_output_over_input_is_refused(tmp_path: Path, fake: None) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_text('{"id": 1, "text": "x"}\n')
    usage_error(runner.invoke(cli.app, ["scan", str(src), "-o", str(src)]), "QL-4003")
    assert src.read_text() == '{"id": 1, "text": "x"}\n'


def test_not_a_parquet_file(tmp_path: Path, fake: None) -> None:
    src = tmp_path / "posts.parquet"
    src.write_text("nope")
    usage_error(runner.invoke(cli.app, ["scan", str(src)]), "QL-1009")


@pytest.mark.parametrize("args", [["scan"], ["scan", "x.jsonl", "--sample"]])
def test_input_or_sample(args: list[str], fake: None) -> None:
    usage_error(runner.invoke(cli.app, args), "QL-4003")


@pytest.mark.parametrize(
    "args",
    [["scan", "x.jsonl", "--batch-size", "0"], ["scan", "x.jsonl", "--format", "xml"],
     ["scan", "x.jsonl", "--bogus"], ["nosuchcommand"]],
)
def test_bad_options_exit_2(args: list[str], fake: None) -> None:
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_bad_pack_is_a_usage_error(tmp_path: Path) -> None:
    """The real engine: a pack that does not load stops the run before any output."""
    src = tmp_path / "posts.jsonl"
    src.write_text('{"id": 1, "text": "x"}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli.app, ["scan", str(src), "-o", str(out), "--pack", str(tmp_path / "no.yaml")])
    usage_error(result, "QL-2001")
    assert not out.exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("pack: [unclosed\n")
    usage_error(runner.invoke(cli.app, ["scan", str(src), "--pack", str(bad)]), "QL-2002")


# --- explain ------------------------------------------------------------------------------


def test_explain_plain_text(fake: None) -> None:
    text = "今天涨停，加 abc123"
    result = runner.invoke(cli.app, ["explain", text])
    assert result.exit_code == 0, result.output
    verdict = FakeEngine().detect([Post("-", text)])[0]
    titles = {code: info.title for code, info in taxonomy().items()}
    assert result.stdout == explain_text(verdict, {"text": text}, titles=titles)
    assert "[[涨停]]" in result.stdout and "wechat:abc123" in result.stdout


def test_explain_json(fake: None) -> None:
    result = runner.invoke(cli.app, ["explain", "涨停", "--json", "--lang", "zh"])
    assert result.exit_code == 0
    verdict = orjson.loads(result.stdout_bytes)
    assert verdict["flagged"] is True and verdict["categories"][0]["code"] == "stock_tipping"
    assert verdict["hits"][0]["start"] == 0 and verdict["versions"] == VERSIONS


def test_explain_stdin(fake: None) -> None:
    result = runner.invoke(cli.app, ["explain", "-", "--json"], input="第一行\n涨停\n".encode())
    assert result.exit_code == 0
    verdict = orjson.loads(result.stdout_bytes)
    assert verdict["hits"][0]["start"] == 4  # the trailing newline is dropped, offsets kept


def test_explain_invalid_text(fake: None) -> None:
    result = runner.invoke(cli.app, ["explain", "a\x01b"])
    assert result.exit_code == 1
    assert "error QL-1005:" in result.stderr


def test_explain_passes_packs(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(cli, "make_engine", lambda packs, **kw: seen.append(packs) or FakeEngine())
    runner.invoke(cli.app, ["explain", "x", "--pack", "a.yaml", "--pack", "b.yaml"])
    assert seen == [["a.yaml", "b.yaml"]]


# --- version, eval, train -----------------------------------------------------------------


def test_version_with_the_real_engine() -> None:
    result = runner.invoke(cli.app, ["version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("qinglang ")
    assert "engine   qinglang-" in result.stdout and "pack     zh@" in result.stdout
    as_json = orjson.loads(runner.invoke(cli.app, ["version", "--json"]).stdout_bytes)
    assert "zh" in as_json["packs"] and as_json["engine"].startswith("qinglang-")
    assert set(as_json["speedups"]) == {"prescan", "spans"}
    assert "speedups " in result.stdout


def test_version_says_when_the_speedups_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLANG_PURE_PYTHON", "1")
    as_json = orjson.loads(runner.invoke(cli.app, ["version", "--json", "--model", "none"]).stdout_bytes)
    assert as_json["speedups"] == {"prescan": False, "spans": False}


def test_eval_calls_the_evaluator(monkeypatch: pytest.MonkeyPatch, fake: None) -> None:
    import qinglang.eval.report as report_mod
    import qinglang.eval.run as run_mod

    calls: list[Any] = []

    class Report:
        def to_dict(self) -> dict[str, Any]:
            return {"f1": 0.5}

    def evaluate(engine: Any, path: Any, *, label_map: Any = None, limit: Any = None) -> Report:
        calls.append((type(engine).__name__, path, label_map, limit))
        return Report()

    monkeypatch.setattr(run_mod, "evaluate", evaluate)
    monkeypatch.setattr(report_mod, "render_text", lambda report: "F1 0.5")
    result = runner.invoke(cli.app, ["eval", "l.jsonl", "--label-map", "m.yaml", "--limit", "5"])
    assert (result.exit_code, result.stdout) == (0, "F1 0.5\n")
    assert calls == [("FakeEngine", "l.jsonl", "m.yaml", 5)]
    result = runner.invoke(cli.app, ["eval", "l.jsonl", "--json"])
    assert orjson.loads(result.stdout_bytes) == {"f1": 0.5}
    assert calls[-1] == ("FakeEngine", "l.jsonl", None, None)


def test_eval_without_the_eval_package(monkeypatch: pytest.MonkeyPatch, fake: None) -> None:
    monkeypatch.setitem(sys.modules, "qinglang.eval.run", None)
    usage_error(runner.invoke(cli.app, ["eval", "l.jsonl"]), "QL-4003")


def test_train_calls_the_trainer(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    calls: list[Any] = []
    fake_module = types.ModuleType("qinglang.learn.train")
    fake_module.train_main = lambda *args: calls.append(args) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "qinglang.learn.train", fake_module)
    result = runner.invoke(cli.app, ["train", "a.jsonl", "b.jsonl", "-o", "model", "--seed", "3",
                                     "--name", "clf", "--model-version", "1.2"])
    assert result.exit_code == 0, result.output
    assert calls == [(["a.jsonl", "b.jsonl"], None, "model", 3, "clf", "1.2", 0.9, None)]


def test_train_without_the_learn_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qinglang.learn.train", None)
    usage_error(runner.invoke(cli.app, ["train", "a.jsonl", "-o", "m"]), "QL-4003")
