"""The BG/NBD model (segwise.predict.bgnbd) against Fader, Hardie and Lee, "Counting Your Customers
the Easy Way: An Alternative to the Pareto/NBD Model" (Marketing Science 24(2), 2005).

The data is the CDNOW sample the paper uses (2,357 customers who first bought in the first quarter
of 1997, purchases through June 1998), read from the lifetimes wheel by path. Calibration: the first
39 weeks, 1997-01-01 .. 1997-09-30; holdout: weeks 40-78, 1997-10-01 .. 1998-06-30.

The module is checked three ways: the paper's published estimates and log-likelihood; a plain-Python
implementation of equations (6), (10) and (13) here (math.lgamma and a power series for 2F1, no
numpy or scipy) for every customer; and the forecast of the holdout against what was bought.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

import pytest

pytest.importorskip("scipy")
np = pytest.importorskip("numpy")

from segwise.predict import bgnbd  # noqa: E402  (after the skips: scipy is the optional `predict` extra)
from tests.support.cdnow import WEEK, History, cdnow_histories, cdnow_purchases, datasets  # noqa: E402

CALIBRATION_END = datetime(1997, 9, 30)
HOLDOUT_START, HOLDOUT_END = date(1997, 10, 1), date(1998, 6, 30)
HOLDOUT_WEEKS = 39  # 273 days

# Table 1 of the paper (BG/NBD column) and its log-likelihood.
PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_LL = -9582.4
CUSTOMERS = 2357

Params = tuple[float, float, float, float]


@pytest.fixture(scope="module")
def purchases() -> list[tuple[str, datetime]]:
    return cdnow_purchases()


@pytest.fixture(scope="module")
def histories(purchases: list[tuple[str, datetime]]) -> dict[str, History]:
    """Each customer's (x, t_x, T) in weeks at 1997-09-30 (see `summary` for T)."""
    return cdnow_histories(purchases, CALIBRATION_END.date())


@pytest.fixture(scope="module")
def summary(purchases: list[tuple[str, datetime]]) -> bgnbd.Summary:
    # The convention for T that reproduces the paper: the age at 1997-09-30 itself (272 days, 38.86
    # weeks, for a customer who first bought on 1997-01-01), as in the authors' own summary of this
    # data; T to the end of that day (273 days) gives -9589.9, not -9582.4 (see the test below).
    return bgnbd.summarize(purchases, CALIBRATION_END, unit_days=WEEK)


@pytest.fixture(scope="module")
def model(summary: bgnbd.Summary) -> bgnbd.Fit:
    return bgnbd.fit(summary)


# ---------------------------------------------------------------------------------------------
# The reference: equations (6), (10) and (13) in plain Python.


def ref_log_likelihood(params: Params, x: int, t_x: float, T: float) -> float:
    """Equation (6), term by term, in logs."""
    r, alpha, a, b = params

    def lbeta(p: float, q: float) -> float:
        return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)

    nbd = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
    first = lbeta(a, b + x) - lbeta(a, b) + nbd - (r + x) * math.log(alpha + T)
    if x == 0:
        return first
    second = lbeta(a + 1, b + x - 1) - lbeta(a, b) + nbd - (r + x) * math.log(alpha + t_x)
    top = max(first, second)
    return top + math.log(math.exp(first - top) + math.exp(second - top))


def ref_p_alive(params: Params, x: int, t_x: float, T: float) -> float:
    """Equation (13)."""
    r, alpha, a, b = params
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def hyp2f1_series(a: float, b: float, c: float, z: float) -> float:
    """The Gaussian hypergeometric function by its power series (|z| < 1)."""
    term = total = 1.0
    for n in range(100_000):
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total += term
        if abs(term) <= 1e-17 * abs(total):
            return total
    raise AssertionError(f"2F1({a}, {b}; {c}; {z}) did not converge")


def ref_expected(params: Params, t: float, x: int, t_x: float, T: float) -> float:
    """Equation (10), as printed (no transformation of 2F1)."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    hyp = hyp2f1_series(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    dead_odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    return numerator / (1 + dead_odds)


def _close(got: float, want: float, tol: float = 1e-9) -> bool:
    """Agreement to tol: relative for values above 1, absolute below."""
    return math.isfinite(got) and abs(got - want) <= tol * max(1.0, abs(want))


def _mismatches(
    histories: dict[str, History], got: Sequence[float], want: Callable[[History], float]
) -> list[tuple[str, float, float]]:
    assert len(got) == len(histories)
    return [(c, g, want(h)) for (c, h), g in zip(histories.items(), got, strict=True) if not _close(g, want(h))]


def _columns(histories: dict[str, History]) -> tuple[list[int], list[float], list[float]]:
    x, t_x, T = zip(*histories.values(), strict=True)
    return list(x), list(t_x), list(T)


# ---------------------------------------------------------------------------------------------
# The data and its summary.


def test_sample_is_the_papers_cohort(purchases: list[tuple[str, datetime]], histories: dict[str, History]) -> None:
    assert len(purchases) == 6919
    assert len(histories) == CUSTOMERS
    assert min(w for _, w in purchases) == datetime(1997, 1, 1)
    assert max(w for _, w in purchases) == datetime(1998, 6, 30)
    first: dict[str, datetime] = {}
    for customer, when in purchases:
        first[customer] = min(when, first.get(customer, when))
    assert max(first.values()) <= datetime(1997, 3, 31)  # first purchases in the first quarter


def test_summary_matches_plain_python(summary: bgnbd.Summary, histories: dict[str, History]) -> None:
    assert summary.customers == CUSTOMERS
    expected = bgnbd.Summary.from_customers(*_columns(histories))
    for name in ("x", "t_x", "T", "count"):
        assert np.array_equal(getattr(summary, name), getattr(expected, name)), name
    # The convention for T: customer 1 bought on 1997-01-01, 01-18 and 08-02 (and 12-12, after).
    assert histories["0001"] == (2, 213 / 7, 272 / 7)
    assert summary.repeat_buyers == sum(1 for x, _, _ in histories.values() if x > 0) == 946


def test_summary_matches_the_authors_summary(histories: dict[str, History]) -> None:
    """x, t_x and T (weeks, to two decimals) as in the authors' own summary of this sample."""
    lines = (datasets() / "cdnow_customers_summary_with_transactions.csv").read_text().splitlines()
    assert lines[0].split(",")[:4] == ["ID", "x", "t_x", "T"]
    assert len(lines) - 1 == CUSTOMERS
    for line in lines[1:]:
        customer, x, t_x, T = line.split(",")[:4]
        mine = histories[f"{int(customer):04d}"]
        assert mine[0] == int(x), customer
        assert abs(mine[1] - float(t_x)) <= 0.0051 and abs(mine[2] - float(T)) <= 0.0051, customer


def test_summarize_merges_same_day_purchases_and_drops_later_customers() -> None:
    day = datetime(2024, 3, 1, 9)
    summary = bgnbd.summarize(
        [
            ("a", day),
            ("a", day + timedelta(hours=5)),  # the same calendar day: one purchase
            ("a", day + timedelta(days=7)),
            ("a", datetime(2024, 3, 15, 23, 59)),  # on the calibration end's day: counted
            ("a", datetime(2024, 3, 16)),  # after: not counted
            ("b", datetime(2024, 3, 15)),  # first purchase on the last day: T = 0
            ("c", datetime(2024, 3, 16)),  # first purchase after the end: left out
        ],
        datetime(2024, 3, 15),
        unit_days=7,
    )
    assert summary.customers == 2
    rows = sorted(zip(summary.x, summary.t_x, summary.T, summary.count, strict=True))
    assert rows == [(0.0, 0.0, 0.0, 1.0), (2.0, 2.0, 2.0, 1.0)]


# ---------------------------------------------------------------------------------------------
# The paper's estimates.


def test_fit_reproduces_the_paper(model: bgnbd.Fit) -> None:
    assert model.n == CUSTOMERS
    for name, published in PAPER.items():
        value = getattr(model, name)
        assert abs(value - published) <= 0.005 * published, f"{name} = {value}, the paper has {published}"
    assert abs(model.log_likelihood - PAPER_LL) <= 0.1, model.log_likelihood
    assert 0 < model.seconds < 10


def test_t_to_the_end_of_the_last_day_does_not_reproduce_the_paper(purchases: list[tuple[str, datetime]]) -> None:
    """The other reading of "through 1997-09-30": T to midnight after it, one day more for everyone."""
    calibration = [(c, w) for c, w in purchases if w.date() <= CALIBRATION_END.date()]
    other = bgnbd.fit(bgnbd.summarize(calibration, datetime(1997, 10, 1), unit_days=WEEK))
    assert other.n == CUSTOMERS
    assert abs(other.log_likelihood - PAPER_LL) > 5  # -9589.9


def test_log_likelihood_matches_reference_for_every_customer(model: bgnbd.Fit, histories: dict[str, History]) -> None:
    for params in (model.params, tuple(PAPER.values())):
        got = [
            bgnbd.log_likelihood(params, bgnbd.Summary.from_customers([x], [t_x], [T]))
            for x, t_x, T in histories.values()
        ]
        assert _mismatches(histories, got, lambda h, p=params: ref_log_likelihood(p, *h)) == []
        total = math.fsum(ref_log_likelihood(params, *h) for h in histories.values())
        assert _close(bgnbd.log_likelihood(params, bgnbd.Summary.from_customers(*_columns(histories))), total)
    assert _close(model.log_likelihood, math.fsum(ref_log_likelihood(model.params, *h) for h in histories.values()))


def test_p_alive_matches_reference_for_every_customer(model: bgnbd.Fit, histories: dict[str, History]) -> None:
    got = bgnbd.p_alive(model, *_columns(histories))
    assert _mismatches(histories, got.tolist(), lambda h: ref_p_alive(model.params, *h)) == []
    assert np.all((got > 0) & (got <= 1))


def test_expected_purchases_match_reference_for_every_customer(model: bgnbd.Fit, histories: dict[str, History]) -> None:
    for t in (1.0, HOLDOUT_WEEKS, 52.0):
        got = bgnbd.expected_purchases(model, t, *_columns(histories))
        assert _mismatches(histories, got.tolist(), lambda h, t=t: ref_expected(model.params, t, *h)) == []


# ---------------------------------------------------------------------------------------------
# The holdout: weeks 40-78.


def _holdout_purchases(purchases: list[tuple[str, datetime]], histories: dict[str, History]) -> int:
    """Purchase days of the calibration customers in 1997-10-01 .. 1998-06-30 (all are repeats)."""
    days = {(c, w.date()) for c, w in purchases if c in histories and HOLDOUT_START <= w.date() <= HOLDOUT_END}
    return len(days)


# The authors' worksheet for the paper (Fader, Hardie and Lee, "Implementing the BG/NBD Model for
# Customer Base Analysis in Excel", 2005): equation (9), E[X(t)] for a new customer, at these
# weeks; and equation (10) for the customer with x = 2, t_x = 30.43, T = 38.86 over 39 weeks.
WORKSHEET_EXPECTED = {0.1429: 0.0078, 1.0: 0.0532, 3.0: 0.1506, 31.8571: 1.0405, 32.0: 1.0437, 78.0: 1.8576}
WORKSHEET_CONDITIONAL = ((2, 30.43, 38.86, 39.0), 1.226)


def test_forecasts_equal_the_authors_worksheet(model: bgnbd.Fit) -> None:
    """The paper's aggregate forecast (its figure of cumulative repeat transactions) is the sum,
    over the cohort's first-purchase days, of E[X(t)] at each customer's age: the published E[X(t)]
    are matched to their printed digits (0.02% at 78 weeks, where the estimates' own last digits
    show), so the forecast is the paper's. Both through the module and the reference."""
    for t, published in WORKSHEET_EXPECTED.items():
        module, reference = bgnbd.expected_purchases(model, t, 0, 0.0, 0.0), ref_expected(model.params, t, 0, 0.0, 0.0)
        for value in (float(module), reference):
            assert abs(value - published) <= 0.0005 * published + 0.00005, (t, value, published)
    (x, t_x, T, t), published = WORKSHEET_CONDITIONAL
    assert abs(float(bgnbd.expected_purchases(model, t, x, t_x, T)) - published) <= 0.0005
    assert abs(ref_expected(model.params, t, x, t_x, T) - published) <= 0.0005


def test_cumulative_tracking_forecast(model: bgnbd.Fit, purchases: list[tuple[str, datetime]]) -> None:
    """The paper's figure: cumulative repeat purchases of the cohort, week by week, each customer's
    E[X(t)] from their first purchase. Weeks 1-39: 2,501.5 forecast against 2,457 bought (+1.8%);
    at week 78: 4,165.7 against 4,339 (-4.0%); so weeks 40-78: 1,664.1 against 1,882 (-11.6%):
    the model under-forecasts this holdout. Pinned, so a change is noticed."""
    first: dict[str, date] = {}
    days: set[tuple[str, date]] = set()
    for customer, when in purchases:
        first[customer] = min(first.get(customer, when.date()), when.date())
        days.add((customer, when.date()))
    start = date(1997, 1, 1)

    def forecast(week: int) -> float:
        ages = np.array([max(0, week * WEEK - (f - start).days) / WEEK for f in first.values()])
        return float(np.sum(bgnbd.expected_purchases(model, ages, 0, 0.0, 0.0)))

    def actual(week: int) -> int:
        end = start + timedelta(days=week * WEEK)
        return sum(1 for c, d in days if first[c] < d < end)

    assert len(first) == CUSTOMERS
    calibration, total = (forecast(39), actual(39)), (forecast(78), actual(78))
    assert calibration[1] == 2457 and total[1] == 4339
    assert abs(calibration[0] - calibration[1]) <= 0.02 * calibration[1], calibration
    assert abs(calibration[0] - 2501.5) <= 0.5, calibration
    assert abs(total[0] - 4165.7) <= 0.5, total
    assert abs((total[0] - calibration[0]) - 1664.1) <= 0.5, total[0] - calibration[0]


def test_holdout_forecast(
    model: bgnbd.Fit, summary: bgnbd.Summary, histories: dict[str, History], purchases: list[tuple[str, datetime]]
) -> None:
    """The forecast of the holdout's repeat purchases, sum over customers of equation (10) with
    t = 39 weeks: 1653.4, against 1882 bought (12.1% fewer: the model under-forecasts this
    holdout, so a 2% bound does not hold). Both figures are pinned here."""
    assert (HOLDOUT_END - HOLDOUT_START).days + 1 == HOLDOUT_WEEKS * WEEK
    actual = _holdout_purchases(purchases, histories)
    forecast = float(
        np.dot(summary.count, bgnbd.expected_purchases(model, HOLDOUT_WEEKS, summary.x, summary.t_x, summary.T))
    )
    reference = math.fsum(ref_expected(model.params, HOLDOUT_WEEKS, *h) for h in histories.values())
    assert _close(forecast, reference)
    assert actual == 1882
    assert abs(forecast - 1653.4) <= 0.5, forecast


# ---------------------------------------------------------------------------------------------
# Degenerate input: a ValueError that says what is wrong, or a defined finite value.


def test_no_customers() -> None:
    empty = bgnbd.summarize([], CALIBRATION_END)
    assert empty.customers == 0
    # Purchases only after the calibration end: nobody is a customer yet.
    assert bgnbd.summarize([("a", datetime(1997, 10, 1))], CALIBRATION_END).customers == 0
    with pytest.raises(ValueError, match="no customers"):
        bgnbd.fit(empty)
    # Defined: the log-likelihood of no data is the empty sum.
    assert bgnbd.log_likelihood(tuple(PAPER.values()), empty) == 0.0


def test_only_one_time_buyers() -> None:
    one_time = bgnbd.Summary.from_customers([0, 0, 0], [0, 0, 0], [10, 20, 39])
    with pytest.raises(ValueError, match="none of the 3 customers made a repeat purchase"):
        bgnbd.fit(one_time)
    with pytest.raises(ValueError, match="repeat purchase"):
        bgnbd.fit(bgnbd.Summary.from_customers([0], [0], [39]))
    # Their log-likelihood at given parameters is defined and finite: r log(alpha / (alpha + T)).
    r, alpha = PAPER["r"], PAPER["alpha"]
    want = sum(r * math.log(alpha / (alpha + T)) for T in (10, 20, 39))
    assert _close(bgnbd.log_likelihood(tuple(PAPER.values()), one_time), want)


@pytest.mark.parametrize(
    "x, t_x, T",
    [
        ([2], [30.43], [38.86]),  # a single customer
        ([2, 1], [30.0, 5.0], [38.0, 38.0]),
        ([1] * 50, [10.0] * 50, [20.0] * 50),  # fifty identical customers
    ],
)
def test_too_little_data_has_no_interior_maximum(x: list[int], t_x: list[float], T: list[float]) -> None:
    with pytest.raises(ValueError, match="no interior maximum"):
        bgnbd.fit(bgnbd.Summary.from_customers(x, t_x, T))


def test_invalid_input() -> None:
    params = tuple(PAPER.values())
    for bad in [(0.0, 1.0, 1.0, 1.0), (1.0, -1.0, 1.0, 1.0), (1.0, 1.0, math.nan, 1.0), (1.0, 1.0, 1.0)]:
        with pytest.raises(ValueError, match="four finite positive numbers"):
            bgnbd.log_likelihood(bad, bgnbd.Summary.from_customers([1], [1], [2]))
    with pytest.raises(ValueError, match="0 <= t_x <= T"):
        bgnbd.Summary.from_customers([1], [3], [2])
    with pytest.raises(ValueError, match="whole numbers"):
        bgnbd.Summary.from_customers([1.5], [1], [2])
    with pytest.raises(ValueError, match="t_x must be 0"):
        bgnbd.Summary.from_customers([0], [1], [2])
    model = bgnbd.Fit(*params, log_likelihood=PAPER_LL, n=CUSTOMERS, seconds=0.0)
    with pytest.raises(ValueError, match="0 <= t_x <= T"):
        bgnbd.p_alive(model, [1], [-1], [2])
    with pytest.raises(ValueError, match="non-negative"):
        bgnbd.expected_purchases(model, -1, [1], [1], [2])
    with pytest.raises(ValueError, match="unit_days"):
        bgnbd.summarize([], CALIBRATION_END, unit_days=0)


def test_defined_edge_values() -> None:
    model = bgnbd.Fit(*PAPER.values(), log_likelihood=PAPER_LL, n=CUSTOMERS, seconds=0.0)
    assert bgnbd.p_alive(model, [0, 0], [0, 0], [5, 39]).tolist() == [1.0, 1.0]
    assert bgnbd.expected_purchases(model, 0, [0, 3], [0, 20], [39, 39]).tolist() == [0.0, 0.0]
    # Equation (10) is 0/0 at a == 1: an error, never NaN.
    with pytest.raises(ValueError, match="a == 1"):
        bgnbd.expected_purchases(bgnbd.Fit(0.243, 4.414, 1.0, 2.426, PAPER_LL, CUSTOMERS, 0.0), 39, [2], [30], [38])


def test_log_likelihood_stays_accurate_for_huge_beta_parameters() -> None:
    """a, b -> infinity with a/(a+b) = p fixed is the model with the same dropout probability p for
    everyone: the log-likelihood tends to that model's, with no cancellation of huge logs."""
    r, alpha, p = 0.25, 4.0, 0.25
    x, t_x, T = [0, 1, 2, 7], [0.0, 3.0, 30.0, 35.0], [39.0, 39.0, 38.0, 37.0]

    def limit(x: int, t_x: float, T: float) -> float:
        nbd = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
        alive = (1 - p) ** x / (alpha + T) ** (r + x)
        dead = p * (1 - p) ** (x - 1) / (alpha + t_x) ** (r + x) if x > 0 else 0.0
        return nbd + math.log(alive + dead)

    want = math.fsum(limit(*h) for h in zip(x, t_x, T, strict=True))
    got = bgnbd.log_likelihood((r, alpha, 1e15, 3e15), bgnbd.Summary.from_customers(x, t_x, T))
    assert _close(got, want)
