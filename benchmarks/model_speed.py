"""Speed of the learned detector, and the measurement behind its model family.

Usage:
    python benchmarks/model_speed.py speed [--model DIR] [--batch 1000] [--chars 100] [--batches 50]
    python benchmarks/model_speed.py compare [--data DIR] [--zh] [--out FILE.md]

``speed`` (pinned to one CPU, BLAS limited to one thread): artifact size on disk,
load time (median of 20 loads), and ``predict_proba`` throughput on batches of
``--batch`` generated texts of about ``--chars`` characters, normalized first as the
engine would (normalization is timed separately: it is the engine's cost, not the
model's). Texts are composed from project-written fragments, mixed zh/en/it.

``compare`` trains each candidate (family × features) on the shared development
data and prints a Markdown table: macro average precision and macro cross-fitted
recall at the target precision over categories with dev positives, calibration
(Brier score, expected calibration error), training time, inference posts/s and
artifact size. Datasets (named with row counts in the output):

- ``janitr``: janitr_x_crypto_en.jsonl (MIT), the split training uses;
- ``zh`` (with ``--zh``): telecom_fraud5_zh + thucnews_titles_zh + weibo21_zh_trainval,
  research-only data: the models trained here are measured, written to a temporary
  directory and deleted, never shipped.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"

FRAGMENTS = [
    "央行今日开展逆回购操作，市场流动性保持合理充裕。",
    "沪深两市早盘震荡，银行板块小幅走高。",
    "老师带单，今日牛股600519必涨，进VIP群。",
    "黑户可贷，征信花也能贷，包下款！",
    "日结兼职，刷单返利，拉人头有奖励，详情私信。",
    "U商承兑，USDT高价回收，加飞机 @otc_fast。",
    "信用卡套现、代还、提额，手续费低。",
    "代理维权，全额退保，停息挂账，成功再收费。",
    "周末去爬山，天气很好，拍了很多照片。",
    "Bitcoin dipped 3% overnight as traders priced in the rate decision. ",
    "100x gem presale now, DM me for signals, join the VIP group. ",
    "Just finished reading a book on index funds, highly recommend it. ",
    "Send 1 ETH and get 2 ETH back, giveaway live now! ",
    "La banca centrale ha lasciato invariati i tassi di interesse. ",
    "Rendimento garantito del 5% al mese, contattami su WhatsApp. ",
]


def pin_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def make_texts(n: int, chars: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = ""
        while len(t) < chars:
            t += rng.choice(FRAGMENTS)
        out.append(t[:chars])
    return out


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


def throughput(model, texts: list[str], batch: int, repeat: int = 3) -> float:
    """Median posts/s of predict_proba over ``repeat`` passes of all batches."""
    batches = [texts[i : i + batch] for i in range(0, len(texts), batch)]
    model.predict_proba(batches[0])  # warm-up
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for b in batches:
            model.predict_proba(b)
        rates.append(len(texts) / (time.perf_counter() - t0))
    return statistics.median(rates)


def cmd_speed(args: argparse.Namespace) -> int:
    from qinglang.learn.classifier import TextClassifier, default_model_path
    from qinglang.text.normalize import default_normalizer

    print(pin_one_core())
    path = Path(args.model) if args.model else default_model_path()
    loads = []
    for _ in range(20):
        t0 = time.perf_counter()
        model = TextClassifier.load(path)
        loads.append(time.perf_counter() - t0)
    print(f"model {model.name} {model.version} at {path}")
    print(f"artifact size: {dir_size(path) / 1e6:.2f} MB ({', '.join(f.name for f in sorted(path.iterdir()))})")
    print(f"load time: median {statistics.median(loads) * 1e3:.1f} ms, max {max(loads) * 1e3:.1f} ms (20 loads)")
    raw = make_texts(args.batch * args.batches, args.chars)
    norm = default_normalizer().normalize
    t0 = time.perf_counter()
    texts = [norm(t).text for t in raw]
    t_norm = time.perf_counter() - t0
    rate = throughput(model, texts, args.batch)
    print(f"predict_proba: {rate:,.0f} posts/s on batches of {args.batch} texts of {args.chars} chars "
          f"({len(texts)} texts, median of 3 passes)")
    print(f"(normalization alone, current normalizer: {len(texts) / t_norm:,.0f} posts/s)")
    t0 = time.perf_counter()
    for t in texts[:200]:
        model.top_features(t, model.labels[0], 5)
    print(f"top_features: {(time.perf_counter() - t0) / 200 * 1e6:.0f} µs per call")
    return 0


# --- compare ---------------------------------------------------------------------------


def calibration(p: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[float, float]:
    """(Brier score, expected calibration error) of pooled probabilities ``p`` against 0/1 ``y``."""
    t = y.astype(np.float64)
    brier = float(np.mean((p - t) ** 2))
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(p[m].mean() - t[m].mean())
    return brier, float(ece)


_C13 = {"ngram_min": 1, "ngram_max": 3}
_BAL = {"balanced": True}
CANDIDATES = [
    # (label, family, features kwargs, C, calibrate[, other train() kwargs: unbalanced when absent])
    ("logreg char1-3 tfidf C=10 platt", "logreg", {"ngram_min": 1, "ngram_max": 3}, 10.0, True),
    ("logreg char1-3 tfidf C=10 raw", "logreg", {"ngram_min": 1, "ngram_max": 3}, 10.0, False),
    ("logreg char1-3 tfidf C=1 platt", "logreg", {"ngram_min": 1, "ngram_max": 3}, 1.0, True),
    ("logreg char1-3 tfidf C=30 platt", "logreg", {"ngram_min": 1, "ngram_max": 3}, 30.0, True),
    ("logreg char2-4 tfidf C=10 platt", "logreg", {"ngram_min": 2, "ngram_max": 4}, 10.0, True),
    ("logreg char1-3 count C=10 platt", "logreg", {"ngram_min": 1, "ngram_max": 3, "weighting": "count"}, 10.0,
     True),
    ("logreg char1-3 tfidf no-fold C=10 platt", "logreg", {"ngram_min": 1, "ngram_max": 3, "fold_digits": False},
     10.0, True),
    ("logreg char1-3 tfidf 2^20 C=10 platt", "logreg", {"ngram_min": 1, "ngram_max": 3, "buckets_log2": 20}, 10.0,
     True),
    ("svm char1-3 tfidf C=0.5 platt", "svm", {"ngram_min": 1, "ngram_max": 3}, 0.5, True),
    ("svm char1-3 tfidf C=0.1 platt", "svm", {"ngram_min": 1, "ngram_max": 3}, 0.1, True),
    ("svm char2-4 tfidf C=0.5 platt", "svm", {"ngram_min": 2, "ngram_max": 4}, 0.5, True),
    ("svm char2-4 tfidf C=1 platt", "svm", {"ngram_min": 2, "ngram_max": 4}, 1.0, True),
    ("svm char1-4 tfidf C=0.5 platt", "svm", {"ngram_min": 1, "ngram_max": 4}, 0.5, True),
    ("logreg char2-4 tfidf C=30 platt", "logreg", {"ngram_min": 2, "ngram_max": 4}, 30.0, True),
    ("svm char2-4 count C=0.5 platt", "svm", {"ngram_min": 2, "ngram_max": 4, "weighting": "count"}, 0.5, True),
    ("logreg char1-3 tfidf C=10 balanced platt", "logreg", _C13, 10.0, True, _BAL),
    ("logreg char1-3 tfidf C=30 balanced platt", "logreg", _C13, 30.0, True, _BAL),
    ("svm char1-3 tfidf C=0.5 balanced platt", "svm", _C13, 0.5, True, _BAL),
    ("svm char2-4 tfidf C=0.5 balanced platt", "svm", {"ngram_min": 2, "ngram_max": 4}, 0.5, True, _BAL),
    ("logreg char1-3 tfidf C=10 balanced raw", "logreg", _C13, 10.0, False, _BAL),
    ("logreg char1-3 tfidf C=100 balanced platt", "logreg", _C13, 100.0, True, _BAL),
    # pruning (the chosen model otherwise): what dropping small weights costs
    ("  prune 0 (keep all)", "logreg", _C13, 30.0, True, {"balanced": True, "prune": 0.0}),
    ("  prune 0.005", "logreg", _C13, 30.0, True, {"balanced": True, "prune": 0.005}),
    ("  prune 0.02", "logreg", _C13, 30.0, True, {"balanced": True, "prune": 0.02}),
    ("  prune 0.05", "logreg", _C13, 30.0, True, {"balanced": True, "prune": 0.05}),
    ("  prune 0.1", "logreg", _C13, 30.0, True, {"balanced": True, "prune": 0.1}),
]


def _examples() -> list[Path]:
    return sorted((REPO / "src" / "qinglang" / "examples").glob("labeled_*.jsonl"))


def _one_run(files: list[Path], cand: tuple, seed: int, bench_texts: list[str]) -> dict[str, float]:
    from qinglang.learn.features import FeatureParams
    from qinglang.learn.train import train

    _, family, fkw, c, cal, *rest = cand
    extra = rest[0] if rest else {"balanced": False}
    with tempfile.TemporaryDirectory() as tmp:
        res = train(files, out=Path(tmp) / "m", name="cmp", version="0", seed=seed, family=family,
                    features=FeatureParams(**fkw), c=c, calibrate=cal, use_rules=False, **extra)
    cols = [j for j, code in enumerate(res.model.labels) if res.dev_metrics[code]["dev_positives"] > 0]
    ms = [res.dev_metrics[res.model.labels[j]] for j in cols]
    assert res.dev_prob is not None and res.dev_labels is not None and res.dev_known is not None
    known = res.dev_known[:, cols]
    prob, gold = res.dev_prob[:, cols][known], res.dev_labels[:, cols][known]
    brier, ece = calibration(prob, gold)
    from sklearn.metrics import average_precision_score

    micro = float(average_precision_score(gold, prob))
    return {
        "micro": micro,
        "ap": statistics.mean(m["model"].get("ap", 0.0) for m in ms),
        "rec": statistics.mean(m["model_cross_fitted"]["recall"] for m in ms),
        "f1": statistics.mean(m["model_cross_fitted"]["f1"] for m in ms),
        "brier": brier,
        "ece": ece,
        "secs": res.model.meta["training_seconds"],
        "rate": throughput(res.model, bench_texts, 1000, repeat=1),
        "mb": res.model.meta["weights_file"]["bytes"] / 1e6,
        "labels": len(cols),
    }


def cmd_compare(args: argparse.Namespace) -> int:
    data = Path(args.data)
    sets: dict[str, list[Path]] = {}
    if _examples():
        sets["shipping data: janitr + project examples"] = [data / "janitr_x_crypto_en.jsonl", *_examples()]
    sets["janitr"] = [data / "janitr_x_crypto_en.jsonl"]
    if args.zh:
        sets["zh (research-only, not shipped)"] = [data / n for n in (
            "telecom_fraud5_zh.jsonl", "thucnews_titles_zh.jsonl", "weibo21_zh_trainval.jsonl")]
    if args.sets:
        keep = args.sets.split(",")
        sets = {k: v for k, v in sets.items() if any(k.startswith(x) for x in keep)}
    for files in sets.values():
        for f in files:
            if not f.is_file():
                print(f"missing {f}", file=sys.stderr)
                return 2
    only = {int(i) for i in args.only.split(",")} if args.only else None
    seeds = list(range(args.seeds))
    bench_texts = make_texts(20_000, 100)
    lines = [f"Seeds {seeds} (each seed = a different grouped, stratified 80/20 split); mean ± std over seeds. "
             "posts/s = predict_proba on batches of 1,000 generated 100-char texts, one core (noisy machine)."]
    for set_name, files in sets.items():
        rows = {f.name: sum(1 for line in f.open("rb") if line.strip()) for f in files}
        lines.append(f"\n### {set_name}: " + ", ".join(f"{n} ({r:,} rows)" for n, r in rows.items()) + "\n")
        lines.append("| # | candidate | micro AP | macro AP | macro R at P≥0.9 (cf) | macro F1 (cf) | Brier | ECE "
                     "| train s | posts/s | weights MB |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(lines[-3], flush=True)
        for i, cand in enumerate(CANDIDATES):
            if only is not None and i not in only:
                continue
            runs = [_one_run(files, cand, s, bench_texts) for s in seeds]

            def ms(key: str, fmt: str, runs: list[dict[str, float]] = runs) -> str:
                vals = [r[key] for r in runs]
                sd = statistics.pstdev(vals) if len(vals) > 1 else 0.0
                return f"{format(statistics.mean(vals), fmt)} ± {format(sd, fmt)}"

            line = (f"| {i} | {cand[0]} | {ms('micro', '.3f')} | {ms('ap', '.3f')} | {ms('rec', '.3f')} | "
                    f"{ms('f1', '.3f')} | "
                    f"{ms('brier', '.4f')} | {ms('ece', '.4f')} | {statistics.mean(r['secs'] for r in runs):.1f} | "
                    f"{statistics.median(r['rate'] for r in runs):,.0f} | {runs[0]['mb']:.2f} |")
            print(line, flush=True)
            lines.append(line)
        lines.append(f"\n(categories with dev positives: {runs[0]['labels']})")
    text = "\n".join(lines) + "\n"
    if args.out:
        Path(args.out).write_text(text, "utf-8")
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")
    sp_ = sub.add_parser("speed")
    sp_.add_argument("--model", default=None)
    sp_.add_argument("--batch", type=int, default=1000)
    sp_.add_argument("--chars", type=int, default=100)
    sp_.add_argument("--batches", type=int, default=50)
    cp = sub.add_parser("compare")
    cp.add_argument("--data", default=str(SHARED))
    cp.add_argument("--zh", action="store_true")
    cp.add_argument("--only", default=None, help="comma-separated candidate indices")
    cp.add_argument("--sets", default=None, help="comma-separated set-name prefixes (shipping, janitr, zh)")
    cp.add_argument("--seeds", type=int, default=5)
    cp.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.cmd == "compare":
        pin_one_core()
        return cmd_compare(args)
    if args.cmd is None:
        args = sp_.parse_args([])
    return cmd_speed(args)


if __name__ == "__main__":
    sys.exit(main())
