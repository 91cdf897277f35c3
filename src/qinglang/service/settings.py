"""Service settings: defaults, then an optional TOML/YAML file, then ``QINGLANG_*`` variables.

Everything has an embedded default (SQLite in the user data directory, the bundled
packs and model), so ``qinglang serve`` runs with no setup on a developer's machine.
Outside development the server secret must be set: it keys the HMAC under which API
keys are stored, so a known default would let anyone holding a copy of the database
test guesses offline; :meth:`Settings.check_startable` refuses to start (``QL-9502``).

Later sources win: a value in the file replaces the default, a ``QINGLANG_<NAME>``
variable replaces the file, and explicit overrides (the command line's) replace all.
Unknown names in the file are refused, so a typo never silently keeps a default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from qinglang import errors
from qinglang.errors import QLError

ENV_PREFIX = "QINGLANG_"
#: the secret a development server uses when none is set; refused outside development
DEVELOPMENT_SECRET = "qinglang-development-secret-not-for-production"
#: environment variables of the store and other fronts that are not service settings
_NOT_SETTINGS = {"QINGLANG_TEST_PG_URL", "QINGLANG_CONFIG"}


class Settings(BaseModel):
    """Every setting of the HTTP service (docs/service.md, "Settings")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Literal["development", "production"] = "development"
    secret: SecretStr = SecretStr("")
    #: database URL; None means the store's default (``QINGLANG_DB_URL``, else the SQLite file)
    db_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    #: learned model combined with the rules: "default" (bundled), a directory, or "none"
    model: str = "default"
    #: request bodies over this many bytes are refused (413) while they are read
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    #: posts in one batch (moderate/batch and ingest)
    max_batch: int = Field(1000, ge=1, le=100_000)
    #: characters per text field of a post (as ``--max-text-chars``)
    max_text_chars: int = Field(100_000, ge=1)
    #: seconds a request waits for detection; 0 runs detection inline, with no budget
    detect_timeout_s: float = Field(5.0, ge=0)
    #: posts detected per step of a batch (a batch past its budget keeps the steps done)
    detect_chunk: int = Field(100, ge=1)
    #: per-key token bucket: sustained requests per second (0 disables) and burst size
    rate_per_s: float = Field(200.0, ge=0)
    rate_burst: int = Field(400, ge=1)
    #: seconds a verified API key is remembered before it is looked up again
    key_cache_s: float = Field(5.0, ge=0)
    #: entries per page of GET /v1/audit at most
    max_page: int = Field(1000, ge=1)

    @property
    def secret_value(self) -> str:
        """The secret in force: the configured one, or the development default in development."""
        value = self.secret.get_secret_value()
        if not value and self.env == "development":
            return DEVELOPMENT_SECRET
        return value

    def check_startable(self) -> None:
        """Refuse to serve outside development with an empty or default secret (``QL-9502``)."""
        value = self.secret.get_secret_value()
        if self.env != "development" and (not value.strip() or value == DEVELOPMENT_SECRET):
            raise QLError(errors.SERVICE_INSECURE_SECRET,
                          f"env is {self.env!r} but no secret of its own is set",
                          hint="set QINGLANG_SECRET (or 'secret' in the settings file) to a long random value")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QLError(errors.FILE_NOT_FOUND, f"cannot read settings file {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        elif path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(raw) or {}
        else:
            raise QLError(errors.UNSUPPORTED_FORMAT, f"settings file {path} must be .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise QLError(errors.SERVICE_SETTINGS_INVALID, f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise QLError(errors.SERVICE_SETTINGS_INVALID, f"{path}: expected a table of settings")
    # [service] table in TOML, or the top level
    section = data.get("service", data)
    if not isinstance(section, dict):
        raise QLError(errors.SERVICE_SETTINGS_INVALID, f"{path}: 'service' must be a table")
    return dict(section)


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """``QINGLANG_<NAME>`` for every setting name; other QINGLANG_ variables are not ours."""
    names = set(Settings.model_fields)
    out: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key in _NOT_SETTINGS:
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name in names:
            out[name] = value
    return out


def load_settings(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Settings from defaults, ``path`` (or ``QINGLANG_CONFIG``), the environment and ``overrides``.

    Bad values are ``QL-9501`` naming each setting at fault; an unreadable file ``QL-4002``.
    """
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    file = path or env.get("QINGLANG_CONFIG") or None
    if file:
        merged.update(_read_file(Path(file)))
    merged.update(_from_environ(env))
    merged.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '-'}: {e['msg']}" for e in exc.errors())
        raise QLError(errors.SERVICE_SETTINGS_INVALID, problems) from None
