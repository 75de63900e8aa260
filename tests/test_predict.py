"""`predict` conditions end to end on real engines, on the CDNOW sample of Fader, Hardie and Lee (2005).

The warehouse computes every customer's history (x, t_x, T) and scores with the SQL segwise
compiles; both must equal the plain-Python history and the paper's formulas of tests/test_bgnbd.py
(an implementation independent of segwise's) for every customer, to 1e-9. The histories the
warehouse hands to `segwise fit` must give the paper's estimates, and membership must follow the
scores, with non-buyers and a missing fit failing every comparison.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from segwise.config import Project
from segwise.errors import SegwiseError
from segwise.sql.dialects import get_target
from segwise.sql.query import compile_membership, evaluation
from segwise.sql.staging import col, table
from tests.reference.strategies import TEST_CONFIG_JSON
from tests.support.engines import DuckEngine, Engine, PostgresEngine
from tests.support.projects import project_from_dicts
from tests.support.tables import load_tables

pytest.importorskip("scipy")

from segwise.predict import bgnbd
from segwise.predict.fitting import fit_in_warehouse, summary_query
from segwise.warehouse.duckdb_client import DuckDBWarehouse
from tests.support.cdnow import WEEK, cdnow_histories, cdnow_purchases
from tests.test_bgnbd import CALIBRATION_END, CUSTOMERS, PAPER, PAPER_LL, ref_expected, ref_p_alive

HORIZON_DAYS = 273  # the paper's 39-week holdout
SEGMENTS = [
    {"name": "at_risk", "rule": {"predict": {"model": "bgnbd", "p_alive": {"lt": 0.3}}}},
    {
        "name": "likely_buyers",
        "rule": {"predict": {"model": "bgnbd", "expected_purchases": {"within": f"{HORIZON_DAYS}d", "gte": 1}}},
    },
    {"name": "not_at_risk", "rule": {"not": {"in_segment": "at_risk"}}},
    {"name": "alive_neq", "rule": {"predict": {"model": "bgnbd", "p_alive": {"neq": 0.5}}}},
]
NON_BUYERS = ["browser_1", "browser_2"]


@pytest.fixture(scope="module")
def purchases() -> list[tuple[str, datetime]]:
    return cdnow_purchases()


@pytest.fixture(scope="module")
def histories(purchases: list[tuple[str, datetime]]) -> dict[str, tuple[int, float, float]]:
    return cdnow_histories(purchases, CALIBRATION_END.date())


@pytest.fixture(scope="module")
def summary(purchases: list[tuple[str, datetime]]) -> bgnbd.Summary:
    return bgnbd.summarize(purchases, CALIBRATION_END, unit_days=WEEK)


@pytest.fixture(scope="module")
def model(summary: bgnbd.Summary) -> bgnbd.Fit:
    return bgnbd.fit(summary)


def _config() -> dict[str, Any]:
    config = copy.deepcopy(TEST_CONFIG_JSON)
    config["predict"] = {"bgnbd": {"event": "order_completed", "unit": "7d"}}
    return config


def _project() -> Project:
    return project_from_dicts(_config(), SEGMENTS)


def _load(engine: Engine, purchases: list[tuple[str, datetime]]) -> None:
    events = [
        {
            "user_id": customer,
            "event_name": "order_completed",
            "occurred_at": when,
            "loaded_at": when,
            "event_id": f"e{n}",
            "properties": "{}",
        }
        for n, (customer, when) in enumerate(purchases)
    ]
    events += [
        {"user_id": u, "event_name": "app_opened", "occurred_at": datetime(1997, 5, 1), "event_id": f"v{u}"}
        for u in NON_BUYERS
    ]
    users = [{"user_id": u} for u in NON_BUYERS]
    load_tables(engine, _config(), users, events)


def _record(engine: Engine, fit: bgnbd.Fit | None) -> None:
    engine.execute("DROP TABLE IF EXISTS segwise_models")
    engine.execute(
        "CREATE TABLE segwise_models (model VARCHAR(20), r DOUBLE PRECISION, alpha DOUBLE PRECISION,"
        " a DOUBLE PRECISION, b DOUBLE PRECISION, fitted_at TIMESTAMP)"
    )
    if fit is not None:  # an older, different fit first: the latest one must be used
        engine.execute("INSERT INTO segwise_models VALUES ('bgnbd', 1, 1, 1.5, 1, '2020-01-01 00:00:00')")
        values = ", ".join(repr(v) for v in fit.params)
        engine.execute(f"INSERT INTO segwise_models VALUES ('bgnbd', {values}, '2021-01-01 00:00:00')")


@pytest.fixture(scope="module")
def duck(purchases: list[tuple[str, datetime]]) -> Iterator[DuckEngine]:
    engine = DuckEngine()
    _load(engine, purchases)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def pg(pg_dsn: str, purchases: list[tuple[str, datetime]]) -> Iterator[PostgresEngine]:
    engine = PostgresEngine(pg_dsn)
    _load(engine, purchases)
    yield engine
    engine.close()


ENGINES = ["duck", pytest.param("pg", marks=pytest.mark.postgres)]


def _scores(engine: Engine) -> dict[str, tuple[float, ...]]:
    """Each buyer's x, t_x, T and scores, from the evaluation's own CTE."""
    project = _project()
    ev = evaluation(project, ["at_risk", "likely_buyers"], engine.dialect, CALIBRATION_END)
    columns = ["bgnbd_x", "bgnbd_t_x", "bgnbd_age", "pr_p_alive", f"pr_expected_purchases_{HORIZON_DAYS * 86400}s"]
    query = ev.select(exp.select(col("user_id"), *(col(c) for c in columns)).from_(table("sw_bgnbd")))
    rows = engine.query(get_target(engine.dialect).sql(query))
    return {str(r[0]): tuple(float(v) for v in r[1:]) for r in rows}


@pytest.mark.parametrize("name", ENGINES)
def test_histories_and_scores_equal_the_papers_formulas(
    request: pytest.FixtureRequest, name: str, model: bgnbd.Fit, histories: dict[str, tuple[int, float, float]]
) -> None:
    engine: Engine = request.getfixturevalue(name)
    _record(engine, model)
    got = _scores(engine)
    assert set(got) == set(histories) and len(got) == CUSTOMERS
    t = HORIZON_DAYS / WEEK
    wrong = []
    for customer, (x, t_x, T) in histories.items():
        gx, gt_x, gT, alive, expected = got[customer]
        want = (x, t_x, T, ref_p_alive(model.params, x, t_x, T), ref_expected(model.params, t, x, t_x, T))
        for g, w in zip((gx, gt_x, gT, alive, expected), want, strict=True):
            if not abs(g - w) <= 1e-9 * max(1.0, abs(w)):
                wrong.append((customer, (gx, gt_x, gT, alive, expected), want))
                break
    assert not wrong, f"{len(wrong)} customers differ, e.g. {wrong[:3]}"


@pytest.mark.parametrize("name", ENGINES)
def test_membership_follows_the_scores(
    request: pytest.FixtureRequest, name: str, model: bgnbd.Fit, histories: dict[str, tuple[int, float, float]]
) -> None:
    engine: Engine = request.getfixturevalue(name)
    _record(engine, model)
    query = compile_membership(_project(), [s["name"] for s in SEGMENTS], engine.dialect, CALIBRATION_END)
    got: dict[str, set[str]] = {s["name"]: set() for s in SEGMENTS}
    for segment, user, _variant in engine.query(get_target(engine.dialect).sql(query)):
        got[segment].add(user)
    t = HORIZON_DAYS / WEEK
    alive = {c: ref_p_alive(model.params, *h) for c, h in histories.items()}
    expected = {c: ref_expected(model.params, t, *h) for c, h in histories.items()}
    assert got["at_risk"] == {c for c, p in alive.items() if p < 0.3}
    assert got["likely_buyers"] == {c for c, e in expected.items() if e >= 1}
    # non-buyers have no score: every comparison fails (neq too), and `not` holds
    assert got["not_at_risk"] == (set(histories) - got["at_risk"]) | set(NON_BUYERS)
    assert got["alive_neq"] == set(histories)
    assert 0 < len(got["at_risk"]) < CUSTOMERS and 0 < len(got["likely_buyers"]) < CUSTOMERS


@pytest.mark.parametrize("name", ENGINES)
def test_without_a_fit_no_one_has_a_score(request: pytest.FixtureRequest, name: str) -> None:
    engine: Engine = request.getfixturevalue(name)
    _record(engine, None)
    query = compile_membership(_project(), ["at_risk", "not_at_risk", "alive_neq"], engine.dialect, CALIBRATION_END)
    segments = {row[0] for row in engine.query(get_target(engine.dialect).sql(query))}
    assert segments == {"not_at_risk"}


@pytest.mark.parametrize("name", ENGINES)
def test_the_warehouse_histories_give_the_papers_estimates(
    request: pytest.FixtureRequest, name: str, summary: bgnbd.Summary
) -> None:
    engine: Engine = request.getfixturevalue(name)
    sql = get_target(engine.dialect).sql(summary_query(_project(), engine.dialect, CALIBRATION_END))
    rows = sorted(tuple(float(v) for v in row) for row in engine.query(sql))
    assert len(rows) < CUSTOMERS  # grouped by distinct history
    want = sorted(zip(summary.x, summary.t_x, summary.T, summary.count, strict=True))
    assert len(rows) == len(want)
    assert all(
        math.isclose(g, w, rel_tol=1e-12)
        for got, exp_ in zip(rows, want, strict=True)
        for g, w in zip(got, exp_, strict=True)
    )
    fit = bgnbd.fit(bgnbd.Summary(*zip(*rows, strict=True)))
    for key, value in PAPER.items():
        assert getattr(fit, key) == pytest.approx(value, rel=0.005), key
    assert fit.log_likelihood == pytest.approx(PAPER_LL, abs=0.05)


def _duckdb_file(tmp_path: Path, purchases: list[tuple[str, datetime]]) -> Path:
    path = tmp_path / "w.duckdb"
    engine = DuckEngine(str(path))
    _load(engine, purchases)
    engine.close()
    return path


def test_fit_in_warehouse_and_degenerate_data(tmp_path: Path, purchases: list[tuple[str, datetime]]) -> None:
    path = _duckdb_file(tmp_path, purchases)
    with DuckDBWarehouse({"path": str(path)}) as warehouse:
        result = fit_in_warehouse(_project(), warehouse, CALIBRATION_END)
    assert result.customers == CUSTOMERS and result.rows < CUSTOMERS
    assert result.params["r"] == pytest.approx(PAPER["r"], rel=0.005)
    assert result.series_error < 1e-12
    # one purchase each: no repeat buyer, no maximum-likelihood estimate
    firsts = sorted({c: w for c, w in reversed(purchases)}.items())
    (tmp_path / "single").mkdir()
    single = _duckdb_file(tmp_path / "single", firsts)
    with DuckDBWarehouse({"path": str(single)}) as warehouse, pytest.raises(SegwiseError, match="repeat purchase"):
        fit_in_warehouse(_project(), warehouse, CALIBRATION_END)
    # nothing bought before T
    with DuckDBWarehouse({"path": str(path)}) as warehouse, pytest.raises(SegwiseError, match="no purchases to fit"):
        fit_in_warehouse(_project(), warehouse, datetime(1990, 1, 1))
