"""Run the scan-throughput matrix and print the Markdown table for docs/benchmarks.md.

Usage: python benchmarks/scan_matrix.py [--posts 200000] [--repeat 3] [--out benchmarks/out]

Each configuration runs ``benchmarks/scan_throughput.py`` in a fresh process (pinned
to one CPU there), so one configuration's warm caches never help the next. Corpora:
the generated stream at 5% and 20% suspicious posts, and replays of two development
files (THUCNews headlines: short; Weibo21: ~117 characters), each with and without
the bundled model. Missing development files are skipped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"

CONFIGS: list[tuple[str, list[str]]] = [
    ("generated, 5% suspicious", ["--suspicious", "0.05"]),
    ("generated, 20% suspicious", ["--suspicious", "0.2"]),
    ("thucnews_titles_zh.jsonl replay", ["--from", str(DATA / "thucnews_titles_zh.jsonl")]),
    ("weibo21_zh_trainval.jsonl replay", ["--from", str(DATA / "weibo21_zh_trainval.jsonl")]),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, extra in CONFIGS:
        if "--from" in extra and not Path(extra[-1]).exists():
            print(f"skip {name}: {extra[-1]} not found", file=sys.stderr)
            continue
        for model in (None, "default"):
            cmd = [sys.executable, str(HERE / "scan_throughput.py"), "--posts", str(args.posts),
                   "--repeat", str(args.repeat), "--json", *extra]
            if model:
                cmd += ["--model", model]
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            slug = name.split(",")[0].split(".")[0].replace(" ", "-") + "-" + "-".join(extra[1:2]).replace("/", "_")
            (args.out / f"{slug[:60]}{'-model' if model else ''}.json").write_text(json.dumps(res, indent=2))
            rows.append((name, model or "rules only", res))
            print(f"done: {name} / {model or 'rules only'}", file=sys.stderr)
    print("| corpus | detection | posts | MB | json parse posts/s | scan posts/s | scan MB/s | scan ÷ json parse time |"
          " median of per-round ratios | scan ÷ orjson parse time | flagged |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, model, r in rows:
        pps = r["posts_per_s"]
        print(f"| {name} | {model} | {r['posts']:,} | {r['mb']} | {pps['json']:,} | **{pps['scan']:,}** | "
              f"{r['mb_per_s']['scan']} | {r['scan_vs_json_parse']}x | {r['scan_vs_json_parse_paired']}x | "
              f"{r['scan_vs_orjson_parse']}x | "
              f"{r['flagged']:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
