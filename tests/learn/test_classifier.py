"""The classifier and its artifact: predictions, explanations, combination, and refusing bad files."""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from qinglang import errors
from qinglang.errors import QLError
from qinglang.learn.classifier import (
    MODEL_FILE,
    WEIGHTS_FILE,
    CombineParams,
    TextClassifier,
    combine,
    combine_matrix,
    default_model_path,
    model_text,
)
from qinglang.learn.features import FeatureParams, hash_ngrams
from qinglang.learn.train import TrainResult
from qinglang.model import Post


@pytest.fixture
def artifact(mini_trained: TrainResult, tmp_path: Path) -> Path:
    """A private copy of the mini model, safe to corrupt."""
    dst = tmp_path / "model"
    shutil.copytree(mini_trained.out, dst)
    return dst


def test_predict_proba_shape_and_range(mini_trained: TrainResult) -> None:
    model = mini_trained.model
    texts = ["老师带单，明天涨停", "", "hello world", "x" * 5000]
    p = model.predict_proba(texts)
    assert p.shape == (4, len(model.labels)) and p.dtype == np.float32
    assert np.all((p >= 0) & (p <= 1))
    assert model.predict_proba([]).shape == (0, len(model.labels))
    big = model.predict_proba(["加V详聊"] * 5000)  # crosses the internal chunk size
    assert np.allclose(big, big[0])


def test_predictions_follow_the_training_signal(mini_trained: TrainResult) -> None:
    model = mini_trained.model
    p = model.predict_proba(["老师带单，今日牛股必涨停，稳赚", "周末去公园散步，天气很好"])
    j = model.labels.index("stock_tipping")
    assert p[0, j] > 0.5 > p[1, j]
    assert "stock_tipping" in model.predict(["老师带单，今日牛股必涨停，稳赚"])[0]


def test_top_features_are_ngrams_of_the_text(mini_trained: TrainResult) -> None:
    model = mini_trained.model
    text = "黑户可贷，征信花也能贷，当天包下款"
    feats = model.top_features(text, "illegal_intermediary", k=5)
    assert 0 < len(feats) <= 5
    for gram, contribution in feats:
        assert gram in text and contribution > 0
    assert [c for _, c in feats] == sorted((c for _, c in feats), reverse=True)
    assert model.top_features("", "illegal_intermediary") == []
    with pytest.raises(QLError) as exc:
        model.top_features(text, "no_such_label")
    assert exc.value.code is errors.BAD_OPTION


def test_top_features_add_up_to_the_logit(mini_trained: TrainResult) -> None:
    model = mini_trained.model
    text = "包下款"  # every n-gram occurs once: the contributions are the whole dot product
    j = model.labels.index("illegal_intermediary")
    feats = model.top_features(text, "illegal_intermediary", k=100, min_chars=1)
    logit = float(model.decision_function([text])[0, j])
    negatives = logit - model.bias[j] - sum(c for _, c in feats)
    assert negatives <= 1e-4  # what is left is the n-grams that pushed the other way


def test_save_load_roundtrip(mini_trained: TrainResult, tmp_path: Path) -> None:
    model = mini_trained.model
    model.save(tmp_path / "again")
    again = TextClassifier.load(tmp_path / "again" / MODEL_FILE)  # the json's path works too
    assert again.labels == model.labels and again.name == "mini" and again.version == "0.0.1"
    texts = ["老师带单", "presale 100x token"]
    assert np.array_equal(again.predict_proba(texts), model.predict_proba(texts))
    assert (tmp_path / "again" / WEIGHTS_FILE).read_bytes() == (mini_trained.out / WEIGHTS_FILE).read_bytes()


def test_load_missing_model(tmp_path: Path) -> None:
    with pytest.raises(QLError) as exc:
        TextClassifier.load(tmp_path / "nope")
    assert exc.value.code is errors.MODEL_NOT_FOUND
    (tmp_path / "empty").mkdir()
    with pytest.raises(QLError) as exc:
        TextClassifier.load(tmp_path / "empty")
    assert exc.value.code is errors.MODEL_NOT_FOUND


def _expect_invalid(path: Path, fragment: str) -> None:
    with pytest.raises(QLError) as exc:
        TextClassifier.load(path)
    assert exc.value.code is errors.MODEL_INVALID, exc.value
    assert fragment in exc.value.message, exc.value.message


def test_load_rejects_corrupted_weights(artifact: Path) -> None:
    blob = bytearray((artifact / WEIGHTS_FILE).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (artifact / WEIGHTS_FILE).write_bytes(bytes(blob))
    _expect_invalid(artifact, "checksum")


def test_load_rejects_missing_weights(artifact: Path) -> None:
    (artifact / WEIGHTS_FILE).unlink()
    _expect_invalid(artifact, "missing")


def test_load_rejects_broken_json(artifact: Path) -> None:
    (artifact / MODEL_FILE).write_text('{"format": "qinglang-textclf/1", "name": ', "utf-8")
    _expect_invalid(artifact, "JSON")


def _edit_json(artifact: Path, **changes: object) -> None:
    doc = json.loads((artifact / MODEL_FILE).read_text("utf-8"))
    doc.update(changes)
    (artifact / MODEL_FILE).write_text(json.dumps(doc), "utf-8")


def test_load_rejects_wrong_format_and_bad_fields(artifact: Path) -> None:
    _edit_json(artifact, format="something-else/9")
    _expect_invalid(artifact, "not a qinglang-textclf/2 artifact")
    _edit_json(artifact, format="qinglang-textclf/2", labels="stock_tipping")
    _expect_invalid(artifact, "labels")


def test_load_rejects_a_bad_combination(artifact: Path) -> None:
    doc = json.loads((artifact / MODEL_FILE).read_text("utf-8"))
    doc["combination"]["stock_tipping"] = {"zh": {"kind": "magic"}}
    (artifact / MODEL_FILE).write_text(json.dumps(doc), "utf-8")
    _expect_invalid(artifact, "unknown combination kind")
    doc["combination"]["stock_tipping"] = {"zh": {"kind": "or_model", "model_threshold": None}}
    (artifact / MODEL_FILE).write_text(json.dumps(doc), "utf-8")
    _expect_invalid(artifact, "needs a model_threshold")
    doc["combination"]["stock_tipping"] = {"zh": {"kind": "or_model", "model_threshold": 3.0}}
    (artifact / MODEL_FILE).write_text(json.dumps(doc), "utf-8")
    _expect_invalid(artifact, "model_threshold")
    del doc["combination"]["stock_tipping"]
    (artifact / MODEL_FILE).write_text(json.dumps(doc), "utf-8")
    _expect_invalid(artifact, "one entry per label")


def test_format_1_artifacts_still_load_and_combine_as_before(mini_trained: TrainResult, tmp_path: Path) -> None:
    """A model written before per-language combinations: one ``combine`` entry per category, all languages."""
    model = TextClassifier.load(mini_trained.out)
    model.combination = None
    model.combine_params = {c: CombineParams("rules") for c in model.labels}
    model.combine_params["stock_tipping"] = CombineParams("logistic", 4.0, 1.0, -2.0)
    model.combined_thresholds = {c: 0.5 for c in model.labels}
    model.save(tmp_path / "v1")
    doc = json.loads((tmp_path / "v1" / MODEL_FILE).read_text("utf-8"))
    assert doc["format"] == "qinglang-textclf/1" and "combination" not in doc
    old = TextClassifier.load(tmp_path / "v1")
    assert old.combination is None and old.combine_params["stock_tipping"].kind == "logistic"
    from qinglang.learn.combination import decide

    assert decide(old, "card_cashout", "zh", 0.9, 0.99) is None  # rules decide
    score, thr = decide(old, "stock_tipping", "zh", 0.0, 0.9)
    assert thr == 0.5 and score == pytest.approx(combine(0.0, 0.9, old.combine_params["stock_tipping"]))


def test_load_rejects_thresholds_out_of_range(artifact: Path) -> None:
    doc = json.loads((artifact / MODEL_FILE).read_text("utf-8"))
    doc["thresholds"]["stock_tipping"] = 1.5
    (artifact / MODEL_FILE).write_text(json.dumps(doc), "utf-8")
    _expect_invalid(artifact, "thresholds[stock_tipping]")


def _rewrite_npz(artifact: Path, arrays: dict[str, np.ndarray], allow_pickle: bool = False) -> None:
    """Write new weights and a matching checksum: the checksum alone must not be the only guard."""
    import hashlib

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in arrays.items():
            a = io.BytesIO()
            np.lib.format.write_array(a, v, allow_pickle=allow_pickle)
            zf.writestr(f"{k}.npy", a.getvalue())
    blob = buf.getvalue()
    (artifact / WEIGHTS_FILE).write_bytes(blob)
    doc = json.loads((artifact / MODEL_FILE).read_text("utf-8"))
    doc["weights_file"]["sha256"] = hashlib.sha256(blob).hexdigest()
    (artifact / MODEL_FILE).write_text(json.dumps(doc), "utf-8")


def _arrays(artifact: Path) -> dict[str, np.ndarray]:
    with np.load(artifact / WEIGHTS_FILE, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_load_rejects_out_of_range_indices_even_with_a_matching_checksum(artifact: Path) -> None:
    arrays = _arrays(artifact)
    arrays["w_bucket"] = arrays["w_bucket"].copy()
    arrays["w_bucket"][0] = 1 << 30
    _rewrite_npz(artifact, arrays)
    _expect_invalid(artifact, "out of range")


def test_load_rejects_missing_array_and_non_finite_values(artifact: Path) -> None:
    arrays = _arrays(artifact)
    del arrays["bias"]
    _rewrite_npz(artifact, arrays)
    _expect_invalid(artifact, "lacks array")
    arrays = _arrays_with_bias(artifact)
    arrays["w_value"] = arrays["w_value"].copy()
    arrays["w_value"][0] = np.inf
    _rewrite_npz(artifact, arrays)
    _expect_invalid(artifact, "non-finite")


def _arrays_with_bias(artifact: Path) -> dict[str, np.ndarray]:
    arrays = _arrays(artifact)
    arrays.setdefault("bias", np.zeros(11, dtype=np.float32))
    return arrays


def test_load_never_unpickles(artifact: Path) -> None:
    arrays = _arrays(artifact)
    arrays["w_value"] = np.array([object()], dtype=object)  # an object array needs pickle to load
    _rewrite_npz(artifact, arrays, allow_pickle=True)
    _expect_invalid(artifact, "not a readable numpy archive")


def test_hashing_is_stable() -> None:
    """The hash defines what every shipped weight means: it must never change silently."""
    batch = hash_ngrams(["ab", "c"], FeatureParams(ngram_min=1, ngram_max=2, buckets_log2=18))
    assert batch.indptr.tolist() == [0, 3, 4]
    assert batch.buckets.tolist() == [65868, 185567, 176896, 177298]


def test_ngrams_do_not_cross_posts_and_digits_fold() -> None:
    p = FeatureParams(ngram_min=2, ngram_max=2)
    joined = hash_ngrams(["ab", "cd"], p).buckets.tolist()
    assert len(joined) == 2 and hash_ngrams(["bc"], p).buckets.tolist()[0] not in joined
    assert hash_ngrams(["600519"], p).buckets.tolist() == hash_ngrams(["000001"], p).buckets.tolist()


def test_combine() -> None:
    assert combine(0.0, 0.0, CombineParams()) == 0.0
    assert combine(0.5, 0.5, {"kind": "noisy_or"}) == pytest.approx(0.75)
    lg = CombineParams("logistic", w_rule=2.0, w_model=1.0, bias=-1.0)
    assert combine(0.9, 0.9, lg) > combine(0.0, 0.9, lg) > combine(0.0, 0.1, lg)
    rules = np.array([[0.0, 0.5], [0.9, 0.2]])
    probs = np.array([[0.3, 0.5], [0.99, 1e-9]])
    got = combine_matrix(rules, probs, [lg, CombineParams()])
    want = [[combine(r, p, par) for r, p, par in zip(rr, pp, [lg, CombineParams()], strict=True)]
            for rr, pp in zip(rules, probs, strict=True)]
    assert np.allclose(got, want)
    with pytest.raises(QLError):
        combine(0.1, 0.1, {"kind": "magic"})


def test_model_text_normalizes_each_field() -> None:
    post = Post(id="1", text="ABC", title="Def")
    assert model_text(post) == "abc\ndef"


def test_default_model_ships_and_is_licence_clean() -> None:
    path = default_model_path()
    if not (path / MODEL_FILE).is_file():
        pytest.skip("no default model shipped yet")
    t0 = time.perf_counter()
    model = TextClassifier.load(path)
    assert time.perf_counter() - t0 < 1.0
    meta = model.meta
    assert meta["shippable"] is True
    names = {d["name"] for d in meta["training_data"]}
    assert names <= {"janitr_x_crypto_en.jsonl", "labeled_zh.jsonl", "labeled_zh_more.jsonl", "labeled_en.jsonl",
                     "labeled_it.jsonl"}
    assert all(d["shippable"] for d in meta["training_data"])
    size = sum(f.stat().st_size for f in path.iterdir())
    assert size < 5_000_000
    assert (path / "MODEL_CARD.md").is_file()
    p = model.predict_proba(["presale live, this token will 100x, airdrop for early wallets"])
    assert p[0, model.labels.index("crypto_promotion")] > 0.5
