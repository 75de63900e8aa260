"""Column types for the test relations, from the config and the generated rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.support.engines import Engine

SQL_TYPES = {"string": "varchar", "number": "double", "boolean": "boolean", "timestamp": "timestamp"}


def _id_type(rows: Sequence[dict[str, Any]], column: str) -> str:
    values = [r.get(column) for r in rows if r.get(column) is not None]
    return "bigint" if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values) else "varchar"


def _trait_type(spec: Any) -> tuple[str, str | None]:
    return (spec, None) if isinstance(spec, str) else (spec["type"], spec.get("column"))


def load_tables(
    engine: Engine, config: dict[str, Any], users: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    src = config["sources"]
    ucfg, ecfg = src["users"], src["events"]
    ucols = {ucfg["id"]: _id_type(users, ucfg["id"])}
    for name, spec in ucfg["traits"].items():
        kind, column = _trait_type(spec)
        ucols[column or name] = SQL_TYPES[kind]
    if ucfg.get("updated_at"):
        ucols[ucfg["updated_at"]] = "timestamp"
    ecols = {
        ecfg["user_id"]: _id_type(events, ecfg["user_id"]),
        ecfg["name"]: "varchar",
        ecfg["timestamp"]: "timestamp",
    }
    if ecfg.get("loaded_at"):
        ecols[ecfg["loaded_at"]] = "timestamp"
    if ecfg.get("id"):
        ecols[ecfg["id"]] = _id_type(events, ecfg["id"])
    props = ecfg.get("properties") or {}
    if "column" in props:
        ecols[props["column"]] = "json" if engine.dialect == "postgres" else "varchar"
    for prop, column in (props.get("columns") or {}).items():
        ecols[column] = SQL_TYPES[props.get("types", {}).get(prop, "string")]
    engine.create(ucfg["relation"].split(".")[-1], ucols, users)
    engine.create(ecfg["relation"].split(".")[-1], ecols, events)
