"""scripts/model_quality.py: the folds and the pooling behind docs/model-quality.md.

The fixture (``fixtures/model_quality_small.jsonl``) is made up for these tests: a few
crypto-scam and recovery-scam posts, benign posts, ambiguous ones, an exact duplicate
pair and a pair that differs only in character width (identical once normalized).
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from qinglang.detect.engine import Engine
from qinglang.eval.merge import counts, merge_metrics
from qinglang.eval.metrics import f1_score
from qinglang.eval.run import evaluate

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "model_quality_small.jsonl"


def _load_script() -> Any:
    name = "model_quality_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "model_quality.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


mq = _load_script()


@pytest.fixture(scope="module")
def rules() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def crossfit(tmp_path_factory: pytest.TempPathFactory, rules: Engine) -> Any:
    work = tmp_path_factory.mktemp("mq")
    return mq.cross_fit(FIXTURE, k=2, seed=0, workdir=work, rules=rules, extra_train=mq.EXAMPLES)


def _add(total: dict[str, Any], part: dict[str, Any]) -> None:
    """Sum nested count dicts (Counters add as Counters)."""
    for key, value in part.items():
        if isinstance(value, dict) and not isinstance(value, Counter):
            _add(total.setdefault(key, {}), value)
        elif isinstance(value, Counter):
            total[key] = total.get(key, Counter()) + value
        else:
            total[key] = total.get(key, 0) + value


def _drop_zero(d: dict[str, Any]) -> dict[str, Any]:
    """Nested counts without all-zero entries (a category a part never touched is absent or all zero)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and not isinstance(v, Counter):
            sub = _drop_zero(v)
            if sub:
                out[k] = sub
        elif v:
            out[k] = v
    return out


def test_folds_group_identical_normalized_texts() -> None:
    records = mq.read_records(FIXTURE)
    folds = mq.assign_folds(records, 2, seed=0)
    by_id = {r.id: f for r, f in zip(records, folds, strict=True)}
    assert by_id["mq02"] == by_id["mq08"]  # exact duplicates
    assert by_id["mq18"] == by_id["mq22"]
    assert by_id["mq23"] == by_id["mq24"]  # full-width variant: the same text once normalized
    key_fold: dict[str, int] = {}
    for r, f in zip(records, folds, strict=True):
        assert key_fold.setdefault(r.key, int(f)) == f
    assert set(folds.tolist()) == {0, 1}
    sizes = Counter(folds.tolist())
    assert abs(sizes[0] - sizes[1]) <= 3
    # stratified: each fold has positives of both classes and negatives
    for f in (0, 1):
        strata = {r.stratum for r, g in zip(records, folds, strict=True) if g == f}
        assert any(s.startswith("True|crypto") for s in strata)
        assert any(s.startswith("True|recovery") for s in strata)
        assert any(s.startswith("False|") for s in strata)
    assert (mq.assign_folds(records, 2, seed=0) == folds).all()  # seeded
    with pytest.raises(ValueError):
        mq.assign_folds(records, 1, seed=0)


def test_no_row_is_evaluated_by_a_model_trained_on_it(crossfit: Any) -> None:
    all_ids = {r.id for r in mq.read_records(FIXTURE)}
    seen: Counter[str] = Counter()
    for fr in crossfit.folds:
        # the model was trained on exactly the fold's training file (checksum and row count in its card data)
        entry = next(t for t in fr.model_training_data if t["name"] == FIXTURE.name)
        assert entry["sha256"] == mq.sha256(fr.train_file)
        assert entry["rows"] == len(fr.train_ids)
        assert not fr.train_file.resolve().is_relative_to(REPO.resolve())
        assert fr.train_ids.isdisjoint(fr.heldout_ids)
        assert fr.train_ids | fr.heldout_ids == all_ids
        # what the model engines were actually shown: held-out rows only, none it trained on
        for config in ("model", "combined"):
            shown = set(fr.flags[config])
            assert shown and shown <= fr.heldout_ids
            assert shown.isdisjoint(fr.train_ids)
        # no normalized text of the held-out fold occurs in the training file
        train_keys = {r.key for r in mq.read_records(fr.train_file)}
        assert train_keys.isdisjoint({r.key for r in mq.read_records(fr.heldout_file)})
        seen.update(fr.heldout_ids)
    assert set(seen) == all_ids and set(seen.values()) == {1}  # every row held out exactly once


@pytest.mark.parametrize("config", ["rules", "model", "combined"])
def test_pooled_counts_are_the_sum_of_the_folds(crossfit: Any, config: str) -> None:
    total: dict[str, Any] = {}
    for fr in crossfit.folds:
        _add(total, counts(fr.reports[config]))
    merged = crossfit.merged[config]
    assert _drop_zero(counts(merged)) == _drop_zero(total)
    m = merged.metrics
    # ratios computed once from the sums, not averaged over folds
    tp = sum(s.tp for s in m.categories.values())
    fp = sum(s.fp for s in m.categories.values())
    fn = sum(s.fn for s in m.categories.values())
    assert m.micro.f1 == f1_score(tp, fp, fn)
    assert m.post.f1 == f1_score(m.post.tp, m.post.fp, m.post.fn)
    assert m.post.tp + m.post.fn == sum(fr.reports[config].metrics.post.positives for fr in crossfit.folds)
    assert merged.rows_read == sum(1 for _ in FIXTURE.open(encoding="utf-8"))
    assert merged.versions["parts"] == 2


def test_pooled_rules_equal_one_pass_over_the_file(crossfit: Any, rules: Engine) -> None:
    """Rules do not depend on the fold: pooling the folds must give the whole-file figures."""
    whole = evaluate(rules, FIXTURE)
    assert _drop_zero(counts(crossfit.merged["rules"])) == _drop_zero(counts(whole))
    assert crossfit.merged["rules"].metrics.to_dict()["micro"] == whole.metrics.to_dict()["micro"]


def test_merge_metrics_of_one_part_is_that_part(crossfit: Any) -> None:
    part = crossfit.folds[0].reports["combined"].metrics
    assert merge_metrics([part]).to_dict() == part.to_dict()


def test_flips_count_rows_that_change(crossfit: Any) -> None:
    pooled = mq._pool_flags(crossfit)
    f = mq.flips(crossfit.records, pooled)
    rules_fp = crossfit.merged["rules"].metrics.post.fp
    comb_fp = crossfit.merged["combined"].metrics.post.fp
    assert comb_fp - rules_fp == f["neg_added"] - f["neg_removed"]
    rules_tp = crossfit.merged["rules"].metrics.post.tp
    comb_tp = crossfit.merged["combined"].metrics.post.tp
    assert comb_tp - rules_tp == f["pos_gained"] - f["pos_lost"]


def test_refuses_to_train_into_the_repository() -> None:
    with pytest.raises(SystemExit):
        mq.train_model([FIXTURE], REPO / "src" / "qinglang" / "models" / "should-not-exist", "x")
    assert not (REPO / "src" / "qinglang" / "models" / "should-not-exist").exists()


def test_shared_janitr_folds(shared_data: Path) -> None:
    """On the real file: duplicates never straddle folds and the five folds are even."""
    path = shared_data / mq.JANITR
    if not path.is_file():
        pytest.skip(f"{path} not found")
    records = mq.read_records(path)
    folds = mq.assign_folds(records, 5, seed=0)
    key_fold: dict[str, int] = {}
    for r, f in zip(records, folds, strict=True):
        assert key_fold.setdefault(r.key, int(f)) == f
    sizes = Counter(folds.tolist())
    assert max(sizes.values()) - min(sizes.values()) <= 0.05 * len(records)
    assert len({r.key for r in records}) < len(records)  # the file does hold duplicates
