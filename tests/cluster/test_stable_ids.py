"""Stable cluster ids: membership moving a little keeps the id; ids are never reused."""

from __future__ import annotations

import pytest

from qinglang.cluster.stable_ids import assign_ids, format_id, id_number

PREV = {"C-000001": set(range(0, 10)), "C-000002": set(range(100, 120))}


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param([set(range(0, 11)), set(range(100, 120))], ["C-000001", "C-000002"], id="one-added"),
        pytest.param([set(range(1, 10)), set(range(100, 120))], ["C-000001", "C-000002"], id="one-removed"),
        pytest.param([set(range(100, 119)) | {500}, set(range(0, 10))], ["C-000002", "C-000001"], id="order-free"),
        pytest.param([set(range(200, 210))], ["C-000003"], id="new-group"),
        pytest.param([set(range(0, 3)) | set(range(300, 310))], ["C-000003"], id="too-little-overlap"),
        pytest.param([set(range(100, 112)), set(range(112, 120))], ["C-000002", "C-000003"], id="split"),
        pytest.param([set(range(0, 10)) | set(range(100, 120))], ["C-000002"], id="merge"),
    ],
)
def test_ids_follow_members(new: list[set[int]], expected: list[str]) -> None:
    assert assign_ids(new, PREV).ids == expected


def test_retired_ids_are_not_reissued() -> None:
    result = assign_ids([set(range(500, 505))], PREV)
    assert result.ids == ["C-000003"]
    assert result.retired == ["C-000001", "C-000002"]
    later = assign_ids([set(range(600, 605))], {}, next_number=result.next_number)
    assert later.ids == ["C-000004"]


def test_id_format() -> None:
    assert format_id(123) == "C-000123"
    assert id_number("C-000123") == 123
    assert id_number("X-1") == 0
