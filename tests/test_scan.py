"""The pipeline: one output per input record, in order, whatever fails where."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from qinglang import errors
from qinglang.errors import QLError
from qinglang.model import CategoryScore, ErrorRecord, Hit, Post, Verdict
from qinglang.scan import ScanStats, scan_records

VERSIONS = {"engine": "fake-1", "packs": {"test": "1"}}


class FakeEngine:
    """Flags 涨停 as stock_tipping and 谣言 as review-only financial_rumor; raises on BOOM."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def detect(self, posts: Sequence[Post]) -> list[Verdict]:
        self.calls.append(len(posts))
        out = []
        for p in posts:
            if "BOOM" in p.text:
                raise RuntimeError("engine exploded")
            if "CODED" in p.text:
                raise QLError(errors.REGEX_TIMEOUT, "regex rule x timed out")
            cats, hits = [], []
            if "涨停" in p.text:
                i = p.text.index("涨停")
                cats.append(CategoryScore("stock_tipping", 0.9, "high", False, ["t.tip"]))
                hits.append(Hit("stock_tipping", "t.tip", "test", "1", "text", "涨停", i, i + 2, "涨停", 0.9))
            if "谣言" in p.text:
                cats.append(CategoryScore("financial_rumor", 0.6, "low", True, ["t.rumor"]))
            severity = "high" if any(c.severity == "high" for c in cats) else ("low" if cats else "none")
            out.append(Verdict(p.id, cats, severity, any(c.review_only for c in cats), hits, [],
                               VERSIONS, p.account_id, p.platform))
        return out


def rec(n: int, text: str) -> tuple[int, dict[str, Any]]:
    return n, {"id": f"p{n}", "text": text}


def kinds(outputs: list[Verdict | ErrorRecord]) -> list[str]:
    return [o.code if isinstance(o, ErrorRecord) else o.id for o in outputs]


def test_one_output_per_record_in_order() -> None:
    records: list[tuple[int, Any]] = [
        (0, QLError(errors.EMPTY_INPUT, "nothing", record=0)),
        rec(1, "今天涨停"),
        (2, QLError(errors.MALFORMED_RECORD, "bad json", record=2)),
        (3, {"id": "p3"}),  # no text
        rec(4, "普通新闻"),
        (5, {"text": "no id"}),
        rec(6, "谣言 涨停"),
    ]
    stats = ScanStats()
    out = list(scan_records(FakeEngine(), records, batch_size=2, stats=stats))
    assert kinds(out) == ["QL-1007", "p1", "QL-1001", "QL-1003", "p4", "QL-1008", "p6"]
    assert [o.record for o in out if isinstance(o, ErrorRecord)] == [0, 2, 3, 5]
    assert out[3].id == "p3"  # type: ignore[union-attr]
    assert stats.records == len(records) == stats.verdicts + stats.error_count
    assert (stats.verdicts, stats.flagged, stats.review_only) == (3, 2, 1)
    assert stats.categories == {"stock_tipping": 2, "financial_rumor": 1}
    assert stats.severities == {"high": 2}
    assert stats.errors == {"QL-1007": 1, "QL-1001": 1, "QL-1003": 1, "QL-1008": 1}
    assert stats.first_errors["QL-1001"].record == 2
    assert stats.finished is not None and stats.elapsed >= 0
    d = stats.to_dict()
    assert d["records"] == 7 and d["errors"] == 4 and d["errors_by_code"]["QL-1003"] == 1


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1024])
def test_order_does_not_depend_on_batch_size(batch_size: int) -> None:
    records: list[tuple[int, Any]] = []
    for i in range(1, 40):
        records.append(rec(i, "涨停") if i % 3 else (i, QLError(errors.MALFORMED_RECORD, "x", record=i)))
    out = list(scan_records(FakeEngine(), records, batch_size=batch_size))
    assert [o.record if isinstance(o, ErrorRecord) else int(o.id[1:]) for o in out] == list(range(1, 40))


def test_engine_failure_is_retried_post_by_post() -> None:
    engine = FakeEngine()
    records = [rec(1, "a"), rec(2, "BOOM"), rec(3, "涨停"), rec(4, "CODED"), rec(5, "b")]
    out = list(scan_records(engine, records, batch_size=10))
    assert kinds(out) == ["p1", "QL-1010", "p3", "QL-3001", "p5"]
    failed = out[1]
    assert isinstance(failed, ErrorRecord)
    assert (failed.id, failed.record) == ("p2", 2)
    assert "RuntimeError: engine exploded" in failed.message
    assert out[3].message == "regex rule x timed out"  # type: ignore[union-attr]
    assert engine.calls == [5, 1, 1, 1, 1, 1]  # the batch, then each post alone
    assert out[2].flagged  # type: ignore[union-attr]


def test_engine_returning_the_wrong_count_is_caught() -> None:
    class Short(FakeEngine):
        def detect(self, posts: Sequence[Post]) -> list[Verdict]:
            return super().detect(posts)[:-1]

    out = list(scan_records(Short(), [rec(1, "a"), rec(2, "b")]))
    assert kinds(out) == ["QL-1010", "QL-1010"]
    assert "0 verdicts for 1 posts" in out[0].message  # type: ignore[union-attr]


def test_errors_before_any_post_leave_at_once() -> None:
    """A long run of bad records is not held back waiting for a batch to fill."""

    def records() -> Iterator[tuple[int, Any]]:
        yield 1, QLError(errors.MALFORMED_RECORD, "x", record=1)
        raise AssertionError("read too far")

    it = scan_records(FakeEngine(), records(), batch_size=100)
    assert kinds([next(it)]) == ["QL-1001"]


def test_buffer_is_bounded_by_batch_size() -> None:
    """Errors after a waiting post count toward the batch, so memory stays bounded."""
    seen: list[int] = []

    def records() -> Iterator[tuple[int, Any]]:
        yield rec(1, "a")
        for i in range(2, 10_000):
            seen.append(i)
            yield i, QLError(errors.MALFORMED_RECORD, "x", record=i)

    it = scan_records(FakeEngine(), records(), batch_size=8)
    assert kinds([next(it)]) == ["p1"]
    assert len(seen) < 10


def test_max_text_chars_is_passed_on() -> None:
    out = list(scan_records(FakeEngine(), [rec(1, "abcdef")], max_text_chars=3))
    assert kinds(out) == ["QL-1006"]


def test_bad_batch_size() -> None:
    with pytest.raises(QLError) as info:
        list(scan_records(FakeEngine(), [], batch_size=0))
    assert info.value.code.code == "QL-4003"


def test_account_and_platform_flow_to_the_verdict() -> None:
    out = list(scan_records(FakeEngine(), [(1, {"id": 1, "text": "x", "account_id": 9, "platform": "douyin"})]))
    assert (out[0].account_id, out[0].platform) == ("9", "douyin")  # type: ignore[union-attr]
