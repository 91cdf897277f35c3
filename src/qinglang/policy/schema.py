"""The policy pack format, validated when a pack loads (pydantic, ``extra="forbid"``).

A pack is data: categories it uses, named word lists, rules and allow-list
exemptions. Term references inside conditions use one small syntax everywhere:

- ``"@name"``: every term of the pack's word list ``name``;
- ``"$type"``: an extracted entity of that type (``$wechat``, ``$stock_code``) or
  group (``$contact``);
- anything else: a literal term.

See docs/policy-packs.md for the full reference with examples.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["low", "medium", "high"]
TermRefs = Annotated[list[str], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryDef(_Strict):
    """Pack-level settings for a category of the taxonomy."""

    severity: Severity | None = None
    review_only: bool | None = None
    threshold: float = Field(0.5, gt=0, le=1)
    #: severity to use when this category is found together with any other category
    escalate_with_other: Severity | None = None


class NearSpec(_Strict):
    a: TermRefs
    b: TermRefs
    within: int = Field(gt=0, le=500)
    ordered: bool = False


class CountSpec(_Strict):
    of: TermRefs
    min: int = Field(ge=1)


class Condition(_Strict):
    """Exactly one of the keys must be given."""

    any: TermRefs | None = None
    all: TermRefs | None = None
    near: NearSpec | None = None
    count: CountSpec | None = None
    regex: str | None = None
    entity: TermRefs | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [k for k in ("any", "all", "near", "count", "regex", "entity") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a condition takes exactly one of any, all, near, count, regex, entity"
                f" (got {', '.join(given) or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        for k in ("any", "all", "near", "count", "regex", "entity"):
            if getattr(self, k) is not None:
                return k
        raise AssertionError("unreachable")


FieldName = Literal["text", "title", "transcript", "ocr", "bio", "links"]


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    category: str
    score: float = Field(gt=0, le=1)
    description: str = ""
    when: Annotated[list[Condition], Field(min_length=1)]
    unless: list[Condition] = Field(default_factory=list)
    fields: list[FieldName] | None = None
    #: "post": conditions may be met in different fields; "field": all in one field
    scope: Literal["post", "field"] = "post"


class Allow(_Strict):
    """An exemption: when its conditions hold, the listed categories are suppressed."""

    id: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    description: str = ""
    when: Annotated[list[Condition], Field(min_length=1)]
    suppress: Annotated[list[str], Field(min_length=1)]


class PackDoc(_Strict):
    pack: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    version: str
    description: str = ""
    #: post languages the pack applies to; a post without ``lang`` gets every pack
    langs: list[str] = Field(default_factory=list)
    #: "word": ASCII terms match only on word boundaries (English, Italian)
    boundary: Literal["none", "word"] = "none"
    categories: dict[str, CategoryDef] = Field(default_factory=dict)
    lists: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    allow: list[Allow] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: object) -> object:
        return str(v) if isinstance(v, int | float) else v
