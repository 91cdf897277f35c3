"""Entity type names that rules may reference as ``$type``, and named groups of them."""

from __future__ import annotations

ENTITY_TYPES: frozenset[str] = frozenset(
    {
        "phone",
        "wechat",
        "qq",
        "telegram",
        "whatsapp",
        "email",
        "url",
        "domain",
        "stock_code",
        "wallet",
        "bank_card",
        "return_promise",
        "amount",
    }
)

#: ``$contact`` in a rule means any of these.
ENTITY_GROUPS: dict[str, frozenset[str]] = {
    "contact": frozenset({"phone", "wechat", "qq", "telegram", "whatsapp", "email"}),
    "private_contact": frozenset({"wechat", "qq", "telegram", "whatsapp"}),
    "link": frozenset({"url", "domain"}),
}


def expand_entity_ref(name: str) -> frozenset[str]:
    """``contact`` -> its members; a plain type -> itself; unknown -> empty."""
    if name in ENTITY_GROUPS:
        return ENTITY_GROUPS[name]
    if name in ENTITY_TYPES:
        return frozenset({name})
    return frozenset()
