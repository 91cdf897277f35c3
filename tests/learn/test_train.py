"""Training: determinism, quality against a trivial baseline, thresholds, the card, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from learn_paths import MINI, SHARED_FORMAT

from qinglang.learn.classifier import CARD_FILE, MODEL_FILE, WEIGHTS_FILE, TextClassifier, model_text
from qinglang.learn.train import (
    MIN_DEV_POSITIVES,
    TrainResult,
    choose_threshold,
    train,
    train_main,
)
from qinglang.model import Post

#: The trivial baseline: flag a category when its most obvious topic word occurs.
KEYWORDS = {
    "stock_tipping": ["股", "stock"],
    "crypto_promotion": ["币", "crypto", "token"],
    "illegal_intermediary": ["贷", "loan", "credit"],
    "card_cashout": ["信用卡", "card"],
    "rights_agency": ["维权", "退保", "recovery"],
    "traffic_diversion": ["加", "telegram"],
}


def _rows() -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, MINI.read_text("utf-8").splitlines())}


def test_same_seed_gives_identical_artifacts(tmp_path: Path) -> None:
    a = train([MINI], out=tmp_path / "a", name="m", version="1", seed=0, use_rules=False)
    b = train([MINI], out=tmp_path / "b", name="m", version="1", seed=0, use_rules=False)
    assert (tmp_path / "a" / WEIGHTS_FILE).read_bytes() == (tmp_path / "b" / WEIGHTS_FILE).read_bytes()
    assert a.thresholds == b.thresholds
    ja = json.loads((tmp_path / "a" / MODEL_FILE).read_text("utf-8"))
    jb = json.loads((tmp_path / "b" / MODEL_FILE).read_text("utf-8"))
    for volatile in ("created", "training_seconds"):
        ja.pop(volatile), jb.pop(volatile)
    assert ja == jb


def test_another_seed_gives_another_split(tmp_path: Path) -> None:
    a = train([MINI], out=tmp_path / "a", name="m", version="1", seed=0, use_rules=False)
    b = train([MINI], out=tmp_path / "b", name="m", version="1", seed=1, use_rules=False)
    assert a.dev_ids != b.dev_ids


def test_split_keeps_duplicates_together_and_every_category_on_both_sides(mini_trained: TrainResult) -> None:
    rows = _rows()
    dev = set(mini_trained.dev_ids)
    for code in KEYWORDS:
        on_dev = [i for i in dev if code in rows[i]["labels"]]
        on_train = [i for i in rows if i not in dev and code in rows[i]["labels"]]
        assert on_dev and on_train, code
    assert mini_trained.n_train + mini_trained.n_dev == len(rows)


def _dev_texts(res: TrainResult) -> list[str]:
    rows = _rows()
    return [model_text(Post(id=i, text=rows[i]["text"])) for i in res.dev_ids]


def _micro_ap(scores: np.ndarray, gold: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(gold.ravel(), scores.ravel()))


def test_model_beats_keyword_baseline_on_held_out_rows(mini_trained: TrainResult) -> None:
    """Ranking quality (micro-averaged AP) on the held-out rows, model vs topic keywords.

    AP, not F1 at a threshold: with 2–4 dev positives per category the thresholds
    are the 0.5 fallback, which says nothing about what the model learned.
    """
    model = mini_trained.model
    texts = _dev_texts(mini_trained)
    cols = [model.labels.index(c) for c in KEYWORDS]
    assert mini_trained.dev_labels is not None
    gold = mini_trained.dev_labels[:, cols].astype(bool)
    probs = model.predict_proba(texts)[:, cols]
    base = np.array([[any(k in t for k in KEYWORDS[c]) for c in KEYWORDS] for t in texts], dtype=np.float64)
    model_ap, base_ap = _micro_ap(probs, gold), _micro_ap(base, gold)
    assert model_ap > base_ap, (model_ap, base_ap)


def test_thresholds_are_stored_and_loaded_from_metadata(mini_trained: TrainResult, tmp_path: Path) -> None:
    doc = json.loads((mini_trained.out / MODEL_FILE).read_text("utf-8"))
    loaded = TextClassifier.load(mini_trained.out)
    assert loaded.thresholds == doc["thresholds"] == mini_trained.thresholds
    assert loaded.combination is not None
    assert {c: {lang: e.to_dict() for lang, e in per.items()} for c, per in loaded.combination.items()} \
        == doc["combination"]
    # the thresholds are data: editing model.json changes them without retraining
    copy = tmp_path / "edited"
    copy.mkdir()
    (copy / WEIGHTS_FILE).write_bytes((mini_trained.out / WEIGHTS_FILE).read_bytes())
    doc["thresholds"]["stock_tipping"] = 0.77
    (copy / MODEL_FILE).write_text(json.dumps(doc), "utf-8")
    assert TextClassifier.load(copy).thresholds["stock_tipping"] == 0.77


def test_thresholds_fall_back_when_dev_positives_are_few(mini_trained: TrainResult) -> None:
    for code, m in mini_trained.dev_metrics.items():
        if m["dev_positives"] < MIN_DEV_POSITIVES:
            assert m["threshold"] == 0.5 and m["threshold_how"] == "fallback", code
    card = (mini_trained.out / CARD_FILE).read_text("utf-8")
    assert "fallback" in card


def test_loaded_model_predicts_what_training_measured(mini_trained: TrainResult) -> None:
    texts = _dev_texts(mini_trained)
    loaded = TextClassifier.load(mini_trained.out)
    assert mini_trained.dev_prob is not None
    assert np.array_equal(loaded.predict_proba(texts), mini_trained.dev_prob.astype(np.float32))


def test_unfitted_categories_are_recorded(mini_trained: TrainResult) -> None:
    m = mini_trained.dev_metrics["financial_rumor"]
    assert m["fitted"] is False and m["train_positives"] == 0
    assert float(mini_trained.model.predict_proba(["某某银行要倒闭了"])[0, -1]) < 0.1


def test_card_names_the_data_and_its_licence(mini_trained: TrainResult) -> None:
    card = (mini_trained.out / CARD_FILE).read_text("utf-8")
    doc = json.loads((mini_trained.out / MODEL_FILE).read_text("utf-8"))
    [data] = doc["training_data"]
    assert data["name"] == "labeled_mini.jsonl" and data["rows"] == len(_rows()) == data["used"]
    assert "labeled_mini.jsonl" in card and f"| {len(_rows())} |" in card
    assert "Not shippable" in card and doc["shippable"] is False  # a test fixture is not licensed for shipping
    for section in ("## Training data", "## Dev figures", "## Intended use", "## Limits"):
        assert section in card
    assert doc["seed"] == 0 and doc["family"]["name"] and doc["features"]["ngram_max"]
    assert doc["rule_scores"].startswith("Engine.detect")
    assert "## Combination with the rules" in card and "| `stock_tipping` | zh |" in card
    assert "rules" in doc["dev_metrics"]["stock_tipping"]


def test_shared_format_rows_go_through_the_label_map(tmp_path: Path) -> None:
    res = train([SHARED_FORMAT, MINI], out=tmp_path / "m", name="m", version="1", use_rules=False)
    stats = res.files[0]
    assert stats.rows == 9
    assert stats.used == 5  # sf-01, 02, 04, 05, 07
    assert stats.per_code == {"illegal_intermediary": 1, "rights_agency": 1, "crypto_promotion": 1,
                              "card_cashout": 1}
    assert stats.skipped["ambiguous (is_positive: null)"] == 1
    assert stats.skipped["no text"] == 1
    assert sum(stats.skipped.values()) == 4


def test_choose_threshold_meets_target_precision() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.2).astype(np.int64)
    scores = np.clip(0.35 * y + rng.random(400) * 0.65, 0, 1)
    thr, how = choose_threshold(scores, y, 0.9)
    pred = scores >= thr
    assert how == "target"
    assert (pred & (y == 1)).sum() / pred.sum() >= 0.9
    assert choose_threshold(scores[:10], np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0.9) == (0.5, "fallback")


def test_train_main_prints_a_summary_and_returns_codes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = train_main([str(MINI)], None, str(tmp_path / "cli"), 0, "cli", "0.1", 0.9, None)
    assert rc == 0
    out = capsys.readouterr().out
    assert "cli 0.1" in out and "labeled_mini.jsonl" in out
    assert (tmp_path / "cli" / MODEL_FILE).is_file()
    rc = train_main([str(tmp_path / "missing.jsonl")], None, str(tmp_path / "x"), 0, "x", "0", 0.9, None)
    assert rc == 2
    assert "QL-4002" in capsys.readouterr().err


def test_separate_dev_file(tmp_path: Path) -> None:
    res = train([MINI], dev_path=MINI, out=tmp_path / "m", name="m", version="1", use_rules=False)
    assert res.n_dev == res.n_train == len(_rows())
    assert res.meta["dev_data"]["name"] == "labeled_mini.jsonl"


def test_janitr_trains_a_useful_crypto_model(shared_data: Path, tmp_path: Path) -> None:
    """On the one licence-clean public set: crypto scams separate well from crypto talk and clean posts."""
    path = shared_data / "janitr_x_crypto_en.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    res = train([path], out=tmp_path / "j", name="j", version="0", use_rules=False)
    m = res.dev_metrics["crypto_promotion"]
    assert m["dev_positives"] >= 50
    assert m["model"]["ap"] >= 0.9
    assert res.meta["shippable"] is True
    assert res.files[0].skipped["ambiguous (is_positive: null)"] > 1000


def test_rules_kind_round_trips_and_returns_the_rule_score() -> None:
    from qinglang.learn import CombineParams, combine

    p = CombineParams.from_dict(CombineParams("rules").to_dict())
    assert p.kind == "rules"
    assert combine(0.3, 0.99, p) == 0.3


NOVEL_TRAIN = Path(__file__).parent / "fixtures" / "novel_phrasing_train.jsonl"
NOVEL_DEV = Path(__file__).parent / "fixtures" / "novel_phrasing_dev.jsonl"


def test_model_beats_rules_alone_on_phrasing_no_rule_names(tmp_path: Path) -> None:
    """What a learned model is for: a scheme in words no pack lists (fruit-tree "adoption"
    with daily picking income and recruitment bonuses, written for this test). Trained
    on one file, measured on a separate held-out file: the rules miss it, the model and
    the engine combining both catch it, and the benign orchard posts stay clean.
    """
    from qinglang.detect.engine import Engine

    res = train([NOVEL_TRAIN], dev_path=NOVEL_DEV, out=tmp_path / "novel", name="novel", version="1", seed=0)
    dev = [json.loads(line) for line in NOVEL_DEV.read_text("utf-8").splitlines()]
    posts = [Post(id=r["id"], text=r["text"]) for r in dev]
    gold = [bool(r["labels"]) for r in dev]

    def f1(pred: list[bool]) -> float:
        tp = sum(p and g for p, g in zip(pred, gold, strict=True))
        fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
        fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    rules = [bool(v.codes()) for v in Engine().detect(posts)]
    model = [bool(v.codes()) for v in Engine(model=res.model, mode="model").detect(posts)]
    combined = [bool(v.codes()) for v in Engine(model=res.model).detect(posts)]
    assert f1(rules) < 0.5, "the fixture must use phrasing the bundled packs do not name"
    assert f1(model) > f1(rules) + 0.3
    assert f1(combined) >= f1(model) - 0.1
    assert not any(p for p, g in zip(model, gold, strict=True) if not g), "benign orchard posts flagged"
