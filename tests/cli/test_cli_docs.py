"""The docs name every error code and every command option, so they cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from qinglang import errors
from qinglang.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_schema_lists_every_error_code() -> None:
    text = (DOCS / "verdict-schema.md").read_text(encoding="utf-8")
    for value in vars(errors).values():
        if isinstance(value, errors.ErrorCode):
            assert f"| `{value.code}` | {value.title} |" in text, value.code


def _leaves(group: object, prefix: str = "") -> dict[str, object]:
    """Every runnable command by its full name ("scan", "audit verify"), groups descended into."""
    out: dict[str, object] = {}
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            out.update(_leaves(cmd, full + " "))
        else:
            out[full] = cmd
    return out


COMMANDS = _leaves(typer.main.get_command(app))


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert set(COMMANDS) == {"scan", "ingest", "explain", "eval", "train", "version",
                             "audit verify", "audit export", "audit head",
                             "review list", "review next", "review claim", "review release", "review decide",
                             "review export", "appeal file", "appeal list", "appeal decide",
                             "registry import", "registry list", "registry show",
                             "accounts show", "accounts list", "accounts bind", "accounts unbind",
                             "serve", "keys create", "keys list", "keys revoke",
                             "cluster build", "cluster accounts", "cluster list", "cluster show",
                             "cluster explain", "cluster export", "cluster act"}
    for name in COMMANDS:
        assert f"## `qinglang {name}`" in text


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_is_documented(command: str) -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    section = text.split(f"## `qinglang {command}`", 1)[1].split("\n## ", 1)[0]
    options = [o for p in COMMANDS[command].params for o in p.opts if o.startswith("--")]
    assert options, command
    for option in options:
        assert option in section, f"{command} {option} is not in docs/cli.md"
