"""Shared fixtures for the learned detector: a model trained once on the project-written mini set."""

from __future__ import annotations

import pytest
from learn_paths import MINI

from qinglang.learn.train import TrainResult, train


@pytest.fixture(scope="session")
def mini_trained(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """A model trained on the mini fixture (30% dev so every category has dev rows), rules on."""
    out = tmp_path_factory.mktemp("learn") / "mini"
    return train([MINI], out=out, name="mini", version="0.0.1", seed=0, dev_fraction=0.3)
