"""The BG/NBD scores in SQL (segwise.predict.scoring) against the Python reference
(segwise.predict.bgnbd), run on each engine: DuckDB in-process, PostgreSQL (a real server),
Snowflake (fakesnow) and BigQuery (bqemulator).

One query per engine scores every history against every fit, the parameters read from a table
as segwise's models read them, plus the paper's CDNOW fit as literals (folded into the SQL). The
histories include x == 0, large x, t_x == T, t_x == 0, T == 0, old customers, and extremes (x
and T up to 1e15, and beyond: NULL). Every value must be the reference's to 1e-9 relative
(1e-12 absolute near 0).

The emulators read our SQL with sqlglot and rewrite it in Python, 10 s (fakesnow) to 25 s
(bqemulator) per score of expected purchases (some 45,000 nodes): they score the longest horizon
only, whose series converges slowest, with the parameters from the table only, as segwise's
models do; the shorter horizons and the literals are the same SQL with other constants.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

import sqlglot  # noqa: E402  (after the skips: numpy and scipy are the `predict` extra)
from sqlglot import exp  # noqa: E402

from segwise.predict import bgnbd  # noqa: E402
from segwise.predict.scoring import (  # noqa: E402
    MAX_HISTORY,
    SERIES_TERMS,
    Params,
    expected_purchases_sql,
    p_alive_sql,
    series_error_bound,
)
from segwise.sql import literals  # noqa: E402
from segwise.sql.dialects import get_target  # noqa: E402
from tests.support.engines import BigQueryEngine, DuckEngine, Engine, PostgresEngine, SnowflakeEngine  # noqa: E402

Fit = tuple[float, float, float, float]  # r, alpha, a, b
FITS: dict[str, Fit] = {
    "cdnow": (0.243, 4.414, 0.793, 2.426),  # the paper's Table 1
    "a_above_1": (0.7, 12.0, 1.8, 4.3),
    "a_3": (0.9, 15.0, 3.2, 7.5),
    "large_b": (1.3, 8.0, 2.2, 240.0),
    "r_above_a_b": (5.5, 20.0, 0.45, 0.9),  # A = a+b-1-r < 0: the first terms alternate in sign
    "a_b_below_1": (0.35, 6.0, 0.3, 0.55),  # c = a+b-1 < 0 at x == 0
    "series_ends": (5.0, 10.0, 0.5, 1.5),  # A = -4: the 2F1 is a polynomial
}
ALL_HORIZONS = (1.0, 39.0, 52.0)
# The horizons of expected purchases scored per engine, with the parameters from the table and
# as literals.
HORIZONS = {"duckdb": ALL_HORIZONS, "postgres": ALL_HORIZONS, "snowflake": (52.0,), "bigquery": (52.0,)}
LITERAL_HORIZONS = {"duckdb": ALL_HORIZONS, "postgres": ALL_HORIZONS, "snowflake": (), "bigquery": ()}
RELATIVE, ABSOLUTE = 1e-9, 1e-12


def _histories() -> list[tuple[float, float, float]]:
    """(x, t_x, T) in weeks."""
    ages = (0.0, 0.5, 10.0, 38.86, 77.0, 500.0)
    rows = [(0.0, 0.0, age) for age in ages]
    rows += [(x, t_x, age) for x in (1.0, 2.0, 7.0, 20.0, 150.0) for age in ages for t_x in sorted({0.0, age / 3, age})]
    extremes = [(1e6, 1e6, 1e6), (1e6, 10.0, 1e6), (5e4, 2e4, 3e4), (3.0, 1.0, 1e12), (1e15, 1e15, 1e15)]
    return rows + extremes + [(2e15, 1.0, 5.0), (2.0, 1.0, 2e15)]  # the last two: NULL


HISTORIES = _histories()


# --- engines ----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[
    pytest.param("duckdb"),
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("snowflake", marks=pytest.mark.snowflake),
    pytest.param("bigquery", marks=pytest.mark.bigquery),
])  # fmt: skip
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine holding `histories` (x, t_x, age) and `fits` (fit, r, alpha, a, b)."""
    db = _connect(request.param, request)
    try:
        histories = [dict(zip(("x", "t_x", "age"), h, strict=True)) for h in HISTORIES]
        db.create("histories", dict.fromkeys(("x", "t_x", "age"), "double"), histories)
        fits = [{"fit": name, **dict(zip(("r", "alpha", "a", "b"), p, strict=True))} for name, p in FITS.items()]
        db.create("fits", {"fit": "varchar", **dict.fromkeys(("r", "alpha", "a", "b"), "double")}, fits)
        yield db
    finally:
        db.close()


def _connect(kind: str, request: pytest.FixtureRequest) -> Engine:
    if kind == "duckdb":
        return DuckEngine()
    if kind == "postgres":
        db = PostgresEngine(request.getfixturevalue("pg_dsn"))
        db.execute("SET jit = off")  # LLVM compiles expressions this size for minutes (see scoring)
        return db
    if kind == "snowflake":
        return SnowflakeEngine(request.getfixturevalue("fakesnow_port"), "SEGWISE", "BGNBD_SQL")
    return BigQueryEngine(request.getfixturevalue("bigquery_port"), "segwise", "bgnbd_sql")


def _table(db: Engine, name: str, alias: str) -> exp.Expr:
    """`name` AS alias; BigQuery's tables need their dataset (a query has no default one)."""
    qualified = f"{db.schema}.{name}" if isinstance(db, BigQueryEngine) else name
    return exp.alias_(exp.to_table(qualified), alias, table=True)


def _column(name: str, table: str) -> exp.Expr:
    return exp.column(name, table=table)


def _history() -> list[exp.Expr]:
    return [_column("x", "h"), _column("t_x", "h"), _column("age", "h")]


def _scores(db: Engine, params: Params, horizons: tuple[float, ...]) -> list[exp.Expr]:
    """P(alive), then the expected purchases at each horizon."""
    target = get_target(db.dialect)
    scores = [p_alive_sql(target, params, *_history())]
    return scores + [expected_purchases_sql(target, params, t, *_history()) for t in horizons]


# --- the reference --------------------------------------------------------------------------


def _fit(p: Fit) -> bgnbd.Fit:
    return bgnbd.Fit(*p, log_likelihood=0.0, n=1, seconds=0.0)


def _expected(p: Fit, horizons: tuple[float, ...], x: float, t_x: float, age: float) -> list[float | None]:
    """P(alive) and E(t) of the reference: NULL outside the domain, and where z = t/(alpha+T+t)
    < 1e-10 the first order z (r+x) P(alive): the reference's 1 - (1-z)^(a-1) F has lost every
    digit to cancellation there (the SQL takes the first order, exact to double precision)."""
    if x > MAX_HISTORY or age > MAX_HISTORY:
        return [None] * (1 + len(horizons))
    fit = _fit(p)
    alive = float(bgnbd.p_alive(fit, x, t_x, age))
    expected: list[float | None] = [alive]
    for t in horizons:
        z = t / (fit.alpha + age + t)
        expected.append(z * (fit.r + x) * alive if z < 1e-10 else float(bgnbd.expected_purchases(fit, t, x, t_x, age)))
    return expected


def _close(got: float | None, expected: float | None) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    return math.isfinite(got) and abs(got - expected) <= RELATIVE * abs(expected) + ABSOLUTE


# --- tests ------------------------------------------------------------------------------------


def test_scores_equal_the_reference(engine: Engine) -> None:
    """Every history against every fit (parameters from a table), and against the CDNOW fit as
    literals: columns fit, x, t_x, age, then P(alive) and E(t) from the table's fit, then
    P(alive) and E(t) from the literals."""
    target = get_target(engine.dialect)
    horizons, literal_horizons = HORIZONS[engine.dialect], LITERAL_HORIZONS[engine.dialect]
    from_table = Params(*(_column(name, "f") for name in ("r", "alpha", "a", "b")))
    literal = Params(*(literals.number(v) for v in FITS["cdnow"]))
    scores = _scores(engine, from_table, horizons) + _scores(engine, literal, literal_horizons)
    query = exp.select(_column("fit", "f"), *_history(), *scores).from_(_table(engine, "histories", "h"))
    query = query.join(_table(engine, "fits", "f"), join_type="cross")
    rows = engine.query(target.sql(query, pretty=False, copy=False))
    assert len(rows) == len(HISTORIES) * len(FITS)
    labels = [f"{name} {score}" for name, hs in (("", horizons), ("cdnow (literals)", literal_horizons))
              for score in ["p_alive", *(f"E({t:g})" for t in hs)]]  # fmt: skip
    wrong = []
    for name, x, t_x, age, *got in rows:
        expected = _expected(FITS[name], horizons, x, t_x, age)
        expected += _expected(FITS["cdnow"], literal_horizons, x, t_x, age)
        for label, g, e in zip(labels, got, expected, strict=True):
            if not _close(g, e):
                wrong.append(f"{name}{label} at x={x:g} t_x={t_x:g} T={age:g}: {g!r} != {e!r}")
    assert not wrong, f"{len(wrong)} scores differ:\n" + "\n".join(wrong[:20])


def _duck(histories: list[tuple[float, float, float]]) -> DuckEngine:
    """DuckDB holding `histories` (x, t_x, age): a table, as a derived table of constants would
    have the optimizer fold every score once per row."""
    duck = DuckEngine()
    rows = [dict(zip(("x", "t_x", "age"), h, strict=True)) for h in histories]
    duck.create("histories", dict.fromkeys(("x", "t_x", "age"), "double"), rows)
    return duck


def _from_histories() -> exp.Expr:
    return exp.alias_(exp.to_table("histories"), "h", table=True)


def test_literal_parameters_of_every_fit_equal_the_reference() -> None:
    """The parameters as literals (the SQL folds them, and the signs of the terms) at the
    longest horizon, for every fit, on DuckDB."""
    target = get_target("duckdb")
    duck = _duck([h for h in HISTORIES if max(h) <= MAX_HISTORY])
    wrong = []
    for name, p in FITS.items():
        params = Params(*(literals.number(v) for v in p))
        scores = [p_alive_sql(target, params, *_history()), expected_purchases_sql(target, params, 52.0, *_history())]
        for x, t_x, age, *got in duck.query(target.sql(exp.select(*_history(), *scores).from_(_from_histories()))):
            expected = _expected(p, (52.0,), x, t_x, age)
            if not all(map(_close, got, expected)):
                wrong.append(f"{name} at x={x:g} t_x={t_x:g} T={age:g}: {got} != {expected}")
    assert not wrong, "\n".join(wrong[:20])


def test_p_alive_without_repeat_purchases_is_one() -> None:
    target = get_target("duckdb")
    params = Params(*(literals.number(v) for v in FITS["cdnow"]))
    query = exp.select(p_alive_sql(target, params, *_history())).from_(_from_histories())
    assert _duck([(0.0, 0.0, 9.0)]).query(target.sql(query)) == [(1.0,)]


def test_expected_purchases_where_equation_10_is_0_over_0_are_null() -> None:
    """a == 1, and c = a+b+x-1 == 0 (x == 0, a+b == 1): NULL, never NaN or an error, with the
    parameters from a table and as literals."""
    target, duck = get_target("duckdb"), _duck([(0.0, 0.0, 5.0)])
    undefined = [{"r": 0.5, "alpha": 3.0, "a": 1.0, "b": 2.0}, {"r": 0.5, "alpha": 3.0, "a": 0.4, "b": 0.6}]
    duck.create("fits", dict.fromkeys(undefined[0], "double"), undefined)
    from_table = Params(*(_column(name, "f") for name in undefined[0]))
    query = exp.select(expected_purchases_sql(target, from_table, 39.0, *_history())).from_(_from_histories())
    query = query.join(exp.alias_(exp.to_table("fits"), "f", table=True), join_type="cross")
    assert duck.query(target.sql(query)) == [(None,), (None,)]
    for values in undefined:
        literal = Params(*(literals.number(v) for v in values.values()))
        query = exp.select(expected_purchases_sql(target, literal, 39.0, *_history())).from_(_from_histories())
        assert duck.query(target.sql(query)) == [(None,)], values


def test_series_error_bound_bounds_the_error_of_the_sql() -> None:
    """Fits whose series is visibly truncated at the worst customers (T == 0): the difference
    of the SQL from the reference (which sums the series to convergence) is within the bound,
    and the bound within three orders of magnitude of the difference."""
    target = get_target("duckdb")
    xs = [0.0, 1.0, 2.0, 5.0]
    duck = _duck([(x, 0.0, 0.0) for x in xs])
    for r, alpha, a, b, t in [(0.45, 2.0, 1.5, 3.0, 39.0), (0.45, 2.0, 1.5, 3.0, 52.0), (0.9, 3.0, 3.2, 7.5, 52.0)]:
        bound = series_error_bound(r, alpha, a, b, t)
        assert 1e-11 < bound < 1e-2, (r, alpha, a, b, t, bound)
        params = Params(*(literals.number(v) for v in (r, alpha, a, b)))
        query = exp.select(_column("x", "h"), expected_purchases_sql(target, params, t, *_history()))
        fit = _fit((r, alpha, a, b))
        rows = duck.query(target.sql(query.from_(_from_histories()), copy=False))
        errors = [abs(got - float(bgnbd.expected_purchases(fit, t, x, 0.0, 0.0))) for x, got in rows]
        assert len(errors) == len(xs)
        assert max(errors) <= bound, (r, alpha, a, b, t, errors, bound)
        assert max(errors) > bound * 1e-3, (r, alpha, a, b, t, errors, bound)


def test_series_error_bound_of_the_cdnow_fit() -> None:
    cdnow = FITS["cdnow"]
    assert series_error_bound(*cdnow, 39.0) < 1e-12
    assert series_error_bound(*cdnow, 52.0) < 1e-12
    assert series_error_bound(*cdnow, 0.0) == 0.0
    # it falls with the number of terms, and rises with the horizon
    assert series_error_bound(*cdnow, 52.0, terms=100) > series_error_bound(*cdnow, 52.0, terms=200) > 0
    assert series_error_bound(*cdnow, 104.0) > series_error_bound(*cdnow, 52.0)
    assert SERIES_TERMS >= 300


def test_series_error_bound_rejects_what_is_not_a_fit() -> None:
    with pytest.raises(ValueError):
        series_error_bound(0.2, 4.0, -1.0, 2.0, 39.0)
    with pytest.raises(ValueError):
        series_error_bound(0.2, 4.0, 0.8, 2.0, math.inf)
    assert series_error_bound(0.2, 4.0, 1.0, 2.0, 39.0) == 0.0  # a == 1: the SQL is NULL


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery"])
def test_the_sql_generates_and_reparses_within_the_default_recursion_limit(dialect: str) -> None:
    """The nesting stays shallow enough for sqlglot (which the emulators read our SQL with) to
    parse a score in 700 frames, leaving 300 of the default 1,000 to the query around it and the
    caller; GREATEST and LEAST are not rewritten (on DuckDB into a CASE repeating their operands)."""
    target = get_target(dialect)
    params = Params(*(_column(name, "f") for name in ("r", "alpha", "a", "b")))
    sql = target.sql(exp.select(expected_purchases_sql(target, params, 52.0, *_history())), copy=False)
    assert "GREATEST_IGNORE_NULLS" not in sql and "IS NULL" not in sql
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + 700)
    try:
        assert sqlglot.parse_one(sql, read=target.reader) is not None
    finally:
        sys.setrecursionlimit(limit)


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    return depth


def test_the_sql_gives_the_authors_worksheet_values() -> None:
    """The scores of the SQL at the paper's maximum-likelihood fit equal the values the authors
    published with it (their worksheet for the paper): E[X(t)] of a new customer (x = t_x = T = 0)
    at six horizons, and E[Y(39)] of the customer with x = 2, t_x = 30.43, T = 38.86: 1.226."""
    target = get_target("duckdb")
    fit = (0.2425944848387095, 4.413600802634334, 0.7929221241823959, 2.4259071009194755)
    params = Params(*(literals.number(v) for v in fit))
    published = {0.1429: 0.0078, 1.0: 0.0532, 3.0: 0.1506, 31.8571: 1.0405, 32.0: 1.0437, 78.0: 1.8576}
    new = _duck([(0.0, 0.0, 0.0)])
    query = exp.select(*(expected_purchases_sql(target, params, t, *_history()) for t in published))
    (got,) = new.query(target.sql(query.from_(_from_histories())))
    for (t, value), score in zip(published.items(), got, strict=True):
        assert abs(score - value) <= 0.0005 * value + 0.00005, (t, score, value)
    query = exp.select(expected_purchases_sql(target, params, 39.0, *_history())).from_(_from_histories())
    ((conditional,),) = _duck([(2.0, 30.43, 38.86)]).query(target.sql(query))
    assert abs(conditional - 1.226) <= 0.0005, conditional
