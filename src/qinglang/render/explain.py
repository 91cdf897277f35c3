"""Render one verdict for a person: why was this post flagged, by what, where.

Due process needs every verdict to be explainable: each category with its score,
severity and whether only a person may act on it; each piece of evidence with the
rule (and pack version) that produced it and the author's own words with the
evidence span marked; each identifier found with its canonical value.

One builder serves two outputs. On a terminal, spans are highlighted with rich
styles. Everywhere else (pipes, files, tests) the output is plain text with the
spans wrapped in ``[[`` ``]]``: deterministic, so it can be diffed, pasted into a
ticket, and checked against golden files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from rich.text import Text

from qinglang.model import Entity, Hit, Verdict

#: characters of context shown either side of an evidence span
CONTEXT_CHARS = 30

OPEN, CLOSE = "[[", "]]"

SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "none": "green"}
SPAN_STYLE = "reverse bold red"
DIM = "dim"


def explain_text(
    verdict: Verdict,
    fields: Mapping[str, str] | None = None,
    *,
    titles: Mapping[str, str] | None = None,
) -> str:
    """The explanation as plain text (spans in ``[[ ]]``), ending with a newline."""
    return build_explanation(verdict, fields, titles=titles, plain=True).plain + "\n"


def build_explanation(
    verdict: Verdict,
    fields: Mapping[str, str] | None = None,
    *,
    titles: Mapping[str, str] | None = None,
    plain: bool = False,
) -> Text:
    """The explanation as a rich ``Text``.

    ``fields`` maps field names to the post's original text (``Post.fields()``),
    so evidence is shown in its context; without it only the span itself is shown.
    ``titles`` maps category codes to their taxonomy titles. With ``plain`` spans
    are marked with ``[[ ]]`` and no style is applied.
    """
    out = Text(no_wrap=False, end="")
    b = _Builder(out, plain)
    b.header(verdict)
    if verdict.categories:
        b.line()
        b.categories(verdict, titles or {})
    if verdict.hits:
        b.line()
        b.hits(verdict.hits, fields or {})
    if verdict.entities:
        b.line()
        b.entities(verdict.entities)
    b.line()
    b.footer(verdict)
    out.rstrip()
    return out


class _Builder:
    def __init__(self, out: Text, plain: bool) -> None:
        self.out = out
        self.plain = plain

    def add(self, s: str, style: str = "") -> None:
        self.out.append(s, style=None if self.plain or not style else style)

    def line(self, s: str = "", style: str = "") -> None:
        self.add(s, style)
        self.out.append("\n")

    def span(self, s: str) -> None:
        if self.plain:
            self.out.append(f"{OPEN}{s}{CLOSE}")
        else:
            self.out.append(s, style=SPAN_STYLE)

    # --- sections -------------------------------------------------------------------

    def header(self, v: Verdict) -> None:
        if v.flagged:
            self.add("flagged", "bold red")
            self.add(": severity ")
            self.add(v.severity, SEVERITY_STYLE.get(v.severity, ""))
            n = len(v.categories)
            self.add(f", {n} {_plural(n, 'category', 'categories')}")
        else:
            self.add("not flagged", "bold green")
        self.line()
        who = []
        if v.id != "-":  # the id ``explain`` gives a bare text
            who.append(f"post {v.id}")
        if v.account_id is not None:
            who.append(f"account {v.account_id}")
        if v.platform is not None:
            who.append(f"platform {v.platform}")
        if who:
            self.line(", ".join(who), DIM)
        if v.review_only:
            self.line("review only: a person must decide before any action is taken", "bold yellow")

    def categories(self, v: Verdict, titles: Mapping[str, str]) -> None:
        self.line("categories", "bold underline")
        width = max(len(c.code) for c in v.categories)
        sev_width = max(len(c.severity) for c in v.categories)
        for c in v.categories:
            self.add("  ")
            self.add(c.code.ljust(width), SEVERITY_STYLE.get(c.severity, ""))
            self.add(f"  {c.score:.2f}  ")
            self.add(c.severity.ljust(sev_width), SEVERITY_STYLE.get(c.severity, ""))
            title = titles.get(c.code)
            label = "review only" if c.review_only else "actionable"
            self.add("  " + (label.ljust(11) if title else label),
                     "bold yellow" if c.review_only else "")
            if title:
                self.add(f"  {title}", DIM)
            self.line()
            if c.rules:
                self.line(f"  {'':{width}}  rules: {', '.join(c.rules)}", DIM)

    def hits(self, hits: Iterable[Hit], fields: Mapping[str, str]) -> None:
        self.line("evidence", "bold underline")
        for i, h in enumerate(hits, 1):
            self.add(f"  {i}. ")
            self.add(h.category, "bold")
            self.add(f"  {h.kind} {h.rule}  {h.pack}@{h.pack_version}")
            self.add(f"  score {h.score:.2f}")
            self.line()
            indent = " " * (len(str(i)) + 4)
            if h.field is not None:
                where = h.field if h.start is None else f"{h.field}[{h.start}:{h.end}]"
                self.add(f"{indent}{where}")
                if h.text is not None and h.match and h.match != h.text:
                    self.add(f"  (read as \u201c{_oneline(h.match)}\u201d)", DIM)
                self.line()
            if h.kind == "model":
                self.model_detail(indent, h)
                continue
            source = fields.get(h.field) if h.field is not None else None
            if source is not None and h.start is not None and h.end is not None:
                self.add(indent)
                self.snippet(source, h.start, h.end)
                self.line()
            elif h.text or h.match:
                self.add(indent)
                self.span(_oneline(h.text or h.match))
                self.line()
            self.detail(indent, h.detail)

    def model_detail(self, indent: str, h: Hit) -> None:
        """A model's evidence in reviewer terms: how sure it is, how that met the rules, and why."""
        d = h.detail or {}
        self.line(f"{indent}probability {d.get('probability', h.score):.2f}, rule score {d.get('rule_score', 0):.2f}, "
                  f"combined {d.get('combined', h.score):.2f} ({d.get('mode', 'combined')})", DIM)
        feats = d.get("features") or []
        if feats:
            self.add(f"{indent}weighed most: ")
            for k, f in enumerate(feats):
                if k:
                    self.add(", ")
                self.span(_oneline(str(f.get("ngram", ""))))
                self.add(f" {float(f.get('weight', 0)):+.2f}", DIM)
            self.line()

    def entities(self, entities: Iterable[Entity]) -> None:
        self.line("entities", "bold underline")
        ents = list(entities)
        tw = max(len(e.type) for e in ents)
        vw = max(len(e.value) for e in ents)
        for e in ents:
            self.add(f"  {e.type.ljust(tw)}  ")
            self.add(e.value.ljust(vw), "bold")
            self.add(f"  {e.field}[{e.start}:{e.end}]  ", DIM)
            self.line(f"\u201c{_oneline(e.text)}\u201d")
            self.detail(" " * 4, e.detail)

    def detail(self, indent: str, detail: Mapping[str, Any] | None) -> None:
        if not detail:
            return
        for key in sorted(detail):
            value = detail[key]
            shown = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
            self.line(f"{indent}{key}: {_oneline(shown)}", DIM)

    def footer(self, v: Verdict) -> None:
        versions = v.versions or {}
        parts = []
        if "engine" in versions:
            parts.append(f"engine {versions['engine']}")
        packs = versions.get("packs") or {}
        parts.extend(f"pack {name}@{ver}" for name, ver in sorted(packs.items()))
        for key in sorted(k for k in versions if k not in ("engine", "packs")):
            parts.append(f"{key} {versions[key]}")
        self.line("versions: " + ", ".join(parts), DIM)
        for d in v.degraded or []:
            self.line(f"degraded: {d}", "yellow")

    def snippet(self, source: str, start: int, end: int) -> None:
        """The span with up to CONTEXT_CHARS of context each side, on one line."""
        lo = max(0, start - CONTEXT_CHARS)
        hi = min(len(source), end + CONTEXT_CHARS)
        self.add(("\u2026" if lo > 0 else "") + _oneline(source[lo:start]))
        self.span(_oneline(source[start:end]))
        self.add(_oneline(source[end:hi]) + ("\u2026" if hi < len(source) else ""))


def _oneline(s: str) -> str:
    """Newlines shown as ⏎ so each piece of evidence stays on one line."""
    return s.replace("\r\n", "\u23ce").replace("\n", "\u23ce").replace("\r", "\u23ce").replace(
        "\t", " "
    )


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many
