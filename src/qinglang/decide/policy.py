"""The sanctions ladder as validated data (``decide/ladder.yaml``).

Same two-step validation as policy packs (``qinglang.policy.loader``): the pydantic
schema first (shape, types, unknown keys with a "did you mean"), then the ladder's own
rules (steps in the ladder's order with rising thresholds, category codes that exist in
the taxonomy). Every problem is reported at once with ``file:line: field: message``.
See docs/sanctions.md for the format.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from qinglang import errors
from qinglang.errors import QLError
from qinglang.policy.loader import Problem, _line_of, _near_miss, taxonomy

Severity = Literal["low", "medium", "high"]

#: The account ladder in rising order. A ladder may leave steps out, never reorder them.
STEP_KINDS: tuple[str, ...] = (
    "warning",
    "remove_content",
    "mute",
    "suspend_updates",
    "remove_monetisation",
    "close_account",
)
StepKind = Literal["warning", "remove_content", "mute", "suspend_updates", "remove_monetisation", "close_account"]
#: Not a sanction: a licensed account is told to fix its ad.
RECTIFICATION = "rectification_notice"
ACTION_KINDS: tuple[str, ...] = (*STEP_KINDS, RECTIFICATION)
STEP_RANK: dict[str, int] = {k: i for i, k in enumerate(STEP_KINDS)}

Days = int | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeverityPoints(_Strict):
    low: int = Field(ge=0)
    medium: int = Field(ge=0)
    high: int = Field(ge=0)


class CategoryPoints(_Strict):
    """Per-category override; a severity left out falls back to ``points.severity``."""

    low: int | None = Field(None, ge=0)
    medium: int | None = Field(None, ge=0)
    high: int | None = Field(None, ge=0)


class Points(_Strict):
    severity: SeverityPoints
    categories: dict[str, CategoryPoints] = Field(default_factory=dict)


class Step(_Strict):
    action: StepKind
    #: accumulated strike points (within the window) at which this step is reached
    at: int = Field(ge=1)
    #: how long the action lasts; overrides ``expiry_days`` for this step (a mute needs one)
    duration_days: int | None = Field(None, ge=1)


class Expiry(_Strict):
    """Days each action kind stays in force; ``null``: until reversed."""

    warning: Days = Field(ge=1)
    remove_content: Days = Field(ge=1)
    mute: Days = Field(ge=1)
    suspend_updates: Days = Field(ge=1)
    remove_monetisation: Days = Field(ge=1)
    close_account: Days = Field(ge=1)
    rectification_notice: Days = Field(ge=1)


class RepeatOffender(_Strict):
    #: past ladder actions issued within this many days make the account a repeat offender
    lookback_days: int = Field(ge=1)
    #: a repeat offender's next action is at least this many steps above its highest past one
    escalate_steps: int = Field(1, ge=1)


class Review(_Strict):
    #: categories that never act without a person (besides those the verdict marks review_only)
    categories: list[str] = Field(default_factory=list)
    #: a flagged category scoring below this goes to a person
    confidence_floor: float = Field(0.0, ge=0, le=1)
    #: any sanction on a licensed account goes to a person
    licensed_accounts: bool = True
    #: action kind -> follower count at or above which that action goes to a person
    high_impact: dict[StepKind, int] = Field(default_factory=dict)

    @field_validator("high_impact")
    @classmethod
    def _non_negative(cls, v: dict[str, int]) -> dict[str, int]:
        for kind, n in v.items():
            if n < 0:
                raise ValueError(f"follower count for {kind} must be >= 0")
        return v


class Licensing(_Strict):
    #: categories where a licensed account gets a rectification notice instead of a sanction
    disclosure_categories: list[str] = Field(default_factory=list)
    #: the same categories from an account the registry says is unlicensed count at this severity
    unlicensed_severity: Severity = "high"
    #: the category struck when an account claims a licence the registry says it lacks
    claim_category: str = "impersonation"


class LadderPolicy(_Strict):
    ladder: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    version: str
    description: str = ""
    #: strikes older than this many days no longer count
    window_days: int = Field(ge=1)
    points: Points
    steps: list[Step] = Field(min_length=1)
    expiry_days: Expiry
    repeat_offender: RepeatOffender | None = None
    review: Review = Field(default_factory=Review)
    licensing: Licensing = Field(default_factory=Licensing)

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: object) -> object:
        return str(v) if isinstance(v, int | float) else v

    @property
    def ref(self) -> str:
        """``name@version``: recorded on every action."""
        return f"{self.ladder}@{self.version}"

    def points_for(self, category: str, severity: str) -> tuple[int, str]:
        """Strike points for a category at a severity, and the ladder rule id that set them."""
        override = self.points.categories.get(category)
        if override is not None and getattr(override, severity, None) is not None:
            return int(getattr(override, severity)), f"points.category.{category}.{severity}"
        return int(getattr(self.points.severity, severity)), f"points.severity.{severity}"

    def step_for(self, points: int) -> Step | None:
        """The highest step whose threshold ``points`` reaches."""
        reached = None
        for s in self.steps:
            if points >= s.at:
                reached = s
        return reached

    def step(self, kind: str) -> Step | None:
        return next((s for s in self.steps if s.action == kind), None)

    def duration_days(self, kind: str) -> int | None:
        s = self.step(kind)
        if s is not None and s.duration_days is not None:
            return s.duration_days
        return getattr(self.expiry_days, kind)


# --- loading ------------------------------------------------------------------------


def bundled_ladder_path() -> Path:
    return Path(str(resources.files("qinglang.decide").joinpath("ladder.yaml")))


@cache
def default_ladder() -> LadderPolicy:
    """The bundled ladder (``decide/ladder.yaml``)."""
    return load_ladder(bundled_ladder_path())


def load_ladder(path: str | Path) -> LadderPolicy:
    path = Path(path)
    if not path.is_file():
        raise QLError(errors.LADDER_NOT_FOUND, f"no sanctions ladder at {path}")
    return load_ladder_text(path.read_text("utf-8"), str(path))


def load_ladder_text(text: str, path: str = "<ladder>") -> LadderPolicy:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise QLError(errors.LADDER_YAML, f"{path}{line}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise QLError(errors.LADDER_SCHEMA, f"{path}: a ladder is a mapping with ladder, version, steps ...")
    try:
        doc = LadderPolicy.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem_from_pydantic(e, node) for e in exc.errors()]
        raise _ladder_error(errors.LADDER_SCHEMA, path, problems) from None
    code, problems = _check(doc, node)
    if problems:
        raise _ladder_error(code, path, problems)
    return doc


def _ladder_error(code: errors.ErrorCode, path: str, problems: list[Problem]) -> QLError:
    first = problems[0]
    msg = "; ".join(p.render(path) for p in problems)
    return QLError(code, msg, hint=first.hint, file=path, line=first.line, problems=problems)


_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): LadderPolicy,
    ("points",): Points,
    ("points", "severity"): SeverityPoints,
    ("points", "categories"): CategoryPoints,
    ("steps",): Step,
    ("expiry_days",): Expiry,
    ("repeat_offender",): RepeatOffender,
    ("review",): Review,
    ("licensing",): Licensing,
}


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    key = tuple(x for x in loc if isinstance(x, str))
    if key[:2] == ("points", "categories"):
        key = ("points", "categories")
    model = _MODELS.get(key)
    return list(model.model_fields) if model else []


def _problem_from_pydantic(err: Any, node: yaml.Node) -> Problem:
    loc = tuple(err["loc"])
    where = ".".join(str(x) for x in loc) or "ladder"
    hint = None
    if err["type"] == "extra_forbidden" and loc:
        hint = _near_miss(str(loc[-1]), _known_fields(loc[:-1]))
        msg = f"unknown field '{loc[-1]}'"
    else:
        msg = err["msg"]
    return Problem(_line_of(node, loc), where, msg, hint)


def _check(doc: LadderPolicy, node: yaml.Node) -> tuple[errors.ErrorCode, list[Problem]]:
    problems: list[tuple[errors.ErrorCode, Problem]] = []
    tax = taxonomy()

    def add(code: errors.ErrorCode, loc: tuple[Any, ...], msg: str, hint: str | None = None) -> None:
        problems.append((code, Problem(_line_of(node, loc), ".".join(map(str, loc)), msg, hint)))

    def category(code: str, loc: tuple[Any, ...]) -> None:
        if code not in tax:
            add(errors.LADDER_UNKNOWN_CATEGORY, loc, f"unknown category '{code}'", _near_miss(code, tax.keys()))

    for code in doc.points.categories:
        category(code, ("points", "categories", code))
    for i, code in enumerate(doc.review.categories):
        category(code, ("review", "categories", i))
    for i, code in enumerate(doc.licensing.disclosure_categories):
        category(code, ("licensing", "disclosure_categories", i))
    category(doc.licensing.claim_category, ("licensing", "claim_category"))

    seen: dict[str, int] = {}
    for i, s in enumerate(doc.steps):
        if s.action in seen:
            add(errors.LADDER_STEP_ORDER, ("steps", i, "action"), f"step '{s.action}' is already step {seen[s.action]}")
            continue
        seen[s.action] = i
        if i == 0:
            continue
        prev = doc.steps[i - 1]
        if STEP_RANK[s.action] < STEP_RANK[prev.action]:
            add(errors.LADDER_STEP_ORDER, ("steps", i, "action"),
                f"'{s.action}' comes before '{prev.action}' in the ladder ({' < '.join(STEP_KINDS)})")
        if s.at <= prev.at:
            add(errors.LADDER_STEP_ORDER, ("steps", i, "at"),
                f"threshold {s.at} must be above the previous step's {prev.at}")
    for i, s in enumerate(doc.steps):
        if s.action == "mute" and s.duration_days is None and doc.expiry_days.mute is None:
            add(errors.LADDER_SCHEMA, ("steps", i), "a mute needs a duration (duration_days, or expiry_days.mute)")
    if not problems:
        return errors.LADDER_SCHEMA, []
    return problems[0][0], [p for _, p in problems]
