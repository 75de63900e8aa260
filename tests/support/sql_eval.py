"""Evaluate segments with the compiled SQL on a real engine, in the reference's output shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from segwise.sql.dialects import get_target
from segwise.sql.query import compile_membership
from tests.support.engines import Engine
from tests.support.projects import project_from_dicts
from tests.support.tables import load_tables


def sql_evaluate(
    engine: Engine,
    config: dict[str, Any],
    segments: list[dict[str, Any]],
    users: list[dict[str, Any]],
    events: list[dict[str, Any]],
    as_of: datetime,
) -> dict[str, dict[str, str | None]]:
    project = project_from_dicts(config, segments)
    load_tables(engine, config, users, events)
    query = compile_membership(project, [s["name"] for s in segments], engine.dialect, as_of)
    got: dict[str, dict[str, str | None]] = {s["name"]: {} for s in segments}
    for segment, user_id, variant in engine.query(get_target(engine.dialect).sql(query)):
        assert user_id not in got[segment], f"duplicate member {user_id} of {segment}"
        got[segment][user_id] = variant
    return got
