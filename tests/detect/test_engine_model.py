"""The engine with a learned model: combination, "rules decide" fallback, model-only mode, evidence."""

from __future__ import annotations

import numpy as np
import pytest

from qinglang.detect.engine import Engine
from qinglang.errors import QLError
from qinglang.learn import CombineParams, combine, default_model
from qinglang.model import Post
from qinglang.policy.loader import load_pack_text

PACK = load_pack_text(
    """
pack: t
version: "1"
rules:
  - id: t.tip.weak
    category: stock_tipping
    score: 0.3
    when: [{any: [荐股]}]
  - id: t.cash.strong
    category: card_cashout
    score: 0.8
    when: [{any: [套现]}]
allow:
  - id: t.allow.warning
    when: [{any: [警惕]}]
    suppress: [stock_tipping]
""",
    "t.yaml",
)


class StubModel:
    """A classifier whose probabilities are fixed per text, to test the engine's logic exactly."""

    name = "stub"
    version = "9"

    def __init__(self, probs: dict[str, tuple[float, float]]) -> None:
        self.probs = probs
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
        return np.array([self.probs.get(t, (0.01, 0.01)) for t in texts], dtype=np.float32)

    def combine(self, label: str, rule_score: float, model_prob: float) -> float:
        return combine(rule_score, model_prob, self.combine_params[label])

    def top_features(self, text: str, label: str, k: int = 5) -> list[tuple[str, float]]:
        return [(text[:2], 1.0)]


def verdicts(mode: str, probs: dict[str, tuple[float, float]], *texts: str):
    eng = Engine([PACK], model=StubModel(probs), mode=mode)  # type: ignore[arg-type]
    return eng.detect([Post(id=str(i), text=t) for i, t in enumerate(texts)])


def test_model_lifts_a_weak_rule_over_the_threshold():
    # rules alone: 0.3 < 0.5; combined: sigmoid(4*0.3 + logit(0.9) - 2) = sigmoid(1.397) > 0.5
    (v,) = verdicts("combined", {"荐股": (0.9, 0.0)}, "荐股")
    assert v.codes() == ["stock_tipping"]
    model_hits = [h for h in v.hits if h.kind == "model"]
    assert model_hits and model_hits[0].detail["probability"] == pytest.approx(0.9, abs=1e-4)
    assert model_hits[0].detail["features"] == [{"ngram": "荐股", "weight": 1.0}]
    assert v.versions["model"] == {"name": "stub", "version": "9", "mode": "combined"}


def test_low_model_probability_keeps_a_weak_rule_down():
    (v,) = verdicts("combined", {"荐股": (0.05, 0.0)}, "荐股")
    assert v.codes() == []


def test_rules_decide_where_no_combination_was_validated():
    # card_cashout has kind "rules": a confident model alone must not flag it
    (v,) = verdicts("combined", {"你好": (0.01, 0.99)}, "你好")
    assert v.codes() == []
    # but when the rules flag it, the model's probability is shown as evidence
    (v,) = verdicts("combined", {"套现": (0.01, 0.99)}, "套现")
    assert v.codes() == ["card_cashout"]
    assert [h.kind for h in v.hits] == ["rule", "model"]


def test_model_mode_ignores_rules_and_allow_lists():
    a, b = verdicts("model", {"你好": (0.7, 0.0), "警惕荐股": (0.7, 0.0)}, "你好", "警惕荐股")
    assert a.codes() == ["stock_tipping"] and all(h.kind == "model" for h in a.hits)
    assert b.codes() == ["stock_tipping"]


def test_allow_list_suppresses_the_model_in_combined_mode():
    (v,) = verdicts("combined", {"警惕荐股": (0.99, 0.0)}, "警惕荐股")
    assert v.codes() == []


def test_bad_modes():
    with pytest.raises(QLError):
        Engine([PACK], mode="model")
    with pytest.raises(QLError):
        Engine([PACK], model=StubModel({}), mode="bogus")  # type: ignore[arg-type]


def test_default_model_end_to_end():
    eng = Engine(model=default_model())
    v = eng.detect_text("Send 1 ETH and get 2 ETH back! Giveaway live, claim now", lang="en")
    assert "crypto_promotion" in v.codes()
    assert any(h.kind == "model" and h.category == "crypto_promotion" for h in v.hits)
    assert eng.detect_text("央行宣布下调存款准备金率0.5个百分点").codes() == []
