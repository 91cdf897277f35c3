"""Measure an engine on labeled data: gold labels, metrics, the run and its report.

``qinglang eval LABELED`` is :func:`qinglang.eval.run.evaluate` followed by
:func:`qinglang.eval.report.render_text`; docs/evaluation.md defines every number.
"""

from qinglang.eval.labels import Gold, LabelMap, gold_from_row, load_label_map
from qinglang.eval.metrics import Metrics, Scorer
from qinglang.eval.report import render_markdown, render_text
from qinglang.eval.run import EvalReport, evaluate

__all__ = [
    "EvalReport",
    "Gold",
    "LabelMap",
    "Metrics",
    "Scorer",
    "evaluate",
    "gold_from_row",
    "load_label_map",
    "render_markdown",
    "render_text",
]
