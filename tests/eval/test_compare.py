"""``qinglang eval --compare A B``: configurations, flips, side-by-side metrics, thresholds, CLI.

Two tiny packs are written per test; on ``fixtures/compare_small.jsonl`` they differ
in known ways, so every flip and its kind can be worked out by hand:

- A flags 荐股 (stock_tipping 0.9), 秒批 (loan_marketing 0.9); 加微信 scores 0.4 (under 0.5)
- B flags 荐股 and 牛股 (stock_tipping), no 秒批 rule; 加微信 scores 0.6 (traffic_diversion)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from eval_fakes import FIXTURES
from typer.testing import CliRunner

from qinglang import cli
from qinglang.detect.engine import Engine
from qinglang.errors import QLError
from qinglang.eval.compare import (
    Config,
    compare,
    load_config,
    parse_config_yaml,
    parse_spec,
    render_compare_text,
)
from qinglang.eval.run import evaluate
from qinglang.learn import CombineParams, combine
from qinglang.model import Post
from qinglang.policy.loader import load_pack_text

LABELED = FIXTURES / "compare_small.jsonl"

PACK_A = """
pack: pa
version: "1"
rules:
  - {id: pa.tip, category: stock_tipping, score: 0.9, when: [{any: [荐股]}]}
  - {id: pa.loan, category: loan_marketing, score: 0.9, when: [{any: [秒批]}]}
  - {id: pa.div, category: traffic_diversion, score: 0.4, when: [{any: [加微信]}]}
"""

PACK_B = """
pack: pb
version: "2"
rules:
  - {id: pb.tip, category: stock_tipping, score: 0.9, when: [{any: [荐股, 牛股]}]}
  - {id: pb.div, category: traffic_diversion, score: 0.6, when: [{any: [加微信]}]}
"""

#: id -> (kind, change, A codes, B codes), worked out from the packs above
EXPECTED_FLIPS: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "c02": ("fix", "flagged", (), ("stock_tipping",)),
    "c03": ("regression", "flagged", (), ("stock_tipping",)),
    "c04": ("regression", "unflagged", ("loan_marketing",), ()),
    "c05": ("fix", "unflagged", ("loan_marketing",), ()),
    "c06": ("fix", "codes", ("stock_tipping",), ("stock_tipping", "traffic_diversion")),
    "c07": ("regression", "codes", ("stock_tipping",), ("stock_tipping", "traffic_diversion")),
    "c08": ("neutral", "codes", ("stock_tipping",), ("stock_tipping", "traffic_diversion")),
    "c09": ("neutral", "flagged", (), ("stock_tipping", "traffic_diversion")),
    "c11": ("neutral", "flagged", (), ("traffic_diversion",)),
    "c13": ("fix", "unflagged", ("loan_marketing",), ()),
}

runner = CliRunner()


@pytest.fixture
def packs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "pa.yaml", tmp_path / "pb.yaml"
    a.write_text(PACK_A, encoding="utf-8")
    b.write_text(PACK_B, encoding="utf-8")
    return a, b


def code_of(exc: pytest.ExceptionInfo[QLError]) -> str:
    return exc.value.code.code


# --- inline specs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "packs", "model", "mode", "thresholds"),
    [
        ("rules", None, None, "rules", {}),
        ("model=default", None, "default", "combined", {}),
        ("model=path/to/dir,mode=model", None, "path/to/dir", "model", {}),
        ("packs=a.yaml+b.yaml", ("a.yaml", "b.yaml"), None, "rules", {}),
        ("combined, model=default", None, "default", "combined", {}),
        (
            "packs=a.yaml,thresholds=stock_tipping:0.7+loan_marketing:0.25",
            ("a.yaml",),
            None,
            "rules",
            {"stock_tipping": 0.7, "loan_marketing": 0.25},
        ),
    ],
)
def test_inline_specs(spec: str, packs: Any, model: Any, mode: str, thresholds: dict[str, float]) -> None:
    cfg = parse_spec(spec)
    assert (cfg.packs, cfg.model, cfg.mode, cfg.thresholds) == (packs, model, mode, thresholds)
    assert cfg.name == spec and cfg.source == "inline"
    assert load_config(spec) == cfg


def test_inline_name() -> None:
    assert parse_spec("name=candidate,model=default").name == "candidate"


@pytest.mark.parametrize(
    ("spec", "fragment", "hint"),
    [
        ("rule", "not key=value nor a mode", "rules"),
        ("pakcs=a.yaml", "pakcs: unknown key", "packs"),
        ("mode=rules,mode=model", "mode: given twice", None),
        ("model=", "model: has no value", None),
        ("rules,,packs=a.yaml", "an empty item", None),
        ("mode=fast", "mode: Input should be", None),
        ("mode=model", "'model' needs a model", None),
        ("model=default,mode=rules", "'rules' uses no model", None),
        ("thresholds=stock_tiping:0.7", "thresholds['stock_tiping']: unknown category code", "stock_tipping"),
        ("thresholds=stock_tipping:1.5", "thresholds['stock_tipping']: must be in [0, 1]", None),
        ("thresholds=stock_tipping:high", "'high' is not a number", None),
        ("thresholds=stock_tipping", "is not code:value", None),
        ("packs=a.yaml++b.yaml", "an empty pack path", None),
    ],
)
def test_bad_inline_specs(spec: str, fragment: str, hint: str | None) -> None:
    with pytest.raises(QLError) as exc:
        load_config(spec)
    assert code_of(exc) == "QL-4003"
    assert fragment in exc.value.message
    assert exc.value.message.startswith("config: ")
    if hint:
        assert exc.value.hint == f"did you mean '{hint}'?"


# --- YAML configurations ------------------------------------------------------------------


def test_yaml_config_resolves_paths_against_its_directory(tmp_path: Path) -> None:
    d = tmp_path / "cfg"
    d.mkdir()
    f = d / "candidate.yaml"
    f.write_text(
        "name: cand\npacks: [packs/a.yaml, /abs/b.yaml]\nmodel: models/m\nmode: model\n"
        "thresholds: {stock_tipping: 0.8}\n",
        encoding="utf-8",
    )
    cfg = load_config(str(f))
    assert cfg.name == "cand" and cfg.source == str(f)
    assert cfg.packs == (str(d / "packs/a.yaml"), "/abs/b.yaml")
    assert cfg.model == str(d / "models/m") and cfg.mode == "model"
    assert cfg.thresholds == {"stock_tipping": 0.8}


def test_yaml_config_defaults(tmp_path: Path) -> None:
    f = tmp_path / "shadow.yml"
    f.write_text("model: default\n", encoding="utf-8")
    cfg = load_config(str(f))
    assert (cfg.name, cfg.packs, cfg.model, cfg.mode) == ("shadow", None, "default", "combined")
    f.write_text("{}\n", encoding="utf-8")
    assert load_config(str(f)).mode == "rules"


@pytest.mark.parametrize(
    ("text", "fragment", "hint"),
    [
        ("pakcs: [a.yaml]\n", "pakcs: unknown key", "packs"),
        ("packs: a.yaml\n", "packs: Input should be a valid list", None),
        ("packs: []\n", "packs: an empty list", None),
        ("packs: [a.yaml, 3]\n", "packs[1]: Input should be a valid string", None),
        ("mode: turbo\n", "mode: Input should be", None),
        ("mode: combined\n", "'combined' needs a model", None),
        ("thresholds: {stock_tiping: 0.5}\n", "thresholds['stock_tiping']: unknown category code", "stock_tipping"),
        ("thresholds: {stock_tipping: high}\n", "thresholds['stock_tipping']: Input should be a valid number", None),
        ("thresholds: {stock_tipping: -0.1}\n", "must be in [0, 1]", None),
        ("- rules\n", "document: a configuration is a mapping", None),
        ("name: [unclosed\n", "not valid YAML", None),
    ],
)
def test_bad_yaml_configs(tmp_path: Path, text: str, fragment: str, hint: str | None) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(QLError) as exc:
        load_config(str(f))
    assert code_of(exc) == "QL-4003"
    assert exc.value.message.startswith(f"config {f}: ")
    assert fragment in exc.value.message
    if hint:
        assert exc.value.hint == f"did you mean '{hint}'?"


def test_missing_yaml_config(tmp_path: Path) -> None:
    with pytest.raises(QLError) as exc:
        load_config(str(tmp_path / "nope.yaml"))
    assert code_of(exc) == "QL-4002"


def test_parse_yaml_text_directly() -> None:
    cfg = parse_config_yaml("mode: rules\n", source="x.yaml")
    assert cfg == Config("x", None, None, "rules", {}, "x.yaml")


# --- compare ------------------------------------------------------------------------------


def test_compare_finds_exactly_the_expected_flips(packs: tuple[Path, Path]) -> None:
    a, b = packs
    report = compare(LABELED, f"packs={a}", f"packs={b}", batch_size=4)
    got = {f.id: (f.kind, f.change, f.a_codes, f.b_codes) for f in report.flips}
    assert got == EXPECTED_FLIPS
    # regressions first, then fixes, then neutral, each in file order
    assert [f.id for f in report.flips] == [
        "c03", "c04", "c07", "c02", "c05", "c06", "c13", "c08", "c09", "c11",
    ]  # fmt: skip
    assert report.compared == 12 and report.error_mismatch == 0  # c12 has no label
    s = report.summary.to_dict()
    assert s["total"] == 10
    assert s["by_kind"] == {"fix": 4, "regression": 3, "neutral": 3}
    assert s["by_change"] == {"flagged": 4, "unflagged": 3, "codes": 3}
    assert s["by_category"] == {
        "loan_marketing": {"added": 0, "removed": 3, "fix": 2, "regression": 1, "neutral": 0},
        "stock_tipping": {"added": 3, "removed": 0, "fix": 1, "regression": 1, "neutral": 1},
        "traffic_diversion": {"added": 5, "removed": 0, "fix": 1, "regression": 1, "neutral": 3},
    }
    by_id = {f.id: f for f in report.flips}
    assert (by_id["c03"].gold, by_id["c03"].a_right, by_id["c03"].b_right) == ("negative", True, False)
    assert (by_id["c08"].gold, by_id["c08"].expected) == ("positive", ("crypto_promotion", "stock_tipping"))
    assert (by_id["c09"].gold, by_id["c09"].a_right, by_id["c09"].b_right) == ("ambiguous", None, None)
    assert (by_id["c11"].a_right, by_id["c11"].b_right) == (False, False)  # both wrong: neutral


def test_side_by_side_metrics_equal_separate_evaluations(packs: tuple[Path, Path]) -> None:
    a, b = packs
    report = compare(LABELED, f"packs={a}", f"packs={b}", batch_size=5)
    for side, path in ((report.a_report, a), (report.b_report, b)):
        alone = evaluate(Engine.from_options([str(path)]), LABELED, batch_size=3)
        assert side.metrics.to_dict() == alone.metrics.to_dict()
        assert side.rows() == alone.rows()
        assert {k: v.to_dict() for k, v in side.skipped.items()} == {k: v.to_dict() for k, v in alone.skipped.items()}
        assert side.versions == alone.versions
    d = report.to_dict()
    pa, pb = report.a_report.metrics.post, report.b_report.metrics.post
    assert d["delta"]["post"]["recall"] == pytest.approx(pb.recall - pa.recall, abs=1e-6)
    assert d["delta"]["post"]["fp_rate"] == pytest.approx(pb.fp_rate - pa.fp_rate, abs=1e-6)
    assert d["a"]["post"] == pa.to_dict() and d["b"]["post"] == pb.to_dict()
    lm = report.a_report.metrics.categories["loan_marketing"]
    assert d["delta"]["categories"]["loan_marketing"]["recall"] == pytest.approx(0.0 - lm.recall)
    assert d["a"]["config"]["packs"] == [str(a)] and d["b"]["versions"]["packs"] == {"pb": "2"}
    assert d["rows"] == {"compared": 12, "error_mismatch": 0, "in_file": 13, "limit": None, "read": 13}


def test_identical_configurations_have_no_flips(packs: tuple[Path, Path]) -> None:
    a, _ = packs
    report = compare(LABELED, f"packs={a}", f"packs={a}")
    assert report.flips == [] and report.summary.total == 0
    assert all(v in (0, None) for v in report.metric_deltas()["post"].values())


def test_limit_and_json_flips(packs: tuple[Path, Path]) -> None:
    a, b = packs
    report = compare(LABELED, f"packs={a}", f"packs={b}", limit=5)
    assert {f.id for f in report.flips} == {"c02", "c03", "c04", "c05"}
    d = report.to_dict(flips=2)
    assert d["rows"]["read"] == 5 and d["rows"]["in_file"] == 13 and d["rows"]["limit"] == 5
    assert d["flips"]["total"] == 4 and d["flips"]["shown"] == 2
    assert [f["id"] for f in d["flips"]["list"]] == ["c03", "c04"]
    assert report.to_dict(flips=0)["flips"]["list"] == []


def test_whole_run_errors(packs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = packs
    with pytest.raises(QLError) as exc:
        compare(tmp_path / "missing.jsonl", f"packs={a}", f"packs={b}")
    assert code_of(exc) == "QL-4002"
    with pytest.raises(QLError) as exc:
        compare(LABELED, f"packs={a}", f"packs={b}", limit=0)
    assert code_of(exc) == "QL-4003"
    with pytest.raises(QLError) as exc:
        compare(LABELED, f"packs={a}", f"packs={tmp_path / 'nope.yaml'}")
    assert code_of(exc) == "QL-2001"


def test_text_report(packs: tuple[Path, Path]) -> None:
    a, b = packs
    report = compare(LABELED, f"packs={a}", f"packs={b}")
    text = render_compare_text(report, timing=False)
    assert "file: compare_small.jsonl (13 rows)" in text
    assert f"A: packs={a} (mode rules; packs {a})" in text
    assert "Flips: 10 posts changed verdict" in text
    assert "fix 4, regression 3, neutral 3" in text
    assert "newly flagged 4, no longer flagged 3, other codes 3" in text
    lines = text.splitlines()
    flips_at = next(i for i, line in enumerate(lines) if line.startswith("Flipped posts"))
    assert lines[flips_at + 1].split() == ["kind", "id", "A", "B", "gold", "text"]
    assert lines[flips_at + 2].split()[:2] == ["regression", "c03"]
    assert "Timing" not in text
    short = render_compare_text(report, timing=False, flips=3)
    assert "first 3 of 10" in short and "c02" not in short.split("Flipped posts")[1]
    assert render_compare_text(report, timing=False) == text  # deterministic


# --- threshold overrides ------------------------------------------------------------------


def test_threshold_overrides_change_decisions(packs: tuple[Path, Path]) -> None:
    a, _ = packs
    # 加微信 scores 0.4 under A: a 0.3 threshold flags it; 荐股 (0.9) under 0.95 is dropped
    report = compare(LABELED, f"packs={a}", f"packs={a},thresholds=traffic_diversion:0.3+stock_tipping:0.95")
    flipped = {f.id: (f.a_codes, f.b_codes) for f in report.flips}
    assert flipped == {
        "c01": (("stock_tipping",), ()),
        "c06": (("stock_tipping",), ("traffic_diversion",)),
        "c07": (("stock_tipping",), ("traffic_diversion",)),
        "c08": (("stock_tipping",), ("traffic_diversion",)),
        "c09": ((), ("traffic_diversion",)),
        "c11": ((), ("traffic_diversion",)),
    }
    assert report.b_report.versions["thresholds"] == {"stock_tipping": 0.95, "traffic_diversion": 0.3}
    assert "thresholds" not in report.a_report.versions


def test_engine_threshold_hook_rules() -> None:
    pack = load_pack_text(PACK_A, "pa.yaml")
    base = Engine([pack])
    lower = Engine([pack], thresholds={"traffic_diversion": 0.4})  # exactly the score: flags
    higher = Engine([pack], thresholds={"stock_tipping": 1.0})
    post = [Post(id="p", text="荐股加微信")]
    assert base.detect(post)[0].codes() == ["stock_tipping"]
    assert sorted(lower.detect(post)[0].codes()) == ["stock_tipping", "traffic_diversion"]
    assert higher.detect(post)[0].codes() == []
    assert base.versions.get("thresholds") is None
    with pytest.raises(QLError) as exc:
        Engine([pack], thresholds={"stock_tiping": 0.5})
    assert code_of(exc) == "QL-4003" and exc.value.hint == "did you mean 'stock_tipping'?"
    with pytest.raises(QLError):
        Engine([pack], thresholds={"stock_tipping": 2.0})


class _StubModel:
    """Fixed probabilities per text, so the model paths of the threshold hook can be checked."""

    name, version = "stub", "1"

    def __init__(self) -> None:
        self.labels = ["stock_tipping", "card_cashout"]
        self.thresholds = {"stock_tipping": 0.6, "card_cashout": 0.6}
        self.combined_thresholds = {"stock_tipping": 0.5, "card_cashout": 0.5}
        self.combine_params = {
            "stock_tipping": CombineParams("logistic", 4.0, 1.0, -2.0),
            "card_cashout": CombineParams("rules"),
        }

    def normalizer_matches(self) -> bool:
        return True

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.array([(0.5, 0.01) for _ in texts], dtype=np.float32)

    def combine(self, label: str, rule_score: float, model_prob: float) -> float:
        return combine(rule_score, model_prob, self.combine_params[label])

    def top_features(self, text: str, label: str, k: int = 5) -> list[tuple[str, float]]:
        return []


def test_engine_threshold_hook_model_and_combined() -> None:
    pack = load_pack_text(PACK_A, "pa.yaml")
    post = [Post(id="p", text="你好")]

    def codes(mode: str, thresholds: dict[str, float] | None) -> list[str]:
        eng = Engine([pack], model=_StubModel(), mode=mode, thresholds=thresholds)  # type: ignore[arg-type]
        return eng.detect(post)[0].codes()

    # model alone: p = 0.5 under the model's 0.6; an override of 0.45 flags
    assert codes("model", None) == []
    assert codes("model", {"stock_tipping": 0.45}) == ["stock_tipping"]
    # combined: sigmoid(0 + logit(0.5) - 2) ≈ 0.12 under 0.5; an override of 0.1 flags
    assert codes("combined", None) == []
    assert codes("combined", {"stock_tipping": 0.1}) == ["stock_tipping"]


# --- the command line ---------------------------------------------------------------------


def test_cli_compare_text(packs: tuple[Path, Path]) -> None:
    a, b = packs
    result = runner.invoke(cli.app, ["eval", str(LABELED), "--compare", f"packs={a}", f"packs={b}"])
    assert result.exit_code == 0, result.output
    assert "qinglang eval --compare" in result.stdout
    assert "Flips: 10 posts changed verdict" in result.stdout
    assert "regression  c03" in result.stdout


def test_cli_compare_json_with_yaml_config(packs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = packs
    cfg = tmp_path / "cand.yaml"
    cfg.write_text(f"name: candidate\npacks: [{b.name}]\n", encoding="utf-8")
    result = runner.invoke(
        cli.app,
        ["eval", str(LABELED), "--compare", f"packs={a}", str(cfg), "--json", "--flips", "3", "--limit", "12"],
    )
    assert result.exit_code == 0, result.output
    body = orjson.loads(result.stdout)
    assert body["b"]["config"]["name"] == "candidate"
    assert body["b"]["config"]["packs"] == [str(b)]
    assert body["flips"]["total"] == 9 and body["flips"]["shown"] == 3  # c13 is past the limit
    assert [f["id"] for f in body["flips"]["list"]] == ["c03", "c04", "c07"]
    assert body["flips"]["list"][0] == {
        "a_codes": [],
        "a_right": True,
        "b_codes": ["stock_tipping"],
        "b_right": False,
        "change": "flagged",
        "excerpt": "牛股行情分析",
        "expected": [],
        "gold": "negative",
        "gold_kind": "negative",
        "id": "c03",
        "kind": "regression",
        "record": 3,
    }
    assert set(body) == {"a", "b", "delta", "file", "flips", "format", "label_map", "path", "rows"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--compare", "rules", "rule"], "did you mean 'rules'"),
        (["--compare", "rules", "rules", "--pack", "x.yaml"], "drop --pack/--model/--mode"),
        (["--flips", "3"], "--flips goes with --compare"),
    ],
)
def test_cli_compare_usage_errors(args: list[str], fragment: str) -> None:
    result = runner.invoke(cli.app, ["eval", str(LABELED), *args])
    assert result.exit_code == 2, result.output
    assert "error QL-4003:" in result.stderr and fragment in result.stderr
    assert "Traceback" not in result.output


def test_cli_compare_needs_two_values() -> None:
    result = runner.invoke(cli.app, ["eval", str(LABELED), "--compare", "rules"])
    assert result.exit_code == 2
