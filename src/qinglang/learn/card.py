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
- A second opinion beside the policy-pack rules in `qinglang scan`: the rules flag as they do, and
  the model adds flags of its own only for the categories and languages where dev validated it
  (combination below); elsewhere its probability is shown as evidence.
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
  them are in-sample and flatter the rules. The combination was validated on dev rows drawn from
  the same files as the training rows; a kind of text absent from them (another register, another
  platform) is not validated by them. Measure on your own labeled data before relying on it.
- The model reads normalized text; a change in the normalizer changes its input. The card
  records the normalizer's fingerprint at training time: retrain when it changes."""


def _pct(v: Any) -> str:
    return f"{100 * v:.1f}" if isinstance(v, (int, float)) else "-"


def _num(v: Any, digits: int = 3) -> str:
    return f"{v:.{digits}f}" if isinstance(v, (int, float)) else "-"


def _combination_section(meta: dict[str, Any]) -> str:
    """The per-category, per-language combination table (format 2) with the rules it was decided by."""
    cr = meta.get("combination_rules", {})
    langs = ", ".join(f"{k} {v}" for k, v in cr.get("dev_languages", {}).items())
    lines = [
        f"Form: {cr.get('form', 'flag if the rules flag, or the validated model path flags')}. A post's language: "
        f"{cr.get('language', 'its lang')}; a language with no row below (or a post whose language cannot be "
        "told) gets no model path: the rules decide and the model's probability is shown as evidence only.",
        "",
        f"A model path opens for a category and language only with at least {cr.get('min_dev_positives')} dev "
        f"positives and {cr.get('min_dev_negatives')} dev negatives in that language, rules that miss at least "
        f"{cr.get('min_rules_missed')} of those positives, and a model threshold at which the added flags reach "
        f"the target precision while flagging at most {_pct(cr.get('max_path_fp_rate'))}% of that language's dev "
        f"negatives. A veto (a low probability overruling a rule hit) needs at least "
        f"{cr.get('min_veto_negatives')} dev negatives cleared and a precision gain larger than the recall it "
        f"costs, and is applied only when training allows vetoes (here: {'yes' if cr.get('allow_veto') else 'no'}"
        f"). Dev rows by language: {langs or '-'}.",
        "",
        "| category | language | decision | model threshold | veto below | dev pos / neg | rules TP / FP / missed "
        "| model adds TP / FP | veto clears TP / FP | why |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for code, per in meta.get("combination", {}).items():
        if not per:
            lines.append(f"| `{code}` | - | rules decide | - | - | - | - | - | - | no dev rows |")
        for lang, e in per.items():
            d = e.get("dev", {})
            decision = "rules or model" if e.get("kind") == "or_model" else "rules decide"
            why = e.get("reason", "")
            if e.get("veto_below") is not None:
                decision += " + veto"
                why += "; " + e.get("veto_reason", "")
            lines.append(
                f"| `{code}` | {lang} | {decision} | {_num(e.get('model_threshold'), 4)} | "
                f"{_num(e.get('veto_below'), 4)} | {d.get('positives', 0)} / {d.get('negatives', 0)} | "
                f"{d.get('rules_tp', 0)} / {d.get('rules_fp', 0)} / {d.get('rules_missed', 0)} | "
                f"{d.get('added_tp', 0)} / {d.get('added_fp', 0)} | {d.get('vetoed_tp', 0)} / {d.get('vetoed_fp', 0)} "
                f"| {why} |")
    return "\n".join(lines)


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
        f"digits folded: {feats.get('fold_digits')}, placeholders (`XX`, `某某`) masked: "
        f"{feats.get('mask_placeholders', False)}.")
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
        "verdicts; combined = rules + model as the combination below decides (per language).")
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
    add(f"Rules' verdicts on dev: {meta.get('rule_scores')}.")
    add("")
    if "combination" in meta:
        add(_combination_section(meta))
    else:
        add("Format-1 artifact: one fitted combination per category, for every language.")
        add("")
        add("| category | combination | w_rule | w_model | bias | combined threshold |")
        add("|---|---|---:|---:|---:|---:|")
        for code, cp in meta.get("combine", {}).items():
            m = meta.get("dev_metrics", {}).get(code, {})
            thr = ("the pack's" if cp.get("kind") == "rules"
                   else _num(meta.get("combined_thresholds", {}).get(code)))
            add(f"| `{code}` | {m.get('combine', cp.get('kind'))} | {_num(cp.get('w_rule'))} | "
                f"{_num(cp.get('w_model'))} | {_num(cp.get('bias'))} | {thr} |")
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
