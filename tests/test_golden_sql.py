"""Golden SQL per dialect for representative segments (reviewed files under tests/golden/).

Golden files make every change to the generated SQL a reviewable diff; they prove nothing
on their own, so each is also parsed back with sqlglot's reader for its dialect here, and
the same SQL is executed elsewhere (DuckDB/PostgreSQL suites, the engine end-to-end tests).
Regenerate after an intended change with `SEGWISE_UPDATE_GOLDEN=1 pytest tests/test_golden_sql.py`.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
import sqlglot

from segwise.loading import load_project
from segwise.sql.dialects import TARGETS
from segwise.sql.query import compile_segment

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
AS_OF = datetime(2025, 6, 1)
REPRESENTATIVE = [
    "high_intent_browsers",  # counts in windows
    "checkout_abandoners",  # sequence with an absent step
    "weekly_active",  # regularity
    "rfm_champions",  # RFM scores
    "winback_campaign",  # in_segment, NOT, holdout
    "premium_new_york",  # in-list, ignore_case
    "near_flagship_store",  # haversine
    "nps_detractors",  # JSON property filters
    "trial_ending_soon",  # relative time on a trait
]
PROJECT = load_project(ROOT / "segwise.yml")


@pytest.mark.parametrize("dialect", sorted(TARGETS))
@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_golden_sql(name: str, dialect: str) -> None:
    target = TARGETS[dialect]
    sql = target.sql(compile_segment(PROJECT, name, dialect, AS_OF)) + ";\n"
    path = GOLDEN / dialect / f"{name}.sql"
    if os.environ.get("SEGWISE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    assert path.read_text() == sql, f"{path} is stale: review the diff, then regenerate"
    assert sqlglot.parse_one(sql, read=target.reader) is not None
