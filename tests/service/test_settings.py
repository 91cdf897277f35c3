"""Settings: defaults, file, environment, overrides; production refuses a default secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qinglang.cli import app as cli
from qinglang.errors import QLError
from qinglang.service.app import create_app
from qinglang.service.settings import DEVELOPMENT_SECRET, load_settings


def test_defaults_need_no_setup() -> None:
    s = load_settings(environ={})
    assert (s.env, s.host, s.port, s.model, s.db_url) == ("development", "127.0.0.1", 8000, "default", None)
    assert s.secret_value == DEVELOPMENT_SECRET
    s.check_startable()


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    toml = tmp_path / "qinglang.toml"
    toml.write_text('[service]\nport = 9000\nmax_batch = 50\nrate_per_s = 5\n', encoding="utf-8")
    s = load_settings(toml, environ={"QINGLANG_MAX_BATCH": "70", "QINGLANG_TEST_PG_URL": "ignored"}, rate_per_s=9)
    assert (s.port, s.max_batch, s.rate_per_s) == (9000, 70, 9.0)
    yml = tmp_path / "qinglang.yaml"
    yml.write_text("env: production\nsecret: s3cret-of-its-own\n", encoding="utf-8")
    s = load_settings(yml, environ={})
    assert s.env == "production" and s.secret_value == "s3cret-of-its-own"


@pytest.mark.parametrize(("content", "suffix", "code"), [
    ("[service]\nport = 'many'\n", ".toml", "QL-9501"),
    ("[service]\nprot = 8000\n", ".toml", "QL-9501"),          # a typo is refused, not ignored
    ("[service\n", ".toml", "QL-9501"),
    ("- a list\n", ".yaml", "QL-9501"),
    ("port = 1\n", ".ini", "QL-4001"),
])
def test_bad_settings_files_are_coded(tmp_path: Path, content: str, suffix: str, code: str) -> None:
    path = tmp_path / f"settings{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QLError) as err:
        load_settings(path, environ={})
    assert err.value.code.code == code


def test_bad_environment_value_is_coded() -> None:
    with pytest.raises(QLError) as err:
        load_settings(environ={"QINGLANG_ENV": "staging"})
    assert err.value.code.code == "QL-9501" and "env" in err.value.message


@pytest.mark.parametrize("secret", ["", "   ", DEVELOPMENT_SECRET])
def test_production_refuses_the_default_secret(secret: str, tmp_path: Path) -> None:
    settings = load_settings(environ={"QINGLANG_ENV": "production", "QINGLANG_SECRET": secret},
                             db_url=f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(QLError) as err:
        settings.check_startable()
    assert err.value.code.code == "QL-9502"
    with pytest.raises(QLError):
        create_app(settings)
    assert not (tmp_path / "x.db").exists()  # refused before touching anything


def test_production_with_a_secret_starts() -> None:
    load_settings(environ={"QINGLANG_ENV": "production", "QINGLANG_SECRET": "a-long-random-value"}).check_startable()


def test_serve_command_refuses_before_listening(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLANG_ENV", "production")
    monkeypatch.delenv("QINGLANG_SECRET", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "QL-9502" in result.output
