"""Gang clustering at scale: a generated link graph with planted gangs, built and clustered.

Usage: python benchmarks/cluster_scale.py [--scale 1.0] [--seed 1] [--json]

``--scale 1`` is 1M accounts and about 5M account–identifier links. The generator
plants gangs (sizes 3–400, each sharing a pool of wallets, phones, handles, domains
and payment accounts, every member holding two or more of them) among benign
accounts that each hold their own device, phone and payment account, share IP
addresses (weak links), and name popular identifiers (a bank's hotline, big domains:
hubs, some allow-listed). Noise the product must survive:

* hubs: 200 identifiers named by 400+ accounts each (Zipf-like, up to 100,000 at scale 1), gang
  members included;
* benign sharing: families of two accounts on one device (small clusters that
  are no gang);
* victims: 2% of gang identifiers are also named by one benign account;
* bridges: a few "payment processor" identifiers, each shared by members of ~8 gangs
  (under the hub bar), which melt those gangs into giant components that Leiden
  must take apart; and pairs of gangs joined by one shared identifier.

The arrays are written to a temporary ``.npz``; a child process loads them and runs
the product's own code (``build_graph`` with the bundled settings, ``find_clusters``),
so its peak RSS (``resource.getrusage``, max RSS of the child) is the arrays plus
building and clustering. Membership quality per planted gang: the cluster holding most
of its members; precision = shared / cluster size, recall = shared / gang size; macro
averages over gangs and their F1. Goals (docs/benchmarks.md): under 60 s and 4 GB at
scale 1, F1 over 0.95.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: kind names the generator uses (all in cluster/data/links.yaml)
KINDS = ("phone", "wechat", "telegram", "wallet", "bank_card", "pay", "device", "domain", "ip")
K = {name: i for i, name in enumerate(KINDS)}
GANG_KINDS = np.array([K["wallet"], K["phone"], K["wechat"], K["telegram"], K["domain"], K["bank_card"], K["pay"]])


def generate(scale: float, seed: int) -> dict[str, np.ndarray]:
    """Links (account, identifier, kind) and the planted gangs (gang id per account, -1 for none)."""
    rng = np.random.default_rng(seed)
    n = int(1_000_000 * scale)
    next_id = 0

    def new_ids(count: int) -> np.ndarray:
        nonlocal next_id
        out = np.arange(next_id, next_id + count, dtype=np.int64)
        next_id += count
        return out

    acc_parts: list[np.ndarray] = []
    id_parts: list[np.ndarray] = []
    kind_parts: list[np.ndarray] = []

    def add(acc: np.ndarray, ident: np.ndarray, kind: np.ndarray | int) -> None:
        acc_parts.append(acc.astype(np.int64))
        id_parts.append(ident.astype(np.int64))
        kind_parts.append(np.broadcast_to(np.asarray(kind, dtype=np.int8), acc.shape).copy())

    # --- gangs: ~8% of accounts ---
    sizes: list[int] = []
    target = int(0.08 * n)
    while sum(sizes) < target:
        sizes.append(int(np.clip(rng.lognormal(3.3, 0.9), 3, 400)))
    gang_of = np.full(n, -1, dtype=np.int64)
    perm = rng.permutation(n)
    gang_members: list[np.ndarray] = []
    pools: list[np.ndarray] = []
    pos = 0
    for g, s in enumerate(sizes):
        members = perm[pos:pos + s]
        pos += s
        gang_of[members] = g
        gang_members.append(members)
        k = max(2, -(-s // 8))
        pool = new_ids(k)
        pools.append(pool)
        pool_kind = rng.choice(GANG_KINDS, size=k)
        j = np.arange(s)
        # a ring over the pool keeps the gang connected; extra picks favour the core identifiers
        first, second = j % k, (j + 1) % k
        extra_n = rng.integers(0, 3, size=s)
        extra_m = np.repeat(members, extra_n)
        extra = np.minimum(rng.zipf(1.6, size=len(extra_m)) - 1, k - 1)
        for sel_acc, sel in ((members, first), (members, second), (extra_m, extra)):
            add(sel_acc, pool[sel], pool_kind[sel])
    n_gangs = len(sizes)

    # --- every account: own device, own phone, shared IP (weak), and a payment account ---
    everyone = np.arange(n, dtype=np.int64)
    add(everyone, new_ids(n), K["device"])
    add(everyone, new_ids(n), K["phone"])
    add(everyone, new_ids(max(1, n // 20))[rng.integers(0, max(1, n // 20), size=n)], K["ip"])
    benign = everyone[gang_of < 0]
    add(benign, new_ids(len(benign)), K["pay"])

    # --- hubs: 200 popular identifiers (hotlines, big domains) ---
    hubs = new_ids(200)
    hub_kind = rng.choice(np.array([K["phone"], K["domain"]]), size=200)
    # Zipf-like popularity, about one popular identifier per account, each above the hub bar
    weight = 1.0 / np.arange(1, 201) ** 0.8
    degree = np.minimum(n, np.maximum(400, (weight / weight.sum() * n).astype(np.int64)))
    add(rng.integers(0, n, size=int(degree.sum())), np.repeat(hubs, degree), np.repeat(hub_kind, degree))

    # --- benign sharing: families on one device or phone ---
    fam = rng.choice(benign, size=(int(0.02 * n), 2), replace=False) if len(benign) > 0.04 * n else np.empty((0, 2))
    shared = new_ids(len(fam))
    add(fam[:, 0], shared, K["device"])
    add(fam[:, 1], shared, K["device"])

    # --- victims: 2% of gang identifiers named by one benign account ---
    all_pool = np.concatenate(pools)
    victim_ids = rng.choice(all_pool, size=max(1, int(0.02 * len(all_pool))), replace=False)
    add(rng.choice(benign, size=len(victim_ids)), victim_ids, K["phone"])

    # --- bridges: processors shared by ~8 gangs, and gang pairs with one shared identifier ---
    big = [g for g in range(n_gangs) if sizes[g] >= 10]
    rng.shuffle(big)
    for chunk in range(max(1, len(big) // 40)):
        gangs = big[chunk * 8:(chunk + 1) * 8]
        proc = new_ids(1)
        for g in gangs:
            who = rng.choice(gang_members[g], size=min(3, sizes[g]), replace=False)
            add(who, np.repeat(proc, len(who)), K["pay"])
    for a, b in rng.choice(n_gangs, size=(max(1, n_gangs // 50), 2)):
        bridge = new_ids(1)
        add(rng.choice(gang_members[a], size=1), bridge, K["wechat"])
        add(rng.choice(gang_members[b], size=1), bridge, K["wechat"])

    # --- fill up to ~5 links per account with personal, unshared identifiers ---
    have = sum(len(a) for a in acc_parts)
    fill = max(0, int(5 * n) - have)
    if fill:
        add(rng.integers(0, n, size=fill), new_ids(fill), K["wechat"])
    return {
        "accounts": np.concatenate(acc_parts),
        "identifiers": np.concatenate(id_parts),
        "kinds": np.concatenate(kind_parts),
        "gang_of": gang_of,
        "allow": hubs[:20],  # the best-known hubs are allow-listed too
    }


def child(path: str) -> None:
    """Load the arrays, build and cluster with the product's code, print timings as JSON."""
    from qinglang.cluster.clusters import find_clusters
    from qinglang.cluster.graph import build_graph
    from qinglang.cluster.settings import default_settings

    data = np.load(path)
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    settings = default_settings()
    t0 = time.perf_counter()
    graph = build_graph(data["accounts"], data["identifiers"], settings, kinds=data["kinds"], kind_names=KINDS,
                        allowlist=frozenset(data["allow"].tolist()))
    t1 = time.perf_counter()
    result = find_clusters(graph, settings.clusters)
    t2 = time.perf_counter()

    gang_of = data["gang_of"]
    # graph account index -> planted gang; accounts are 0..n-1 so keys are their own ids
    keys = graph.account_keys
    labels = np.full(len(gang_of), -1, dtype=np.int64)
    labels[keys] = result.labels
    precision, recall, f1 = [], [], []
    n_gangs = int(gang_of.max()) + 1
    cluster_size = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, dtype=np.int64)
    order = np.argsort(gang_of, kind="stable")
    counts = np.bincount(gang_of[gang_of >= 0], minlength=n_gangs)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) + int((gang_of < 0).sum())
    for g in range(n_gangs):
        members = order[starts[g]:starts[g] + counts[g]]
        lab = labels[members]
        lab = lab[lab >= 0]
        if len(lab) == 0:
            p = r = 0.0
        else:
            best = np.bincount(lab).argmax()
            inter = int((lab == best).sum())
            p, r = inter / int(cluster_size[best]), inter / len(members)
        precision.append(p)
        recall.append(r)
        f1.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    print(json.dumps({
        "accounts": graph.n_accounts, "identifiers": graph.n_identifiers, "links": len(graph.edge_account),
        "hubs": int(graph.hub.sum()), "allow_listed": int(graph.allowed.sum()),
        "build_s": round(t1 - t0, 2), "cluster_s": round(t2 - t1, 2), "total_s": round(t2 - t0, 2),
        "rss_loaded_mb": round(rss_loaded / 1024), "peak_rss_mb": round(resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024),
        **result.stats(), "gangs": n_gangs,
        "precision": round(float(np.mean(precision)), 4), "recall": round(float(np.mean(recall)), 4),
        "f1": round(float(np.mean(f1)), 4), "gangs_f1_over_0.9": round(float(np.mean(np.array(f1) > 0.9)), 4),
    }))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M accounts, ~5M links")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the result as JSON only")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    t0 = time.perf_counter()
    data = generate(args.scale, args.seed)
    gen_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "graph.npz")
        np.savez(path, **data)
        proc = subprocess.run([sys.executable, __file__, "--child", path], capture_output=True, text=True,
                              env={**os.environ, "OMP_NUM_THREADS": "1"}, check=False)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        sys.exit(proc.returncode)
    result = {"scale": args.scale, "seed": args.seed, "generate_s": round(gen_s, 2), **json.loads(proc.stdout)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['accounts']:,} accounts, {result['identifiers']:,} identifiers, {result['links']:,} links "
          f"({result['hubs']} hubs, {result['allow_listed']} allow-listed); {result['gangs']} planted gangs")
    print(f"build {result['build_s']} s, cluster {result['cluster_s']} s, total {result['total_s']} s; "
          f"peak RSS {result['peak_rss_mb']} MB (arrays loaded: {result['rss_loaded_mb']} MB)")
    print(f"{result['clusters']:,} clusters ({result['giants']} giant components, {result['giants_split']} split); "
          f"membership precision {result['precision']}, recall {result['recall']}, F1 {result['f1']} "
          f"({result['gangs_f1_over_0.9']:.1%} of gangs with F1 > 0.9)")


if __name__ == "__main__":
    main()
