"""Predictions in SQL: each user's BG/NBD history and scores under the latest fit.

sw_bgnbd_days     one row per user and calendar day with a purchase (the model's event within
                  the calibration horizon of T): purchases on one day are one purchase
sw_bgnbd_fit      the latest fit of the model (`segwise fit`), from the models table
sw_bgnbd          per buyer: x (repeat purchases), t_x (the last, from the first), age (T,
                  from the first), in the model's unit, and one column per score a rule reads

A user with no purchase has no row: the scores are NULL and every comparison on them is
false (docs/language.md, 'Predictions'). No fit row: no scores for anyone (the dbt layer
refuses to run a `predict` segment without a fit).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlglot import exp

from segwise.config import BgNbdConfig
from segwise.predict.scoring import Params, expected_purchases_sql, p_alive_sql
from segwise.rules.nodes import PredictScore
from segwise.rules.values import Duration
from segwise.sql import literals
from segwise.sql.dialects import ElapsedMicros, Target
from segwise.sql.rfm import MICROS_PER_DAY
from segwise.sql.staging import USER_KEY, alias, col, table, user_id_of_key

MODELS_TABLE = "segwise_models"
BGNBD = "bgnbd"
HISTORY_COLUMNS = {"x": "bgnbd_x", "t_x": "bgnbd_t_x", "age": "bgnbd_age"}

Score = tuple[PredictScore, Duration | None]


def score_column(score: PredictScore, within: Duration | None) -> str:
    return f"pr_{score.value}" if within is None else f"pr_{score.value}_{within.seconds}s"


def _day(target: Target, ts: exp.Expr) -> exp.Expr:
    """The calendar day (UTC) of a timestamp, as a number of days since 1970-01-01."""
    epoch = literals.timestamp(target, datetime(1970, 1, 1))
    micros = target.cast(ElapsedMicros(this=ts, expression=epoch), "double")
    return exp.Floor(this=exp.Div(this=micros, expression=exp.Literal.number(MICROS_PER_DAY)))


def _in_units(days: exp.Expr, unit: Duration) -> exp.Expr:
    return exp.Div(this=exp.paren(days, copy=False), expression=literals.number(unit.seconds / 86400))


def history_ctes(target: Target, model: BgNbdConfig, events: str, as_of: exp.Expr) -> list[tuple[str, exp.Select]]:
    """sw_bgnbd_days and sw_bgnbd_history (user_id, x, t_x, age), over the staged events CTE
    `events` (user_key, event_name, ts <= T)."""
    bought: list[exp.Expr] = [exp.EQ(this=col("event_name"), expression=literals.string(model.event))]
    if model.calibration is not None:
        bought.append(exp.GT(this=col("ts"), expression=literals.minus(as_of, model.calibration)))
    days = (
        exp.select(user_id_of_key(target), alias(_day(target, col("ts")), "day"))
        .from_(table(events), copy=False)
        .where(exp.and_(*bought), copy=False)
        .group_by(col(USER_KEY), _day(target, col("ts")), copy=False)
    )
    history = (
        exp.select(
            col("user_id"),
            alias(
                target.cast(exp.Sub(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)), "double"), "x"
            ),
            alias(
                _in_units(exp.Sub(this=exp.Max(this=col("day")), expression=exp.Min(this=col("day"))), model.unit),
                "t_x",
            ),
            alias(
                _in_units(exp.Sub(this=_day(target, as_of.copy()), expression=exp.Min(this=col("day"))), model.unit),
                "age",
            ),
        )
        .from_(table("sw_bgnbd_days"), copy=False)
        .group_by(col("user_id"), copy=False)
    )
    return [("sw_bgnbd_days", days), ("sw_bgnbd_history", history)]


def predict_ctes(
    target: Target, model: BgNbdConfig, events: str, as_of: exp.Expr, models: exp.Expr, scores: Iterable[Score]
) -> list[tuple[str, exp.Select]]:
    """The CTEs above, over the staged events CTE `events` (user_key, event_name, ts)."""
    fit = (
        exp.select(col("r"), col("alpha"), col("a"), col("b"))
        .from_(exp.alias_(models, "m", table=True), copy=False)
        .where(exp.EQ(this=col("model"), expression=literals.string(BGNBD)), copy=False)
        .order_by(exp.Ordered(this=col("fitted_at"), desc=True), copy=False)
        .limit(1, copy=False)
    )
    params = Params(r=col("r", "f"), alpha=col("alpha", "f"), a=col("a", "f"), b=col("b", "f"))
    x, t_x, age = col("x", "h"), col("t_x", "h"), col("age", "h")
    columns: list[exp.Expr] = [
        col("user_id", "h"),
        *(alias(col(c, "h"), HISTORY_COLUMNS[c]) for c in ("x", "t_x", "age")),
    ]
    for score, within in dict.fromkeys(scores):
        if score is PredictScore.P_ALIVE:
            value = p_alive_sql(target, params, x.copy(), t_x.copy(), age.copy())
        else:
            assert within is not None  # validated: expected_purchases has a horizon
            horizon = within.seconds / model.unit.seconds
            value = expected_purchases_sql(target, params, horizon, x.copy(), t_x.copy(), age.copy())
        columns.append(alias(value, score_column(score, within)))
    scored = (
        exp.select(*columns)
        .from_(exp.alias_(exp.to_table("sw_bgnbd_history"), "h", table=True), copy=False)
        .join(exp.alias_(exp.to_table("sw_bgnbd_fit"), "f", table=True), join_type="cross", copy=False)
    )
    return [*history_ctes(target, model, events, as_of), ("sw_bgnbd_fit", fit), ("sw_bgnbd", scored)]
