"""The model card: ``MODEL_CARD.md`` rendered from a model's ``model.json``.

A model that takes part in decisions about people's speech must say what it was
trained on, under which licences, how well it does per category, where its
thresholds sit and what it must not be used for. The card is generated from the
same metadata the loader reads, so it cannot disagree with the artifact; it is
rendered by training and can be re-rendered from any artifact with :func:`render`.
"""

from __future__ import annotations

from typing import Any

INTENDED_USE = """\
- A second opinion beside the policy-pack rules in `qinglang scan`: the engine combines the
  model's probability with the rules' score per category (fitted combination below).
- Ranking and triage: putting likely violations in front of human reviewers first.
- Finding wordings the rules miss, to be turned into rules by a person."""

LIMITS = """\
- Not a decision-maker on its own. Review-only categories (`institution_defamation`,
  `financial_rumor`) must never be actioned without a person, whatever the score.
- Categories marked *not fitted* had (almost) no training examples: the model outputs a
  constant low probability for them and the rules alone carry them.
- Trained on short social-media posts; long documents, OCR and transcripts are further
  from the training data. Languages outside the training files are guessed from shared
  characters only.
- Character n-grams learn words, not intent: legitimate news that quotes a scam, or a
  licensed institution's compliant ad, can score high. Who posts (licence registry) is
  outside the model.
- Dev figures at thresholds chosen on the same dev rows are optimistic; the *cross-fitted*
  columns (each half of dev thresholded on the other half) are the honest estimate. Public
  labels are heuristic mappings of other taxonomies (see the label map), not gold.
- The project's own examples were written together with the policy packs: the rules' figures on
  them are in-sample and flatter the rules, and a combination fitted on them trusts the rules
  heavily. Refit the combination on independent labeled data before relying on its weights.
- The model reads normalized text; a change in the normalizer changes its input. The card
  records the normalizer's fingerprint at training time: retrain when it changes."""


def _pct(v: Any) -> str:
    return f"{100 * v:.1f}" if isinstance(v, (int, float)) else "-"


def _num(v: Any, digits: int = 3) -> str:
    return f"{v:.{digits}f}" if isinstance(v, (int, float)) else "-"


def render(meta: dict[str, Any]) -> str:
    """Markdown for ``MODEL_CARD.md`` from a ``model.json`` document."""
    lines: list[str] = []
    add = lines.append
    fam = meta.get("family", {})
    feats = meta.get("features", {})
    add(f"# Model card: {meta.get('name')} {meta.get('version')}")
    add("")
    add(f"Created {meta.get('created')}, seed {meta.get('seed')}, artifact format `{meta.get('format')}`.")
    if not meta.get("shippable", False):
        add("")
        add("**Not shippable.** At least one training file's licence does not allow shipping a model trained "
            "on it (research-only or unknown terms). Use this model for measurement only.")
    add("")
    add("## Model")
    add("")
    add(f"- Family: {fam.get('estimator')} one-vs-rest, C={fam.get('C')}; calibration: {fam.get('calibration')}.")
    add(f"- Features: hashed character {feats.get('ngram_min')}–{feats.get('ngram_max')}-grams, "
        f"2^{feats.get('buckets_log2')} buckets, weighting `{feats.get('weighting')}`, "
        f"digits folded: {feats.get('fold_digits')}.")
    wf = meta.get("weights_file", {})
    add(f"- Weights: {fam.get('storage')}, pruned below {fam.get('prune_below')}; "
        f"`weights.npz` {wf.get('bytes', 0) / 1e6:.2f} MB, sha256 `{str(wf.get('sha256', ''))[:16]}…`.")
    add(f"- Input: {meta.get('input')}. Normalizer fingerprint `{meta.get('normalizer', {}).get('fingerprint')}`.")
    add(f"- Labels: {', '.join(f'`{c}`' for c in meta.get('labels', []))}.")
    add("")
    add("## Training data")
    add("")
    add("| file | rows | used | positive | of which partial | negative | skipped | licence | sha256 |")
    add("|---|---:|---:|---:|---:|---:|---|---|---|")
    data = list(meta.get("training_data", []))
    if meta.get("dev_data"):
        data.append({**meta["dev_data"], "name": f"{meta['dev_data']['name']} (dev)"})
    for f in data:
        skipped = "; ".join(f"{k}: {v}" for k, v in f.get("skipped", {}).items()) or "0"
        add(f"| `{f['path']}` | {f['rows']} | {f['used']} | {f['positives']} | {f.get('partial', 0)} | "
            f"{f['negatives']} | {skipped} | "
            f"{f['licence']} | `{f['sha256'][:12]}` |")
    add("")
    split = meta.get("split", {})
    add(f"Split: {split.get('how')}. Train {split.get('train_rows')} rows ({split.get('train_positives')} "
        f"positive), dev {split.get('dev_rows')} rows ({split.get('dev_positives')} positive).")
    lm = meta.get("label_map", {})
    add(f"Label map: `{lm.get('source')}` v{lm.get('version')} (`{lm.get('sha256')}`). A mapped positive "
        "(`is_positive: true`) is *partial*: it trains and is scored for its primary code only, its other codes "
        "are unknown (a crypto-scam post may also divert traffic; its label does not say). Mapped negatives are "
        "negative for every code; rows with `is_positive: null` are skipped.")
    add("")
    add("Training positives per category: " + ", ".join(
        f"`{c}` {m.get('train_positives', 0)}" for c, m in meta.get("dev_metrics", {}).items()) + ".")
    add("")
    add(f"## Dev figures (target precision {meta.get('target_precision')})")
    add("")
    add("Model alone at its threshold; *cf* = cross-fitted (honest) estimate; rules = the bundled packs' "
        "verdicts; combined = rules + model through the fitted combination at its own threshold.")
    add("")
    add("| category | dev pos | threshold | P | R | F1 | AP | P cf | R cf | rules P | rules R | comb. P | comb. R "
        "| comb. R cf |")
    add("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for code, m in meta.get("dev_metrics", {}).items():
        mm, cf = m.get("model", {}), m.get("model_cross_fitted", {})
        rules, comb, ccf = m.get("rules") or {}, m.get("combined", {}), m.get("combined_cross_fitted", {})
        thr = _num(m.get("threshold"))
        if m.get("threshold_how") != "target":
            thr += f" ({m.get('threshold_how')})"
        if not m.get("fitted", True):
            thr += ", not fitted"
        add(f"| `{code}` | {m.get('dev_positives')} | {thr} | {_pct(mm.get('precision'))} | "
            f"{_pct(mm.get('recall'))} | {_pct(mm.get('f1'))} | {_pct(mm.get('ap'))} | {_pct(cf.get('precision'))} | "
            f"{_pct(cf.get('recall'))} | {_pct(rules.get('precision'))} | {_pct(rules.get('recall'))} | "
            f"{_pct(comb.get('precision'))} | {_pct(comb.get('recall'))} | {_pct(ccf.get('recall'))} |")
    add("")
    add("Thresholds: *fallback* = fewer than 5 dev positives, 0.5 used; *best_precision* = the target "
        "precision was not reachable on dev, the most precise cut was taken.")
    add("")
    add("## Combination with the rules")
    add("")
    add(f"Rule scores on dev: {meta.get('rule_scores')}.")
    add("")
    add("| category | combination | w_rule | w_model | bias | combined threshold |")
    add("|---|---|---:|---:|---:|---:|")
    for code, cp in meta.get("combine", {}).items():
        m = meta.get("dev_metrics", {}).get(code, {})
        thr = ("the pack's" if cp.get("kind") == "rules"
               else _num(meta.get("combined_thresholds", {}).get(code)))
        add(f"| `{code}` | {m.get('combine', cp.get('kind'))} | {_num(cp.get('w_rule'))} | {_num(cp.get('w_model'))} | "
            f"{_num(cp.get('bias'))} | {thr} |")
    add("")
    add("## Intended use")
    add("")
    add(INTENDED_USE)
    add("")
    add("## Limits")
    add("")
    add(LIMITS)
    add("")
    env = meta.get("environment", {})
    add(f"Trained in {meta.get('training_seconds')} s with Python {env.get('python')}, numpy {env.get('numpy')}, "
        f"scikit-learn {env.get('scikit-learn')}.")
    add("")
    return "\n".join(lines)
