"""The learned detector beside the rules: a multi-label char n-gram linear model.

Inference (``classifier``, ``features``) needs numpy and scipy only and imports in a
fraction of a second; training (``train``, ``data``, ``card``) also needs
scikit-learn and is imported only when a model is trained. See docs/model.md.
"""

from qinglang.learn.classifier import (
    CombineParams,
    TextClassifier,
    combine,
    combine_matrix,
    default_model,
    default_model_path,
    model_text,
)
from qinglang.learn.combination import LangPath, decide

__all__ = [
    "CombineParams",
    "LangPath",
    "TextClassifier",
    "combine",
    "combine_matrix",
    "decide",
    "default_model",
    "default_model_path",
    "model_text",
]
