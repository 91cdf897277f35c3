"""Decisions exported as labeled training data, read back by the training and evaluation readers."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from review_util import NOW, RUMOR, TIP1, TIP2, TIP3, case_ids, detector, ingest, strict_ladder
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from qinglang.decide import default_ladder
from qinglang.eval.run import evaluate
from qinglang.learn.data import load_label_map, read_labeled
from qinglang.policy.loader import taxonomy
from qinglang.store import appeals, reviews, training_export
from qinglang.store.db import session_factory

LATER = NOW + timedelta(hours=1)


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def decided(factory: sessionmaker[Session]) -> None:
    """Four cases decided four ways, and an appeal upheld against an action nobody reviewed."""
    ingest(factory, [TIP1, TIP2, RUMOR], policy=strict_ladder())
    ingest(factory, [TIP3], tenant="t2")  # the ordinary ladder acts on it at once
    by_post: dict[str, int] = {}
    with factory() as s:
        for view in reviews.list_cases(s, "t1", status="all"):
            by_post[view.posts[0].post_id] = view.id
    plan = {"t1": ("confirm", None), "t2": ("recategorize", ["impersonation"]), "r1": ("overturn", None)}
    for post_id, (decision, cats) in plan.items():
        with factory() as s, s.begin():
            reviews.claim(s, "t1", by_post[post_id], "li", now=NOW)
            reviews.decide_case(s, "t1", by_post[post_id], "li", decision, now=LATER, policy=default_ladder(),
                                categories=cats)
    with factory() as s, s.begin():
        appeal = appeals.file_appeal(s, "t2", "t3#1/remove_content", "tipster", now=LATER)
    with factory() as s, s.begin():
        appeals.decide_appeal(s, "t2", appeal.id, "wang", "upheld", now=LATER, policy=default_ladder())


def export(factory: sessionmaker[Session], tenant: str, **kw: object) -> tuple[list[dict[str, object]], dict]:
    buf = io.BytesIO()
    with factory() as s:
        stats = training_export.write_jsonl(s, tenant, buf, **kw)  # type: ignore[arg-type]
    return [json.loads(line) for line in buf.getvalue().decode().splitlines()], stats.to_dict()


def test_rows_carry_labels_and_provenance(factory: sessionmaker[Session]) -> None:
    decided(factory)
    rows, stats = export(factory, "t1")
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {"t1#1", "t2#1", "r1#1"} and stats["rows"] == 3
    assert by_id["t1#1"]["labels"] == ["stock_tipping", "traffic_diversion"] and by_id["t1#1"]["lang"] == "zh"
    assert by_id["t2#1"]["labels"] == ["impersonation"]
    assert by_id["r1#1"]["labels"] == [] and by_id["r1#1"]["meta"]["negatives"] == ["financial_rumor"]
    assert (stats["positives"], stats["negatives"]) == (2, 1)
    meta = by_id["t2#1"]["meta"]
    assert meta["decision"] == "recategorize" and meta["decided_by"] == "li" and meta["post_id"] == "t2"
    assert set(meta["negatives"]) == {"stock_tipping", "traffic_diversion"}  # the reviewer removed them
    assert by_id["t1#1"]["text"] == TIP1["text"] and by_id["t1#1"]["label_source"] == "review"
    assert "account_id" not in by_id["t1#1"]  # nothing about the account leaves

    [appealed], _ = export(factory, "t2")
    assert appealed["id"] == "t3#1" and appealed["label_source"] == "appeal"
    assert "stock_tipping" not in appealed["labels"] and "stock_tipping" in appealed["meta"]["negatives"]
    assert appealed["meta"]["decided_by"] == "wang"

    assert export(factory, "t1", since=LATER + timedelta(seconds=1))[0] == []
    assert export(factory, "nobody")[0] == []


def test_appeal_after_confirmation_wins(factory: sessionmaker[Session]) -> None:
    ingest(factory, [TIP1], policy=strict_ladder())
    [cid] = case_ids(factory)
    with factory() as s, s.begin():
        reviews.claim(s, "t1", cid, "li", now=NOW)
        reviews.decide_case(s, "t1", cid, "li", "confirm", now=LATER, policy=default_ladder())
    with factory() as s, s.begin():
        appeal = appeals.file_appeal(s, "t1", "t1#1/remove_content", "tipster", now=LATER + timedelta(days=1))
        appeals.decide_appeal(s, "t1", appeal.id, "wang", "upheld", now=LATER + timedelta(days=2),
                              policy=default_ladder())
    [row], _ = export(factory, "t1")
    assert row["labels"] == ["traffic_diversion"] and row["meta"]["negatives"] == ["stock_tipping"]
    assert [h["source"] for h in row["meta"]["history"]] == ["review", "appeal"]


def test_train_and_eval_read_the_export(factory: sessionmaker[Session], tmp_path: Path) -> None:
    decided(factory)
    path = tmp_path / "reviewed.jsonl"
    with factory() as s, path.open("wb") as fh:
        training_export.write_jsonl(s, "t1", fh)
    rows, stats = read_labeled(path, label_map=load_label_map(None), known_codes=taxonomy())
    assert stats.used == 3 and not stats.skipped and stats.negatives == 1
    assert {r.id: r.labels for r in rows}["t2#1"] == ("impersonation",)
    report = evaluate(detector(), path)
    assert report.rows_skipped == 0 and report.rows_detected == 3
