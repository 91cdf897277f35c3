"""A cluster's risk score in [0, 1], from what it posts, how big it is, and whether it takes money.

    risk = min(1, severity + breadth + size + funds)

* severity: the weight of the worst severity among the members' flagged posts
  (``roles.yaml`` ``risk.severity``: high 0.6, medium 0.4, low 0.2; 0 with none);
* breadth: ``per_extra_category`` for each category beyond the first, at most
  ``max_breadth`` (a chain that tips stocks *and* cashes out cards is worse);
* size: ``size_weight × min(1, log10(size) / size_log_cap)`` (a thousand accounts get
  the whole weight; growth counts less and less);
* funds: ``funds`` when any member holds a payment identifier (``funds_kinds``).

Additive on purpose: every term is visible in :func:`risk_breakdown`, so a reviewer
can see why one cluster outranks another. The weights are data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from qinglang.cluster.settings import RiskSpec, identifier_kind


def risk_breakdown(severities: Iterable[str], categories: Iterable[str], size: int,
                   identifiers: Iterable[str], spec: RiskSpec) -> dict[str, float]:
    """Each term and the total (rounded to 3 decimals)."""
    weights: Mapping[str, float] = spec.severity
    severity = max((weights.get(s, 0.0) for s in severities), default=0.0)  # type: ignore[call-overload]
    n_cat = len(set(categories))
    breadth = min(spec.max_breadth, spec.per_extra_category * max(0, n_cat - 1))
    size_term = spec.size_weight * min(1.0, math.log10(max(size, 1)) / spec.size_log_cap)
    funds_kinds = set(spec.funds_kinds)
    funds = spec.funds if any(identifier_kind(i) in funds_kinds for i in identifiers) else 0.0
    total = min(1.0, severity + breadth + size_term + funds)
    return {"severity": round(severity, 3), "breadth": round(breadth, 3), "size": round(size_term, 3),
            "funds": round(funds, 3), "risk": round(total, 3)}


def risk_score(severities: Iterable[str], categories: Iterable[str], size: int, identifiers: Iterable[str],
               spec: RiskSpec) -> float:
    return risk_breakdown(severities, categories, size, identifiers, spec)["risk"]
