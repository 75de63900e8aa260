"""`source('a', 'b')` as the dbt project declares it: its sources YAML may give the source a
schema, a database and the table an identifier other than its name.

    sources:
      - name: shop                 # source('shop', 'orders')
        schema: raw_shop           # default: the source name
        database: lake             # default: the target's database
        tables:
          - name: orders
            identifier: orders_v2  # default: the table name
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from segwise.warehouse.profiles import ConnectionProfile
from segwise.warehouse.render import render_data

SourceTables = dict[tuple[str, str], tuple[str, ...]]


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if "sources" not in text:
        return None
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError:
        return None  # dbt reports broken YAML itself; preview falls back on `a.b`


def model_paths(project_dir: Path) -> list[Path]:
    data = _load_project(project_dir / "dbt_project.yml")
    paths = data.get("model-paths") if isinstance(data, dict) else None
    return [project_dir / str(p) for p in (paths if isinstance(paths, list) else ["models"])]


def _load_project(path: Path) -> Any:
    try:
        return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError):
        return None


def dbt_sources(project_dir: Path, profile: ConnectionProfile) -> SourceTables:
    """(source, table) -> the relation's parts, for every source the project's YAML declares."""
    target = {"name": profile.target, "type": profile.type, "schema": profile.schema, "database": profile.database}
    found: SourceTables = {}
    for root in model_paths(project_dir):
        files = sorted([*root.rglob("*.yml"), *root.rglob("*.yaml")]) if root.is_dir() else []
        for path in files:
            data = _load(path)
            entries = data.get("sources") if isinstance(data, dict) else None
            for source in entries if isinstance(entries, list) else ():
                if not isinstance(source, dict) or not source.get("name"):
                    continue
                source = render_data(source, str(path), extra={"target": target})
                name = str(source["name"])
                schema = str(source.get("schema") or name)
                database = source.get("database") or profile.database
                for table in source.get("tables") or ():
                    if isinstance(table, dict) and table.get("name"):
                        identifier = str(table.get("identifier") or table["name"])
                        parts = (str(database), schema, identifier) if database else (schema, identifier)
                        found.setdefault((name, str(table["name"])), parts)
    return found
