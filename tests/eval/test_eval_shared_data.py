"""Checks against the shared development corpora, when this checkout has them.

The corpora live outside the repository (../shared/data) and must not be copied
into it, so these tests read them in place and skip when they are absent.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from eval_fakes import FakeEngine

from qinglang.eval.labels import load_label_map
from qinglang.eval.run import evaluate

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def shared_files() -> list[Path]:
    if not SHARED.is_dir():
        pytest.skip(f"shared development data not present at {SHARED}")
    files = sorted(SHARED.glob("*.jsonl"))
    if not files:
        pytest.skip(f"no .jsonl files in {SHARED}")
    return files


def test_label_map_covers_every_target_category() -> None:
    label_map = load_label_map()
    missing: dict[str, set[str]] = {}
    for path in shared_files():
        with path.open("rb") as fh:
            for line in fh:
                if not line.strip():
                    continue
                target = orjson.loads(line).get("target_category")
                if target is not None and label_map.codes_for(target) is None:
                    missing.setdefault(path.name, set()).add(target)
    assert not missing, f"label map lacks target_category values: {missing}"


def test_shared_files_are_readable_and_labels_usable() -> None:
    for path in shared_files():
        r = evaluate(FakeEngine(), path, limit=500)
        assert r.rows_read == min(500, r.rows_in_file), path.name
        assert "QL-5001" not in r.skipped, (path.name, r.skipped["QL-5001"].examples)
        assert r.rows_in_file > 0
