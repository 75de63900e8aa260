"""`segwise fit`: the BG/NBD model fitted to the warehouse's own purchase history.

The warehouse computes each buyer's (x, t_x, T) with the same SQL as scoring
(segwise.sql.predict) and returns them grouped, one row per distinct history with the number
of buyers who share it: a fit over millions of buyers moves a few thousand rows. scipy fits
the model here (segwise.predict.bgnbd), and the dbt layer records it in `segwise_models`
(macros/segwise_models.sql), where `dbt build` reads the latest fit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from segwise.config import BgNbdConfig, Project
from segwise.dbt.operation import run_operation
from segwise.errors import SegwiseError
from segwise.predict.scoring import series_error_bound
from segwise.rules.nodes import PredictCondition
from segwise.rules.walk import walk
from segwise.sql import literals
from segwise.sql.dialects import get_target
from segwise.sql.predict import history_ctes
from segwise.sql.relations import Resolver, direct
from segwise.sql.staging import col, events_cte, table
from segwise.warehouse.base import Warehouse

# The largest truncation error of the SQL's series (segwise.predict.scoring) a fit may have
# for the horizons the rules use: scores are compared with thresholds, and 1e-9 is far below
# any threshold's precision, but well above the float noise of the rest of the formula.
MAX_SERIES_ERROR = 1e-9


@dataclass(frozen=True)
class FitResult:
    params: dict[str, float]  # r, alpha, a, b
    log_likelihood: float
    customers: int
    rows: int  # distinct histories moved out of the warehouse
    as_of: datetime
    query_seconds: float
    fit_seconds: float
    series_error: float  # the worst truncation error of expected_purchases over the rules' horizons


def horizons(project: Project) -> list[float]:
    """The `expected_purchases` horizons of every rule, in the model's unit."""
    model = model_config(project)
    found = {
        node.within.seconds / model.unit.seconds
        for segment in project.segments.values()
        for node in walk(segment.rule)
        if isinstance(node, PredictCondition) and node.within is not None
    }
    return sorted(found)


def model_config(project: Project) -> BgNbdConfig:
    predict = project.config.predict
    if predict is None or predict.bgnbd is None:
        raise SegwiseError(
            f"{project.config.path} has no predict: section: add predict: {{bgnbd: {{event: <the purchase event>}}}}"
        )
    return predict.bgnbd


def summary_query(project: Project, dialect: str, as_of: datetime, resolver: Resolver | None = None) -> exp.Select:
    """SELECT x, t_x, age, customers: every distinct purchase history at T and its buyers."""
    model = model_config(project)
    target = get_target(dialect)
    config = project.config
    t = literals.timestamp(target, as_of)
    events = events_cte(target, config, (resolver or direct())(config.events.relation), {}, t, None, None)
    query = (
        exp.select(col("x"), col("t_x"), col("age"), exp.alias_(exp.Count(this=exp.Star()), "customers"))
        .from_(table("sw_bgnbd_history"), copy=False)
        .group_by(col("x"), col("t_x"), col("age"), copy=False)
    )
    query = query.with_("sw_events", as_=events, copy=False)
    for name, cte in history_ctes(target, model, "sw_events", t):
        query = query.with_(name, as_=cte, copy=False)
    return query


def fit_in_warehouse(
    project: Project, warehouse: Warehouse, as_of: datetime, resolver: Resolver | None = None
) -> FitResult:
    try:
        import numpy as np

        from segwise.predict import bgnbd
    except ImportError as exc:  # scipy and numpy are the `predict` extra
        raise SegwiseError(f"segwise fit needs the predict extra: pip install 'segwise[predict]' ({exc})") from None
    target = get_target(warehouse.dialect)
    sql = target.sql(summary_query(project, warehouse.dialect, as_of, resolver), pretty=False, copy=False)
    started = time.perf_counter()
    rows: list[tuple[Any, ...]] = warehouse.query(sql)
    query_seconds = time.perf_counter() - started
    if not rows:
        raise SegwiseError(
            f"no purchases to fit: no {model_config(project).event!r} event at or before {as_of.isoformat()}"
        )
    x, t_x, age, customers = (np.array([float(v) for v in c], dtype=np.float64) for c in zip(*rows, strict=True))
    try:
        fit = bgnbd.fit(bgnbd.Summary(x, t_x, age, customers))
    except ValueError as exc:
        raise SegwiseError(f"cannot fit the BG/NBD model at {as_of.isoformat()}: {exc}") from None
    error = max((series_error_bound(*fit.params, t) for t in horizons(project)), default=0.0)
    if not error <= MAX_SERIES_ERROR:
        raise SegwiseError(
            f"the fit r={fit.r:.4g} alpha={fit.alpha:.4g} a={fit.a:.4g} b={fit.b:.4g} would make expected_purchases "
            f"inexact in SQL (series error up to {error:.2g} > {MAX_SERIES_ERROR:g}) for the horizons "
            f"{', '.join(f'{t:g}' for t in horizons(project))} (in units of the model): use shorter horizons or "
            "a longer predict.bgnbd.unit; nothing was recorded"
        )
    return FitResult(
        params={"r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b},
        log_likelihood=fit.log_likelihood,
        customers=fit.n,
        rows=len(rows),
        as_of=as_of,
        query_seconds=query_seconds,
        fit_seconds=fit.seconds,
        series_error=error,
    )


def record_fit(
    project: Project,
    project_dir: Path,
    result: FitResult,
    target: str | None,
    profiles_dir: Path | None,
    profile: str | None,
) -> None:
    """Writes the fit to `segwise_models` through dbt (macros/segwise_models.sql), with the
    profile's adapter and in the membership model's schema."""
    model = model_config(project)
    arguments: dict[str, Any] = {
        "model": "bgnbd",
        **{k: repr(v) for k, v in result.params.items()},
        "log_likelihood": repr(result.log_likelihood),
        "customers": result.customers,
        "rows": result.rows,
        "as_of": result.as_of.isoformat(),
        "fit_seconds": repr(result.fit_seconds),
        "event": model.event,
        "unit_days": model.unit.seconds / 86400,
        "calibration_days": None if model.calibration is None else model.calibration.seconds / 86400,
    }
    run_operation("record_fit", arguments, project_dir, target, profiles_dir, profile)
