"""Load and validate policy packs; errors name the file, line and field.

Validation happens in two steps: the pydantic schema (shape, types, unknown keys),
then the pack's own references (word lists, categories, entity types, regexes,
duplicate ids). Every problem found is reported at once, each with the YAML line it
sits on and, where a name is close to a known one, a "did you mean" hint, so a
policy author fixes a pack in one pass.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import regex
import yaml
from pydantic import ValidationError

from qinglang import errors
from qinglang.entities.types import ENTITY_GROUPS, ENTITY_TYPES
from qinglang.errors import QLError
from qinglang.policy.schema import Allow, Condition, PackDoc, Rule


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    code: str
    severity: str
    review_only: bool
    title: str


@dataclass(frozen=True, slots=True)
class Pack:
    doc: PackDoc
    path: str

    @property
    def name(self) -> str:
        return self.doc.pack

    @property
    def version(self) -> str:
        return self.doc.version


@dataclass(frozen=True, slots=True)
class Problem:
    line: int | None
    where: str
    message: str
    hint: str | None = None

    def render(self, path: str) -> str:
        loc = f"{path}:{self.line}" if self.line else path
        s = f"{loc}: {self.where}: {self.message}"
        return s + (f" (did you mean '{self.hint}'?)" if self.hint else "")


@cache
def taxonomy() -> dict[str, CategoryInfo]:
    """The category codes every pack refers to (``policy/taxonomy.yaml``)."""
    raw = yaml.safe_load(resources.files("qinglang.policy").joinpath("taxonomy.yaml").read_text("utf-8"))
    return {
        code: CategoryInfo(code, v["severity"], bool(v["review_only"]), v.get("title", code))
        for code, v in raw.items()
    }


def bundled_pack_paths() -> list[Path]:
    base = Path(str(resources.files("qinglang.policy").joinpath("packs")))
    return sorted(base.glob("*.yaml"))


def load_packs(paths: list[str | Path] | None = None) -> list[Pack]:
    """Load the given pack files, or every bundled pack when ``paths`` is None."""
    chosen = bundled_pack_paths() if not paths else [Path(p) for p in paths]
    packs = [load_pack(p) for p in chosen]
    seen: dict[str, str] = {}
    for p in packs:
        if p.name in seen:
            raise QLError(errors.PACK_SCHEMA, f"{p.path}: pack name '{p.name}' also used by {seen[p.name]}")
        seen[p.name] = p.path
    return packs


def load_pack(path: str | Path) -> Pack:
    path = Path(path)
    if not path.is_file():
        raise QLError(errors.PACK_NOT_FOUND, f"no policy pack at {path}")
    text = path.read_text("utf-8")
    return load_pack_text(text, str(path))


def load_pack_text(text: str, path: str = "<pack>") -> Pack:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise QLError(errors.PACK_YAML, f"{path}{line}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise QLError(errors.PACK_SCHEMA, f"{path}: a pack is a mapping with pack, version, rules ...")
    try:
        doc = PackDoc.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem_from_pydantic(e, node) for e in exc.errors()]
        raise _pack_error(errors.PACK_SCHEMA, path, problems) from None
    code, problems = _check_references(doc, node)
    if problems:
        raise _pack_error(code, path, problems)
    return Pack(doc, path)


def _pack_error(code: errors.ErrorCode, path: str, problems: list[Problem]) -> QLError:
    first = problems[0]
    msg = "; ".join(p.render(path) for p in problems)
    return QLError(code, msg, hint=first.hint, file=path, line=first.line, problems=problems)


# --- pydantic errors -> file:line ---------------------------------------------------

_FIELD_NAMES: dict[str, list[str]] = {}


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at ``loc`` (for "did you mean" on unknown keys)."""
    from qinglang.policy import schema

    models = {
        (): PackDoc,
        ("rules",): Rule,
        ("allow",): Allow,
        ("rules", "when"): Condition,
        ("rules", "unless"): Condition,
        ("allow", "when"): Condition,
        ("rules", "when", "near"): schema.NearSpec,
        ("rules", "unless", "near"): schema.NearSpec,
        ("rules", "when", "count"): schema.CountSpec,
        ("rules", "unless", "count"): schema.CountSpec,
        ("categories",): schema.CategoryDef,
    }
    key = tuple(x for x in loc if isinstance(x, str))
    if key and key[0] == "categories":
        key = ("categories",)
    model = models.get(key)
    return list(model.model_fields) if model else []


def _problem_from_pydantic(err: Any, node: yaml.Node) -> Problem:
    loc = tuple(err["loc"])
    where = ".".join(str(x) for x in loc) or "pack"
    hint = None
    if err["type"] == "extra_forbidden" and loc:
        hint = _near_miss(str(loc[-1]), _known_fields(loc[:-1]))
        msg = f"unknown field '{loc[-1]}'"
    else:
        msg = err["msg"]
    return Problem(_line_of(node, loc), where, msg, hint)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    # for an unknown key the key's own line is the useful one
                    nxt = v
                    line = k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        if nxt is None:
            return line
        node = nxt
        line = node.start_mark.line + 1
    return line


def _near_miss(name: str, known: list[str] | set[str] | frozenset[str]) -> str | None:
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


# --- references inside a pack -------------------------------------------------------


def _check_references(doc: PackDoc, node: yaml.Node) -> tuple[errors.ErrorCode, list[Problem]]:
    problems: list[tuple[errors.ErrorCode, Problem]] = []
    tax = taxonomy()
    entity_names = set(ENTITY_TYPES) | set(ENTITY_GROUPS)

    def add(code: errors.ErrorCode, loc: tuple[Any, ...], msg: str, hint: str | None = None) -> None:
        problems.append((code, Problem(_line_of(node, loc), ".".join(map(str, loc)), msg, hint)))

    for code in doc.categories:
        if code not in tax:
            add(errors.PACK_UNKNOWN_CATEGORY, ("categories", code), f"unknown category '{code}'",
                _near_miss(code, tax.keys()))
    for name, terms in doc.lists.items():
        for i, t in enumerate(terms):
            if not isinstance(t, str) or not t.strip():
                add(errors.PACK_EMPTY_TERM, ("lists", name, i), "empty term")

    def check_refs(refs: list[str], loc: tuple[Any, ...], allow_entities: bool = True) -> None:
        for i, ref in enumerate(refs):
            if ref.startswith("@"):
                if ref[1:] not in doc.lists:
                    add(errors.PACK_UNKNOWN_LIST, (*loc, i), f"unknown word list '{ref}'",
                        ("@" + h) if (h := _near_miss(ref[1:], doc.lists.keys())) else None)
            elif ref.startswith("$"):
                if not allow_entities or ref[1:] not in entity_names:
                    add(errors.PACK_UNKNOWN_ENTITY, (*loc, i), f"unknown entity type '{ref}'",
                        ("$" + h) if (h := _near_miss(ref[1:], entity_names)) else None)
            elif not ref.strip():
                add(errors.PACK_EMPTY_TERM, (*loc, i), "empty term")

    def check_conditions(conds: list[Condition], loc: tuple[Any, ...]) -> None:
        for j, c in enumerate(conds):
            cl = (*loc, j)
            if c.any is not None:
                check_refs(c.any, (*cl, "any"))
            if c.all is not None:
                check_refs(c.all, (*cl, "all"))
            if c.near is not None:
                check_refs(c.near.a, (*cl, "near", "a"))
                check_refs(c.near.b, (*cl, "near", "b"))
            if c.count is not None:
                check_refs(c.count.of, (*cl, "count", "of"))
            if c.entity is not None:
                for i, name in enumerate(c.entity):
                    if name.lstrip("$") not in entity_names:
                        add(errors.PACK_UNKNOWN_ENTITY, (*cl, "entity", i), f"unknown entity type '{name}'",
                            _near_miss(name.lstrip("$"), entity_names))
            if c.regex is not None:
                try:
                    regex.compile(c.regex)
                except regex.error as exc:
                    add(errors.PACK_BAD_REGEX, (*cl, "regex"), f"invalid regex: {exc}")

    seen: dict[str, int] = {}
    for i, r in enumerate(doc.rules):
        if r.id in seen:
            add(errors.PACK_DUPLICATE_ID, ("rules", i, "id"),
                f"duplicate rule id '{r.id}' (first at rule {seen[r.id]})")
        seen.setdefault(r.id, i)
        if r.category not in tax:
            add(errors.PACK_UNKNOWN_CATEGORY, ("rules", i, "category"), f"unknown category '{r.category}'",
                _near_miss(r.category, tax.keys()))
        check_conditions(r.when, ("rules", i, "when"))
        check_conditions(r.unless, ("rules", i, "unless"))
    for i, a in enumerate(doc.allow):
        if a.id in seen:
            add(errors.PACK_DUPLICATE_ID, ("allow", i, "id"), f"duplicate id '{a.id}'")
        seen.setdefault(a.id, i)
        check_conditions(a.when, ("allow", i, "when"))
        for k, code in enumerate(a.suppress):
            if code != "all" and code not in tax:
                add(errors.PACK_UNKNOWN_CATEGORY, ("allow", i, "suppress", k), f"unknown category '{code}'",
                    _near_miss(code, tax.keys()))
    if not problems:
        return errors.PACK_SCHEMA, []
    return problems[0][0], [p for _, p in problems]
