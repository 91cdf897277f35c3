"""Per-stage CPU cost of a scan, in µs per post: where the time of ``Engine.detect`` goes.

Usage:
    python benchmarks/stage_costs.py [--weibo FILE.jsonl] [--posts 20000] [--rounds 5]
                                     [--extractors] [--split] [--only weibo|generated]

Two corpora: the ``text`` of a Weibo-length JSONL file (default
``/work/shared/data/weibo21_zh_trainval.jsonl``, read in place) and the stream that
``benchmarks/scan_throughput.py --suspicious 0.05`` generates. For each it reports
the best of ``--rounds`` CPU times (``time.process_time``, because the machine is
shared: wall time would charge other people's work to us) for:

* ``normalize``: ``Normalizer.normalize`` on the raw text;
* ``entities``: ``extract_entities`` on the normalized text;
* ``match``: the term automaton (``TermMatcher.find_into``);
* ``detect``: the whole ``Engine.detect`` on single-post batches (the per-post work
  of a scan plus a little call overhead), and ``rest`` = detect minus the three
  stages above (rules, scoring, verdicts);
* with ``--extractors``: the text facts every gate reads (once per text), then each
  extractor's ``extract`` called alone with those facts already cached;
* with ``--split``: ``Engine.detect`` on batches of 1,024 (as a scan calls it) and
  writing the JSON line, per flagged post and per other post apart, and the share of
  each: on the generated stream the few flagged posts take a large part of the time.

Compare two versions by running this script with each on ``PYTHONPATH`` in turn,
several times, and keeping the best figure of each: the machine is noisy.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
DEFAULT_WEIBO = Path("/work/shared/data/weibo21_zh_trainval.jsonl")


def weibo_texts(path: Path, n: int) -> list[str]:
    """The non-empty texts of a JSONL file: all of them, or ``n`` (cycled if the file is shorter)."""
    texts: list[str] = []
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                t = orjson.loads(line).get("text")
                if t:
                    texts.append(t)
    return texts if n <= 0 else [texts[i % len(texts)] for i in range(n)]


def generated_texts(n: int, suspicious: float = 0.05) -> list[str]:
    """The texts ``scan_throughput.py`` generates (same seed, same mix)."""
    spec = importlib.util.spec_from_file_location("scan_throughput", HERE / "scan_throughput.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return [r["text"] for r in mod.generate(n, suspicious)]


def best_us(fn: Callable[[Any], object], items: Sequence[Any], rounds: int) -> float:
    """Best-of-``rounds`` CPU µs per item of ``fn`` over ``items``."""
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        for it in items:
            fn(it)
        best = min(best, time.process_time() - t)
    return best / len(items) * 1e6


def measure(name: str, texts: list[str], rounds: int, per_extractor: bool, split: bool = False) -> dict[str, float]:
    from qinglang.detect.engine import Engine
    from qinglang.entities import EXTRACTORS, extract_entities
    from qinglang.model import Post

    engine = Engine()
    normalize = engine.normalizer.normalize
    nts = [normalize(t) for t in texts]
    posts = [Post(id=str(i), text=t) for i, t in enumerate(texts)]
    find_into = engine.matcher.find_into
    detect = engine.detect

    res: dict[str, float] = {}
    res["normalize"] = best_us(normalize, texts, rounds)
    res["entities"] = best_us(lambda nt: extract_entities(nt, "text"), nts, rounds)
    res["match"] = best_us(lambda nt: find_into(nt.text, 0, {}), nts, rounds)
    res["detect"] = best_us(lambda p: detect([p]), posts, rounds)
    res["rest"] = res["detect"] - res["normalize"] - res["entities"] - res["match"]
    if split:
        from qinglang.io.writers import dumps

        verdicts = detect(posts)
        for label, want in (("flagged", True), ("not flagged", False)):
            group = [p for p, v in zip(posts, verdicts, strict=True) if v.flagged == want]
            if not group:
                continue
            batches = [group[i:i + 1024] for i in range(0, len(group), 1024)]
            res[f"detect, {label}"] = best_us(detect, batches, rounds) * len(batches) / len(group)
            out = detect(group)
            res[f"write, {label}"] = best_us(dumps, out, rounds)
            res[f"share {label} (%)"] = len(group) / len(posts) * 100
    if per_extractor:
        try:
            from qinglang.entities.base import text_facts
        except ImportError:  # an older tree, to compare with: its shared per-text work
            from qinglang.entities.base import digit_profile as text_facts

        facts = res["x:text facts"] = best_us(lambda nt: text_facts(nt.text), nts, rounds)
        for x in EXTRACTORS:
            # the facts are computed first, so the extractor finds them cached
            both = best_us(lambda nt, f=x.extract: (text_facts(nt.text), f(nt)), nts, rounds)
            res["x:" + x.name] = both - facts
    avg = sum(map(len, texts)) / len(texts)
    print(f"\n{name}: {len(texts)} posts, {avg:.0f} chars on average (best of {rounds}, CPU µs/post)")
    for k, v in res.items():
        print(f"  {k:<22}{v:8.2f}")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weibo", type=Path, default=DEFAULT_WEIBO)
    ap.add_argument("--posts", type=int, default=20_000, help="posts of the generated stream")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--extractors", action="store_true", help="time every extractor alone too")
    ap.add_argument("--only", choices=("weibo", "generated"))
    ap.add_argument("--split", action="store_true",
                    help="also detect (batches of 1,024) and write costs of flagged and other posts apart")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    if args.only != "generated":
        measure("weibo", weibo_texts(args.weibo, 0), args.rounds, args.extractors, args.split)
    if args.only != "weibo":
        measure("generated 5% suspicious", generated_texts(args.posts), args.rounds, args.extractors, args.split)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
