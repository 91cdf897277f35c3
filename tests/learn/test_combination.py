"""Per-language combination of rules and model: when the model may flag alone, when it may veto."""

from __future__ import annotations

import numpy as np
import pytest

from qinglang.detect.engine import Engine
from qinglang.learn.combination import (
    LangPath,
    apply_paths,
    cross_fitted,
    decide,
    fit_category,
    fit_lang,
    path_threshold,
)
from qinglang.model import Post
from qinglang.policy.loader import load_pack_text


def _dev(n_pos: int, n_neg: int, rules_catch: int, rng_seed: int = 0) -> tuple[np.ndarray, ...]:
    """y, rule flags (the first ``rules_catch`` positives), probabilities: positives high, negatives low."""
    rng = np.random.default_rng(rng_seed)
    y = np.array([1] * n_pos + [0] * n_neg)
    rf = np.zeros(len(y), dtype=bool)
    rf[:rules_catch] = True
    prob = np.where(y == 1, 0.6 + 0.4 * rng.random(len(y)), 0.4 * rng.random(len(y)))
    return y, rf, prob


def test_path_threshold_meets_precision_and_the_fp_cap() -> None:
    y = np.array([1, 1, 0, 1, 0, 1, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    thr, tp, fp = path_threshold(s, y, 0.9, max_fp=0)
    assert (tp, fp) == (2, 0) and 0.7 < thr < 0.8
    thr, tp, fp = path_threshold(s, y, 0.6, max_fp=2)
    assert (tp, fp) == (4, 2) and 0.3 < thr < 0.4
    assert path_threshold(s[2:3], y[2:3], 0.9, max_fp=5) is None  # no positive to add
    assert path_threshold(s[:0], y[:0], 0.9, max_fp=5) is None


def test_model_path_opens_only_with_enough_rows_in_the_language() -> None:
    y, rf, prob = _dev(20, 200, rules_catch=10)
    path = fit_lang(y, rf, prob, target_precision=0.9)
    assert path.kind == "or_model" and path.model_threshold is not None
    assert path.dev["added_tp"] == 10 and path.dev["added_fp"] == 0
    assert path.dev["positives"] == 20 and path.dev["negatives"] == 200 and path.dev["rules_missed"] == 10
    few_neg = fit_lang(*_dev(20, 29, rules_catch=10), target_precision=0.9)
    assert few_neg.kind == "rules" and "29 dev negatives" in few_neg.reason
    few_pos = fit_lang(*_dev(4, 200, rules_catch=0), target_precision=0.9)
    assert few_pos.kind == "rules" and "4 dev positives" in few_pos.reason


def test_model_path_stays_shut_when_the_rules_miss_too_few() -> None:
    path = fit_lang(*_dev(20, 200, rules_catch=16), target_precision=0.9)
    assert path.kind == "rules" and "miss 4" in path.reason


def test_model_path_flags_at_most_the_allowed_share_of_negatives() -> None:
    y, rf, prob = _dev(20, 200, rules_catch=0)
    prob[20:23] = 0.99  # three negatives the model is sure about
    path = fit_lang(y, rf, prob, target_precision=0.5, max_fp_rate=0.005)  # 200 negatives → at most 1
    assert path.kind == "rules" and "≤ 1 of 200" in path.reason
    path = fit_lang(y, rf, prob, target_precision=0.5, max_fp_rate=0.02)  # at most 4
    assert path.kind == "or_model" and path.dev["added_fp"] == 3 and path.dev["added_tp"] == 20


def test_veto_needs_dev_evidence_that_it_helps() -> None:
    # the rules flag 40 positives and 10 negatives; the model gives the negatives low probabilities
    y = np.array([1] * 40 + [0] * 210)
    rf = np.zeros(250, dtype=bool)
    rf[:50] = True
    prob = np.where(y == 1, 0.8, 0.05)
    off = fit_lang(y, rf, prob, target_precision=0.9)  # vetoes are off unless training allows them
    assert off.veto_below is None and "vetoes are off" in off.veto_reason and "clears 10 false" in off.veto_reason
    path = fit_lang(y, rf, prob, target_precision=0.9, allow_veto=True)
    assert path.veto_below is not None and path.dev["vetoed_fp"] == 10 and path.dev["vetoed_tp"] == 0
    # the same negatives, but as many rule-caught positives just as low: the veto would cost more than it gains
    prob[:20] = 0.05
    path = fit_lang(y, rf, prob, target_precision=0.9, allow_veto=True)
    assert path.veto_below is None and path.veto_reason.startswith("no veto")
    # too few rule hits on negatives to judge a veto at all
    rf[44:50] = False  # the rules now flag 4 negatives
    path = fit_lang(y, rf, np.where(y == 1, 0.8, 0.05), target_precision=0.9, allow_veto=True)
    assert path.veto_below is None and "(< 5)" in path.veto_reason


def test_paths_are_per_language_and_unknown_languages_are_left_out() -> None:
    y, rf, prob = _dev(20, 200, rules_catch=10)
    langs = np.array(["en"] * len(y), dtype=object)
    langs[::7] = ""  # rows whose language could not be told
    paths = fit_category(y, rf, prob, langs, target_precision=0.9)
    assert set(paths) == {"en"}
    flags = apply_paths(paths, np.array(["zh"] * len(y), dtype=object), rf, prob)
    assert np.array_equal(flags, rf)  # no zh path: the rules decide
    cf = cross_fitted(y, rf, prob, np.array(["en"] * len(y), dtype=object), seed=0, target_precision=0.9)
    assert cf["tp"] + cf["fn"] == 20


class _Model:
    """Probabilities fixed per text; a per-language combination given as data."""

    name, version = "stub", "2"

    def __init__(self, combination: dict[str, dict[str, LangPath]], probs: dict[str, float]) -> None:
        self.labels = ["stock_tipping", "card_cashout"]
        self.thresholds = {"stock_tipping": 0.5, "card_cashout": 0.5}
        self.combination = combination
        self.probs = probs

    def normalizer_matches(self) -> bool:
        return True

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.array([(self.probs.get(t, 0.01), 0.01) for t in texts], dtype=np.float32)

    def top_features(self, text: str, label: str, k: int = 5) -> list[tuple[str, float]]:
        return [(text[:2], 1.0)]


PACK = load_pack_text(
    """
pack: t
version: "1"
rules:
  - id: t.tip
    category: stock_tipping
    score: 0.8
    when: [{any: [荐股, stock tips]}]
""",
    "t.yaml",
)


def _codes(model: _Model, *posts: Post) -> list[list[str]]:
    return [v.codes() for v in Engine([PACK], model=model, mode="combined").detect(list(posts))]  # type: ignore[arg-type]


def test_engine_opens_the_model_path_only_for_the_validated_language() -> None:
    en_only = {"stock_tipping": {"en": LangPath("or_model", 0.7)}, "card_cashout": {}}
    m = _Model(en_only, {"guaranteed picks every day": 0.9, "每天一只票稳赚": 0.9})
    got = _codes(m, Post(id="1", text="guaranteed picks every day", lang="en"),
                 Post(id="2", text="每天一只票稳赚"),  # no lang: guessed zh, and zh has no path
                 Post(id="3", text="每天一只票稳赚", lang="en"))  # a declared language wins
    assert got == [["stock_tipping"], [], ["stock_tipping"]]


def test_engine_keeps_rule_hits_unless_a_veto_was_validated() -> None:
    probs = {"荐股群": 0.02}
    no_veto = _Model({"stock_tipping": {"zh": LangPath("or_model", 0.7)}, "card_cashout": {}}, probs)
    assert _codes(no_veto, Post(id="1", text="荐股群")) == [["stock_tipping"]]
    veto = _Model({"stock_tipping": {"zh": LangPath("or_model", 0.7, veto_below=0.05)}, "card_cashout": {}}, probs)
    assert _codes(veto, Post(id="1", text="荐股群")) == [[]]
    # the rules' verdict carries the model's probability as evidence when the rules decide
    v = Engine([PACK], model=no_veto, mode="combined").detect([Post(id="1", text="荐股群")])[0]  # type: ignore[arg-type]
    assert any(h.kind == "model" for h in v.hits)


def test_decide_with_override_and_unknown_language() -> None:
    m = _Model({"stock_tipping": {"zh": LangPath("or_model", 0.7)}, "card_cashout": {}}, {})
    assert decide(m, "stock_tipping", None, 0.0, 0.99) is None
    assert decide(m, "stock_tipping", "zh", 0.0, 0.75) == (0.75, 0.7)
    assert decide(m, "stock_tipping", "zh", 0.9, 0.75) == (0.9, 0.7)  # the score is the stronger evidence
    assert decide(m, "stock_tipping", "zh", 0.0, 0.75, override=0.8) is None
    assert decide(m, "card_cashout", "zh", 0.9, 0.99) is None


@pytest.mark.parametrize("bad", [{"kind": "or_model"}, {"kind": "x"}, {"kind": "rules", "veto_below": -1}])
def test_lang_path_from_dict_refuses_bad_entries(bad: dict) -> None:
    from qinglang.errors import QLError

    with pytest.raises(QLError):
        LangPath.from_dict(bad)
    assert LangPath.from_dict(LangPath("or_model", 0.5, 0.1, {"positives": 3}, "r").to_dict()) == LangPath(
        "or_model", 0.5, 0.1, {"positives": 3}, "r")


def test_the_language_is_worked_out_only_when_a_probability_could_matter() -> None:
    from qinglang.learn.combination import LazyLang

    calls = []

    class Counting(LazyLang):
        __slots__ = ()

        def __call__(self) -> str | None:
            calls.append(1)
            return "zh"

    m = _Model({"stock_tipping": {"zh": LangPath("or_model", 0.7), "en": LangPath("or_model", 0.9)},
                "card_cashout": {}}, {})
    lang = Counting(Post(id="1", text="x"))
    assert decide(m, "stock_tipping", lang, 0.0, 0.5) is None and not calls  # below every path's threshold
    assert decide(m, "card_cashout", lang, 0.9, 0.99) is None and not calls  # no path in any language
    assert decide(m, "stock_tipping", lang, 0.0, 0.8) == (pytest.approx(0.8), 0.7) and calls == [1]


def test_placeholders_are_masked_in_new_feature_spaces_only() -> None:
    from qinglang.learn.features import FeatureParams, hash_ngrams, mask_placeholders

    assert mask_placeholders("xx银行客服 xxx先生 某某证券") == "  银行客服    先生   证券"
    assert mask_placeholders("fox box 0x1f taxi") == "fox box 0x1f taxi"  # x inside words stays
    on, off = FeatureParams(mask_placeholders=True), FeatureParams()
    assert hash_ngrams(["xx银行"], on).buckets.tolist() == hash_ngrams(["  银行"], on).buckets.tolist()
    assert hash_ngrams(["xx银行"], off).buckets.tolist() != hash_ngrams(["  银行"], off).buckets.tolist()
    assert FeatureParams.from_dict({k: v for k, v in off.to_dict().items() if k != "mask_placeholders"}) == off
