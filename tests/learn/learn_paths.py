"""Paths of the learned detector's test fixtures (a plain module: test files import it by name)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
#: ~90 project-written posts, zh and en, six categories and benign ones, exact ``labels``
MINI = FIXTURES / "labeled_mini.jsonl"
#: rows in the shared development-data format (target_category / is_positive), made up
SHARED_FORMAT = FIXTURES / "shared_format_mini.jsonl"
