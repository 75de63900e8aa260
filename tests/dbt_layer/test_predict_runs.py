"""`predict` segments through dbt (docs/language.md, 'predict'): a run without a fit fails and says
what to do; `segwise fit` records a fit; full and incremental runs score with the latest fit, and
membership equals the paper's formulas (tests/test_bgnbd.py) on the CDNOW sample at every T."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from segwise.cli import main as segwise_cli
from tests.dbt_layer.harness import DbtProject, Warehouse, bigquery_warehouse, snowflake_warehouse
from tests.reference.strategies import TEST_CONFIG_JSON

pytest.importorskip("scipy")

from tests.support.cdnow import cdnow_purchases
from tests.test_bgnbd import ref_expected, ref_p_alive

pytestmark = pytest.mark.slow

T = datetime(1997, 9, 30)
WITHIN_DAYS = 90
SEGMENTS = [
    {"name": "likely_churned", "rule": {"predict": {"model": "bgnbd", "p_alive": {"lt": 0.3}}}},
    {
        "name": "likely_repeat",
        "rule": {"predict": {"model": "bgnbd", "expected_purchases": {"within": f"{WITHIN_DAYS}d", "gte": 0.5}}},
    },
    {"name": "buyers_30d", "rule": {"event": "order_completed", "within": "30d"}},
]


@pytest.fixture(scope="module")
def purchases() -> list[tuple[str, datetime]]:
    return cdnow_purchases()


def _config() -> dict[str, Any]:
    config = copy.deepcopy(TEST_CONFIG_JSON)
    config["predict"] = {"bgnbd": {"event": "order_completed", "unit": "7d"}}
    return config


def _expected(purchases: list[tuple[str, datetime]], params: tuple[float, ...], t: datetime) -> set[tuple[str, str]]:
    """Members at `t`, from each customer's purchase days and the paper's formulas."""
    days: dict[str, set[date]] = {}
    for customer, when in purchases:
        if when <= t:
            days.setdefault(customer, set()).add(when.date())
    members = set()
    for customer, d in days.items():
        x, t_x, age = len(d) - 1, (max(d) - min(d)).days / 7, (t.date() - min(d)).days / 7
        if ref_p_alive(params, x, t_x, age) < 0.3:
            members.add(("likely_churned", customer))
        if ref_expected(params, WITHIN_DAYS / 7, x, t_x, age) >= 0.5:
            members.add(("likely_repeat", customer))
        if any(t - timedelta(days=30) < w <= t for c, w in purchases if c == customer):
            members.add(("buyers_30d", customer))
    return members


def _fit(project: DbtProject, as_of: datetime) -> tuple[float, ...]:
    result = CliRunner().invoke(
        segwise_cli,
        ["fit", "--as-of", as_of.isoformat(), "--config", str(project.root / "segwise.yml"),
         "--profiles-dir", str(project.root)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "recorded in segwise_models" in result.output
    latest = max(project.rows("segwise_models", "fitted_at, as_of, r, alpha, a, b, customers"))
    assert latest[1] == as_of and latest[6] > 0
    return tuple(float(v) for v in latest[2:6])


ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("snowflake", marks=pytest.mark.snowflake),
    pytest.param("bigquery", marks=pytest.mark.bigquery),
]
# The emulators run each query slowly: there, the first 400 of the 2,357 customers, and no refit
# (the latest fit is chosen in SQL that is the same on every engine, and tested on the others).
EMULATED_CUSTOMERS = 400


@pytest.fixture(params=ENGINES)
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    kind = request.param
    engine: str | Warehouse = kind
    if kind == "snowflake":
        engine = snowflake_warehouse(request.getfixturevalue("fakesnow_port"))
    elif kind == "bigquery":
        engine = bigquery_warehouse(request.getfixturevalue("bigquery_port"))
    dsn = request.getfixturevalue("pg_dsn") if kind == "postgres" else None
    p = DbtProject(tmp_path / "p", engine, dsn)
    yield p
    p.close()


def test_predict_segments_through_dbt(project: DbtProject, purchases: list[tuple[str, datetime]]) -> None:
    if project.kind in ("snowflake", "bigquery"):
        purchases = [(c, w) for c, w in purchases if int(c) <= EMULATED_CUSTOMERS]
    project.configure(_config(), SEGMENTS)
    events = [
        {"user_id": c, "event_name": "order_completed", "occurred_at": w, "loaded_at": max(w, T),
         "event_id": f"e{n}", "properties": json.dumps({"amount": 1})}
        for n, (c, w) in enumerate(purchases)
    ]  # fmt: skip
    project.load([], events)

    ok, message = project.dbt("run", as_of=T)
    assert not ok and "no fit" in message and "segwise fit --target" in message, message

    params = _fit(project, T)
    assert project.dbt("run", as_of=T)[0]
    assert set(project.rows("segment_membership", "segment, user_id")) == _expected(purchases, params, T)

    # weeks later, with the purchases of October loaded: incremental, every buyer re-scored
    t2 = T + timedelta(days=31)
    assert project.dbt("run", as_of=t2)[0]
    assert set(project.rows("segment_membership", "segment, user_id")) == _expected(purchases, params, t2)
    mode, users = max(project.rows("segwise_runs", "as_of, mode, prediction_users"))[1:]
    assert mode == "incremental" and users == len({c for c, w in purchases if w <= t2})  # every buyer

    if project.kind in ("snowflake", "bigquery"):
        return
    # a refit: the next run scores with the latest fit
    refit = _fit(project, t2)
    assert refit != params
    t3 = t2 + timedelta(days=1)
    assert project.dbt("run", as_of=t3)[0]
    assert set(project.rows("segment_membership", "segment, user_id")) == _expected(purchases, refit, t3)
