"""One test per ladder-validation error kind; the messages are golden (file:line: field: message)."""

from __future__ import annotations

import pytest

from qinglang import errors
from qinglang.decide.policy import bundled_ladder_path, default_ladder, load_ladder, load_ladder_text
from qinglang.errors import QLError

BASE = """\
ladder: demo
version: "1"
window_days: 180
points:
  severity: {low: 1, medium: 2, high: 3}
  categories:
    impersonation: {high: 5}
steps:
  - {action: warning, at: 1}
  - {action: mute, at: 4, duration_days: 7}
  - {action: close_account, at: 10}
expiry_days:
  warning: 90
  remove_content: null
  mute: null
  suspend_updates: 30
  remove_monetisation: 90
  close_account: null
  rectification_notice: 15
review:
  categories: [financial_rumor]
  confidence_floor: 0.7
licensing:
  disclosure_categories: [loan_marketing]
"""

CASES = {
    "yaml_syntax": (errors.LADDER_YAML, BASE.replace("{low: 1,", "{low: 1"),
                    "ladder.yaml:5: expected ',' or '}', but got ':'"),
    "unknown_field": (errors.LADDER_SCHEMA, BASE.replace("window_days", "window_dayz"),
                      "ladder.yaml:1: window_days: Field required; "
                      "ladder.yaml:3: window_dayz: unknown field 'window_dayz' (did you mean 'window_days'?)"),
    "unknown_nested_field": (errors.LADDER_SCHEMA, BASE.replace("confidence_floor", "confidence_flor"),
                             "ladder.yaml:22: review.confidence_flor: unknown field 'confidence_flor' "
                             "(did you mean 'confidence_floor'?)"),
    "unknown_action": (errors.LADDER_SCHEMA, BASE.replace("action: mute", "action: silence"),
                       "ladder.yaml:10: steps.1.action: Input should be 'warning', 'remove_content', 'mute', "
                       "'suspend_updates', 'remove_monetisation' or 'close_account'"),
    "wrong_type": (errors.LADDER_SCHEMA, BASE.replace("at: 4,", "at: many,"),
                   "ladder.yaml:10: steps.1.at: Input should be a valid integer, unable to parse string as an integer"),
    "floor_range": (errors.LADDER_SCHEMA, BASE.replace("0.7", "1.5"),
                    "ladder.yaml:22: review.confidence_floor: Input should be less than or equal to 1"),
    "mute_without_duration": (errors.LADDER_SCHEMA, BASE.replace(", duration_days: 7", ""),
                              "ladder.yaml:10: steps.1: a mute needs a duration (duration_days, or expiry_days.mute)"),
    "unknown_category": (errors.LADDER_UNKNOWN_CATEGORY, BASE.replace("[financial_rumor]", "[financial_rumour]"),
                         "ladder.yaml:21: review.categories.0: unknown category 'financial_rumour' "
                         "(did you mean 'financial_rumor'?)"),
    "steps_reordered": (errors.LADDER_STEP_ORDER, BASE.replace("action: warning", "action: suspend_updates"),
                        "ladder.yaml:10: steps.1.action: 'mute' comes before 'suspend_updates' in the ladder "
                        "(warning < remove_content < mute < suspend_updates < remove_monetisation < close_account)"),
    "threshold_not_rising": (errors.LADDER_STEP_ORDER, BASE.replace("at: 10", "at: 4"),
                             "ladder.yaml:11: steps.2.at: threshold 4 must be above the previous step's 4"),
    "step_twice": (errors.LADDER_STEP_ORDER, BASE.replace("action: close_account", "action: mute"),
                   "ladder.yaml:11: steps.2.action: step 'mute' is already step 1; "
                   "ladder.yaml:11: steps.2: a mute needs a duration (duration_days, or expiry_days.mute)"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ladder_error(name):
    code, text, message = CASES[name]
    with pytest.raises(QLError) as info:
        load_ladder_text(text, "ladder.yaml")
    assert info.value.code == code
    assert info.value.message == message


def test_not_a_mapping_and_not_found(tmp_path):
    with pytest.raises(QLError) as info:
        load_ladder_text("- a\n- b\n", "ladder.yaml")
    assert info.value.code == errors.LADDER_SCHEMA
    with pytest.raises(QLError) as info:
        load_ladder(tmp_path / "none.yaml")
    assert info.value.code == errors.LADDER_NOT_FOUND


def test_base_is_valid():
    policy = load_ladder_text(BASE, "ladder.yaml")
    assert policy.ref == "demo@1" and [s.action for s in policy.steps] == ["warning", "mute", "close_account"]
    assert policy.duration_days("mute") == 7 and policy.duration_days("close_account") is None
    assert policy.points_for("impersonation", "high") == (5, "points.category.impersonation.high")
    assert policy.points_for("impersonation", "medium") == (2, "points.severity.medium")
    assert policy.step_for(0) is None and policy.step_for(5).action == "mute"


def test_bundled_ladder_loads():
    policy = load_ladder(bundled_ladder_path())
    assert policy == default_ladder()
    assert [s.action for s in policy.steps] == ["warning", "remove_content", "mute", "suspend_updates",
                                                "remove_monetisation", "close_account"]
    assert set(policy.review.categories) == {"institution_defamation", "financial_rumor"}
