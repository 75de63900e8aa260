"""Finding and reading the dbt profile, the way dbt does.

- profiles.yml: `--profiles-dir`, else DBT_PROFILES_DIR, else the current directory when it
  has one, else ~/.dbt;
- the profile: `--profile`, else DBT_PROFILE, else `profile:` of the dbt_project.yml next to
  segwise.yml;
- the target: `--target`, else DBT_TARGET, else the profile's `target:`, else `default`.

Only the chosen target's output is rendered, as in dbt, so a Snowflake output whose
variables are unset does not stop a DuckDB preview.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from segwise.sql.dialects import TARGETS
from segwise.warehouse.base import WarehouseError
from segwise.warehouse.render import render_data


@dataclass(frozen=True)
class ConnectionProfile:
    """One rendered output of a dbt profile."""

    profile: str
    target: str
    type: str  # the adapter type: duckdb, postgres, snowflake, bigquery
    fields: dict[str, Any] = field(repr=False)  # rendered; may hold secrets
    path: Path  # the profiles.yml it came from

    @property
    def dialect(self) -> str:
        return self.type

    @property
    def schema(self) -> str | None:
        """The target schema (a dataset on BigQuery): where `ref('x')` tables live."""
        value = self.fields.get("dataset") if self.type == "bigquery" else None
        value = value or self.fields.get("schema")
        if value is None and self.type == "duckdb":
            return "main"  # dbt-duckdb's default
        return str(value) if value is not None else None

    @property
    def database(self) -> str | None:
        """The database (a project on BigQuery) that qualifies relations, where one is needed."""
        if self.type == "bigquery":
            value = self.fields.get("project") or self.fields.get("database")
        elif self.type in ("snowflake", "duckdb"):
            value = self.fields.get("database")  # dbt-duckdb: the file's catalog unless set
        else:
            value = None  # PostgreSQL: the connection's database
        return str(value) if value else None


def _read_yaml(path: Path) -> Any:
    try:
        return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise WarehouseError(f"cannot read {path}: {exc}") from None


def find_profiles_dir(
    profiles_dir: Path | None = None, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Path:
    """Where dbt would read profiles.yml from."""
    env = os.environ if env is None else env
    if profiles_dir is not None:
        return profiles_dir
    if env.get("DBT_PROFILES_DIR"):
        return Path(env["DBT_PROFILES_DIR"]).expanduser()
    here = cwd or Path.cwd()
    if (here / "profiles.yml").is_file():
        return here
    return Path.home() / ".dbt"


def project_profile_name(project_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """`profile:` of the dbt project in `project_dir`."""
    path = project_dir / "dbt_project.yml"
    if not path.is_file():
        raise WarehouseError(f"no dbt_project.yml in {project_dir} to name the profile: pass --profile")
    data = _read_yaml(path)
    name = render_data(data.get("profile") if isinstance(data, dict) else None, str(path), env)
    if not isinstance(name, str) or not name:
        raise WarehouseError(f"{path} has no `profile:`: pass --profile")
    return name


def load_profile(
    config_path: Path,
    profiles_dir: Path | None = None,
    profile: str | None = None,
    target: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ConnectionProfile:
    """The rendered output of the dbt profile for the dbt project next to `config_path`."""
    env = os.environ if env is None else env
    directory = find_profiles_dir(profiles_dir, env)
    path = directory / "profiles.yml"
    if not path.is_file():
        raise WarehouseError(
            f"no profiles.yml in {directory}: pass --profiles-dir, set DBT_PROFILES_DIR, "
            "or copy profiles.example.yml to ~/.dbt/profiles.yml"
        )
    name = profile or env.get("DBT_PROFILE") or project_profile_name(config_path.parent, env)
    profiles = _read_yaml(path)
    entry = profiles.get(name) if isinstance(profiles, dict) else None
    if not isinstance(entry, dict):
        found = sorted(k for k, v in (profiles or {}).items() if isinstance(v, dict) and k != "config")
        raise WarehouseError(f"{path}: no profile {name!r}" + (f"; profiles: {', '.join(found)}" if found else ""))
    outputs = entry.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        raise WarehouseError(f"{path}: profile {name!r} has no outputs")
    where = f"{path}: profile {name!r}"
    chosen = target or env.get("DBT_TARGET") or render_data(entry.get("target"), where, env) or "default"
    chosen = str(chosen)
    if not isinstance(outputs.get(chosen), dict):
        raise WarehouseError(f"{where}: unknown target {chosen!r}; targets: {', '.join(sorted(map(str, outputs)))}")
    fields = render_data(outputs[chosen], f"{where}, target {chosen!r}", env)
    kind = fields.get("type")
    if kind not in TARGETS:
        raise WarehouseError(
            f"{where}, target {chosen!r}: type {kind!r} is not supported by preview; "
            f"use one of {', '.join(sorted(TARGETS))}"
        )
    return ConnectionProfile(name, chosen, str(kind), fields, path)
