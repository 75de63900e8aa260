"""The BG/NBD model of repeat purchasing: Fader, Hardie and Lee, "Counting Your Customers the Easy
Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 2005.

While alive, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after each
purchase they drop out for good with probability p ~ Beta(a, b). A customer's history enters only
through (x, t_x, T): x repeat purchases, the last at t_x, observed for T since the first purchase
(all in one time unit, e.g. weeks). Equation numbers below are the paper's.

    summary = summarize(purchases, calibration_end=datetime(1997, 9, 30), unit_days=7)
    model = fit(summary)
    p_alive(model, x, t_x, T), expected_purchases(model, 39, x, t_x, T)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit, gammaln, hyp2f1

Array = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

# Bounds of the optimiser on log(r), log(alpha / scale), log(a), log(b): an estimate this close
# to a bound means the likelihood has no interior maximum for the data (see `fit`).
_LOG_BOUND = 12.0
_AT_BOUND = _LOG_BOUND - 1.0
# A strict maximum has a negative definite Hessian of the log-likelihood: the Hessian of the
# objective (the mean negative log-likelihood, per customer) must have eigenvalues above this,
# well over the noise of its finite differences (about 1e-9).
_FLAT = 1e-7
# ... and the Newton step from a maximum is this short, in log-parameters (about 1e-5 when the
# optimiser has converged; of the order of 1 on a ridge to the boundary).
_NEWTON_STEP = 1e-3
_ATTEMPTS = 3  # restarts of the optimiser from where it stopped before giving up


@dataclass(frozen=True, eq=False)
class Summary:
    """Per-customer (x, t_x, T) compressed to distinct rows, each with the number of customers
    (`count`) that share it. Times are in the model's unit. The arrays are read-only."""

    x: Array  # repeat purchases (the first purchase is not counted)
    t_x: Array  # time of the last purchase, from the first (0 when x == 0)
    T: Array  # the customer's age at the end of calibration, from the first purchase
    count: Array  # customers with this (x, t_x, T)

    def __post_init__(self) -> None:
        arrays = [np.array(v, dtype=np.float64, ndmin=1) for v in (self.x, self.t_x, self.T, self.count)]
        if any(v.ndim != 1 or v.shape != arrays[0].shape for v in arrays):
            raise ValueError("Summary: x, t_x, T and count must be one-dimensional and of the same length")
        x, t_x, T, count = arrays
        _check_history(x, t_x, T)
        if not (np.all(count > 0) and np.all(count == np.round(count))):
            raise ValueError("Summary: count must be positive whole numbers (customers per row)")
        for name, v in zip(("x", "t_x", "T", "count"), arrays, strict=True):
            v.setflags(write=False)
            object.__setattr__(self, name, v)

    @classmethod
    def from_customers(cls, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Summary:
        """One (x, t_x, T) per customer, compressed to distinct rows."""
        rows = np.column_stack(
            [np.array(v, dtype=np.float64, ndmin=1) for v in np.broadcast_arrays(*map(np.asarray, (x, t_x, T)))]
        )
        distinct, counts = np.unique(rows.reshape(-1, 3), axis=0, return_counts=True)
        return cls(distinct[:, 0], distinct[:, 1], distinct[:, 2], counts.astype(np.float64))

    @property
    def customers(self) -> int:
        return int(self.count.sum())

    @property
    def repeat_buyers(self) -> int:
        return int(self.count[self.x > 0].sum())


def summarize(purchases: Iterable[tuple[Hashable, date]], calibration_end: date, unit_days: float = 7.0) -> Summary:
    """(customer_id, purchase date or datetime) pairs to a `Summary` at `calibration_end` (a date
    or datetime; its time of day is ignored).

    Time is counted in whole calendar days (purchases on the same day are one purchase, as in
    the paper's daily data) and divided by `unit_days` (7: weeks). The calibration period runs
    through the calendar day of `calibration_end`, purchases on it included, and T is the number
    of days from the first purchase's day to that day: the convention of the paper's CDNOW data
    (a customer whose first purchase is on 1997-01-01 has T = 272 days = 38.86 weeks at
    1997-09-30). Customers whose first purchase is after `calibration_end` are left out.
    """
    if not unit_days > 0:
        raise ValueError(f"unit_days must be positive, not {unit_days!r}")
    end = _day(calibration_end)
    days: dict[Hashable, set[int]] = {}
    for customer, when in purchases:
        day = _day(when).toordinal()
        if day <= end.toordinal():
            days.setdefault(customer, set()).add(day)
    rows = np.array(
        [(len(d) - 1, max(d) - min(d), end.toordinal() - min(d)) for d in days.values()], dtype=np.float64
    ).reshape(-1, 3)
    distinct, counts = np.unique(rows, axis=0, return_counts=True)
    return Summary(distinct[:, 0], distinct[:, 1] / unit_days, distinct[:, 2] / unit_days, counts.astype(np.float64))


@dataclass(frozen=True)
class Fit:
    """Maximum-likelihood estimates of the BG/NBD parameters (the paper's section 4)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int  # customers
    seconds: float  # wall time of the fit

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)


def log_likelihood(params: Sequence[float], summary: Summary) -> float:
    """The sample log-likelihood at params = (r, alpha, a, b): the log of equation (6), summed
    over customers. An empty summary has log-likelihood 0 (the empty sum)."""
    r, alpha, a, b = _check_params(params)
    total = float(np.dot(summary.count, _log_likelihoods(r, alpha, a, b, summary.x, summary.t_x, summary.T)))
    if not math.isfinite(total):
        raise ValueError(f"log-likelihood is not finite at r={r}, alpha={alpha}, a={a}, b={b}")
    return total


def fit(summary: Summary) -> Fit:
    """Maximise the log-likelihood (equation 6) over r, alpha, a, b > 0 (L-BFGS-B on their logs).

    Raises ValueError when there are no customers, when no customer made a repeat purchase, and
    when the maximum lies on the boundary of the parameter space (one customer, or data with no
    sign of heterogeneity or of dropout): the BG/NBD has no finite estimate there. The boundary
    shows as an estimate at the optimiser's bounds (a parameter beyond e^11 or below e^-11, alpha
    in units of the mean customer age) or as a stopping point that is not a strict maximum (a
    ridge that keeps rising, however slowly, towards the boundary).
    """
    started = time.perf_counter()
    n = summary.customers
    if n == 0:
        raise ValueError("cannot fit the BG/NBD model: the summary has no customers (is the calibration period empty?)")
    if summary.repeat_buyers == 0:
        raise ValueError(
            f"cannot fit the BG/NBD model: none of the {n} customers made a repeat purchase in the calibration "
            "period, so the likelihood has no maximum (it keeps growing as r -> 0); lengthen the calibration "
            "period or add customers with repeat purchases"
        )
    # Times divided by their mean age, so the optimiser's alpha does not depend on the time unit;
    # the log-likelihood changes by a constant, -sum(x) * log(scale).
    scale = float(np.dot(summary.count, summary.T) / n) or 1.0
    x, t_x, T, count = summary.x, summary.t_x / scale, summary.T / scale, summary.count

    def objective(theta: Array) -> float:
        r, alpha, a, b = np.exp(theta)
        value = -float(np.dot(count, _log_likelihoods(r, alpha, a, b, x, t_x, T))) / n
        return value if math.isfinite(value) else math.inf

    theta = np.zeros(4)
    for _ in range(_ATTEMPTS):
        result = minimize(
            objective,
            theta,
            method="L-BFGS-B",
            bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4,
            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
        )
        theta = np.asarray(result.x, dtype=np.float64)
        if not (np.all(np.isfinite(theta)) and math.isfinite(float(result.fun))):
            raise ValueError(f"the BG/NBD fit did not converge on {n} customers: {result.message}")
        off = [name for name, v in zip(("r", "alpha", "a", "b"), theta, strict=True) if abs(v) >= _AT_BOUND]
        if off:
            raise ValueError(
                f"the BG/NBD likelihood of these {n} customers has no interior maximum: {', '.join(off)} ran off "
                "to 0 or infinity (too few customers, or no variation in purchase rates or no sign of dropout); "
                "fit on more customers or a longer calibration period"
            )
        if _at_maximum(objective, theta):
            break
    else:
        raise ValueError(
            f"the BG/NBD likelihood of these {n} customers has no interior maximum: the optimiser stops on a "
            "ridge that keeps rising towards the boundary of (r, alpha, a, b) (too few customers, or no variation "
            "in purchase rates or no sign of dropout); fit on more customers or a longer calibration period"
        )
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    alpha *= scale
    ll = log_likelihood((r, alpha, a, b), summary)
    return Fit(r, alpha, a, b, ll, n, time.perf_counter() - started)


def _at_maximum(f: Callable[[Array], float], theta: Array) -> bool:
    """Whether theta is a strict local minimum of f (the negative log-likelihood): a positive
    definite Hessian and a Newton step too short to matter, both by central differences. On a
    ridge falling towards the boundary the optimiser stops where f is flat enough, with a Newton
    step of the order of 1."""
    h = 1e-3
    steps = np.eye(len(theta)) * h
    hessian = np.array(
        [
            [(f(theta + i + j) - f(theta + i - j) - f(theta - i + j) + f(theta - i - j)) / (4 * h * h) for j in steps]
            for i in steps
        ]
    )
    gradient = np.array([(f(theta + i / 100) - f(theta - i / 100)) / (2 * h / 100) for i in steps])
    if np.linalg.eigvalsh(hessian).min() <= _FLAT:
        return False
    return bool(np.abs(np.linalg.solve(hessian, gradient)).max() < _NEWTON_STEP)


def p_alive(fit: Fit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
    """P(alive at T | x, t_x, T), equation (13); 1 for customers without repeat purchases."""
    r, alpha, a, b = fit.params
    x_, t_x_, T_ = _history(x, t_x, T)
    return np.asarray(expit(-_log_odds_dead(r, alpha, a, b, x_, t_x_, T_)), dtype=np.float64)


def expected_purchases(fit: Fit, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
    """E[Y(t) | x, t_x, T]: expected purchases in the next t after T, equation (10).

    The Gaussian hypergeometric term is evaluated after Euler's transformation,
    (1 - z)^(r+x) 2F1(r+x, b+x; c; z) = (1 - z)^(a-1) 2F1(a+b-1-r, a-1; c; z) with
    c = a+b+x-1 and z = t / (alpha+T+t), which is the same value without the overflow of the
    untransformed form for large x. Undefined (ValueError) at a == 1 exactly, where (10) is 0/0.
    """
    r, alpha, a, b = fit.params
    x_, t_x_, T_ = _history(x, t_x, T)
    t_ = np.asarray(t, dtype=np.float64)
    if np.any(~np.isfinite(t_) | (t_ < 0)):
        raise ValueError("expected_purchases: t must be finite and non-negative")
    t_, x_, t_x_, T_ = np.broadcast_arrays(t_, x_, t_x_, T_)
    c = a + b + x_ - 1
    z = t_ / (alpha + T_ + t_)
    bracket = 1 - np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = c / (a - 1) * bracket * expit(-_log_odds_dead(r, alpha, a, b, x_, t_x_, T_))
    result = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(result)):
        raise ValueError(
            f"expected_purchases is not finite at r={r}, alpha={alpha}, a={a}, b={b} "
            "(equation 10 is undefined at a == 1 and where a+b+x-1 is zero or a negative integer)"
        )
    return result


def _log_likelihoods(r: float, alpha: float, a: float, b: float, x: Array, t_x: Array, T: Array) -> Array:
    """Equation (6) in logs, one value per row:
    log[B(a,b+x)/B(a,b) G(r+x)/G(r) (alpha/(alpha+T))^r (alpha+T)^-x
        + [x>0] B(a+1,b+x-1)/B(a,b) G(r+x)/G(r) (alpha/(alpha+t_x))^r (alpha+t_x)^-x],
    with B(a+1,b+x-1) = a/(b+x-1) B(a,b+x) and every ratio of gamma or beta functions taken as
    a difference of log rising factorials: no huge logs cancel when r, a or b are large."""
    repeat = x > 0
    common = _log_rising(r, x) + _log_rising(b, x) - _log_rising(a + b, x)
    survived = -r * np.log1p(T / alpha) - x * np.log(alpha + T)
    dropped = np.where(
        repeat,
        math.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - r * np.log1p(t_x / alpha) - x * np.log(alpha + t_x),
        -np.inf,
    )
    return np.asarray(common + np.logaddexp(survived, dropped), dtype=np.float64)


def _log_rising(u: float, x: Array) -> Array:
    """log(G(u+x) / G(u)) for u > 0 and x >= 0: gammaln's difference for moderate u, Stirling's
    series (error below 1e-18 at u >= 1e3) for large u, where gammaln(u) itself is large."""
    if u < 1e3:
        return np.asarray(gammaln(u + x) - gammaln(u), dtype=np.float64)
    v = u + x
    series = (1 / v - 1 / u) / 12 - (1 / v**3 - 1 / u**3) / 360
    return np.asarray((u - 0.5) * np.log1p(x / u) + x * np.log(v) - x + series, dtype=np.float64)


def _log_odds_dead(r: float, alpha: float, a: float, b: float, x: Array, t_x: Array, T: Array) -> Array:
    """log of [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x), the odds of having dropped out
    (equation 13); -inf for x == 0."""
    repeat = x > 0
    odds = math.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))
    return np.asarray(np.where(repeat, odds, -np.inf), dtype=np.float64)


def _history(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[Array, Array, Array]:
    x_, t_x_, T_ = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, t_x, T)))
    _check_history(x_, t_x_, T_)
    return x_, t_x_, T_


def _check_history(x: Array, t_x: Array, T: Array) -> None:
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(T))):
        raise ValueError("x, t_x and T must be finite numbers")
    if not (np.all(x >= 0) and np.all(x == np.round(x))):
        raise ValueError("x (repeat purchases) must be whole numbers >= 0")
    if not (np.all(t_x >= 0) and np.all(t_x <= T)):
        raise ValueError("need 0 <= t_x <= T: the last purchase lies between the first and the end of calibration")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("t_x must be 0 for customers without repeat purchases (x == 0)")


def _check_params(params: Sequence[float]) -> tuple[float, float, float, float]:
    values = tuple(float(v) for v in params)
    if len(values) != 4 or not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"params must be four finite positive numbers (r, alpha, a, b), not {params!r}")
    return values[0], values[1], values[2], values[3]


def _day(when: date) -> date:
    return when.date() if isinstance(when, datetime) else when
