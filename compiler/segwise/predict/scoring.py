"""BG/NBD scores as SQL: P(alive) (equation 13) and expected purchases (equation 10) of Fader,
Hardie and Lee (2005), as sqlglot expressions that give the same value on DuckDB, PostgreSQL,
Snowflake and BigQuery. `segwise.predict.bgnbd` is the Python reference they are tested against.

Inputs are DOUBLE expressions (columns are the caller's to cast; number literals are folded
here, in Python, so no division of two integers can arise): the parameters r, alpha, a, b, and
the history x (repeat purchases), t_x (the last, from the first) and T (the age), in the
model's unit. Histories with x or T above MAX_HISTORY lie outside the domain: NULL.

Expected purchases needs the Gauss hypergeometric 2F1(A, B; c; z) after Euler's transformation
(A = a+b-1-r, B = a-1, c = a+b+x-1, z = t/(alpha+T+t)): the power series 1 + sum_k t_k with
t_k = t_{k-1} w_k, w_k = z (A+k-1)(B+k-1) / ((c+k-1) k), summed to k = SERIES_TERMS. In nested
(Horner) form, 1 + w_1 (1 + w_2 (1 + ...)), that is one level of parentheses per term: sqlglot's
parser (which the emulators run on our SQL) runs out of Python's default recursion limit at
about 45 levels, and DuckDB's max_expression_depth (1000) is not far off either. So the terms
are grouped in leaves, each a Horner sum, chained by their products P_i:

    S = S_1 + P_1 (S_2 + P_2 (... + P_{k-1} S_k)),    P_i = the product of leaf i's w,

leaf i nested i levels deep and i terms shorter than the first, so that every term sits under
the same number of parentheses; two such chains are chained in turn (`_LAYOUT`). That is about
25 levels: sqlglot generates a score within 325 frames and parses it back within 700. A product
of many small w underflows, which PostgreSQL raises as an error, so P_i is taken in logs: EXP
of a sum of LNs, clamped. No intermediate value can underflow or overflow for histories in the
domain, so PostgreSQL raises no range error, and no engine makes a NaN.

Size: a score of expected purchases is some 90 kB of SQL (45,000 nodes) with the parameters
from columns, half that with literals. DuckDB plans it in about 0.7 s and PostgreSQL evaluates
it in about 0.1 ms a row, but PostgreSQL's JIT (on by default past jit_above_cost) compiles an
expression this size for minutes: run these queries with jit = off.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from sqlglot import exp

from segwise.sql import literals
from segwise.sql.dialects import Target

# The series' terms after the first, in two groups of leaves (Horner sums) from the longest,
# nested shallowest, to the shortest: every term sits under _DEPTH levels of parentheses (and
# the few around the series). Below 7 terms a leaf's product (EXP of LNs, 7 levels) would be the
# deepest part, so the leaves stop there.
_DEPTH = 21
_LAYOUT = (tuple(range(_DEPTH, 6, -1)), tuple(range(_DEPTH - 1, 6, -1)))
# Terms of the series after its leading 1: 400. The worst customer (T = 0) has z = t/(alpha+t),
# 0.92 for the paper's CDNOW fit at t = 52 weeks, where the terms fall like z^k k^(a-r-2): 300
# terms leave a truncation error of 3e-13 there, 400 of 5e-17, and below 1e-12 at z = 0.9 for
# any a up to 3. Fits needing more are reported by `series_error_bound`.
SERIES_TERMS = 1 + sum(sum(group) for group in _LAYOUT)
_CHUNK = 8  # factors per LN in a leaf's product: their product can neither overflow nor underflow
MAX_HISTORY = 1e15  # x or T beyond: NULL (counts and ages this large are not histories)
# Below this z the first-order expansion E = z (r+x) P(alive) is exact to double precision
# (its relative error is O(z)), while the series loses digits to 1 - (1-z)^(a-1) F ~ z.
_SMALL_Z = 1e-10
# Products of terms below e^-500 are negligible: clamped there, they cannot underflow. Products
# are not clamped above: a ratio of two terms beyond e^709 within the first 400 means terms still
# far from converging there, a fit `series_error_bound` reports as inexact.
_EXP_FLOOR = -500.0
_EXP_MIN = -700.0  # EXP of less underflows (a PostgreSQL error); 1 + e^-700 rounds to 1
_LOG_ODDS_MAX = 500.0  # P(alive) below 1e-217 is taken as 1e-217: a product with it cannot underflow

Num: TypeAlias = float | exp.Expr  # a number folded in Python, or a DOUBLE expression
Cond: TypeAlias = bool | exp.Expr  # a condition, folded when it holds for all rows or none


@dataclass(frozen=True)
class Params:
    """The fitted parameters: number literals (folded into the SQL) or DOUBLE expressions."""

    r: exp.Expr
    alpha: exp.Expr
    a: exp.Expr
    b: exp.Expr


def p_alive_sql(target: Target, p: Params, x: exp.Expr, t_x: exp.Expr, T: exp.Expr) -> exp.Expr:
    """P(alive at T | x, t_x, T), equation (13): 1 for x == 0, else
    1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)), the odds taken in logs."""
    m, h = _Model.of(p), _History.of(x, t_x, T)
    return _result(target, _case([(_outside(h), None)], _p_alive(m, h), target))


def expected_purchases_sql(target: Target, p: Params, t: float, x: exp.Expr, t_x: exp.Expr, T: exp.Expr) -> exp.Expr:
    """E[Y(t) | x, t_x, T], equation (10), for a horizon of t units (t >= 0):
    (a+b+x-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)] P(alive), z = t/(alpha+T+t),
    the 2F1 summed to SERIES_TERMS terms (the truncation error is `series_error_bound`).

    NULL where equation (10) is 0/0: a == 1, and x == 0 when a+b == 1 (c == 0). Rows with
    z < 1e-10 (t far below T) take the first-order value z (r+x) P(alive), exact there. At
    t == 0, 0 for every history.
    """
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"expected_purchases_sql: the horizon t must be finite and >= 0, not {t!r}")
    if t == 0:
        return target.cast(literals.number(0.0), "double")
    m, h = _Model.of(p), _History.of(x, t_x, T)
    undefined = [_outside(h), _eq(m.a, 1.0), _c_is_zero(m, h)]
    if True in undefined:
        return _null(target)
    z = _div(t, _add(_add(h.T, m.alpha), t))
    arms: list[tuple[Cond, Num | None]] = [(c, None) for c in undefined]
    arms.append((_lt(z, _SMALL_Z), _mul(z, _add(h.x, m.r))))
    return _result(target, _mul(_case(arms, _series_value(m, h, t, z), target), _p_alive(m, h)))


def series_error_bound(r: float, alpha: float, a: float, b: float, t: float, terms: int = SERIES_TERMS) -> float:
    """An upper bound of |E_sql - E| in expected purchases, over every customer, caused by
    summing only `terms` terms of the series in `expected_purchases_sql` at horizon t.

    Derivation. E = c/(a-1) [1 - (1-z)^(a-1) F] P(alive), so the truncation error is
    |c/(a-1)| (1-z)^(a-1) P(alive) |sum_{k>N} t_k| <= |c/(a-1)| sum_{k>N} (1-z)^(a-1) |t_k|.
    The tail sum_{k>N} |t_k| is summed term by term up to some M > N, and the rest bounded
    geometrically: for k >= M, |t_{k+1} / t_k| = z |A+k| |B+k| / ((c+k)(k+1)) <= rho =
    z max(1, |1+A/M|) max(1, |1+B/M|) / min(1, 1+c/M) (as |1+A/k| <= max(1, |1+A/M|) for
    k >= M, and c > -1), so the rest is at most |t_M| rho / (1-rho); M is the first index past
    N where rho <= (1+z)/2.
    The worst customer: t_k = z^k (a product free of z), and (1-z)^(a-1) z^k grows with z up
    to k / (k+a-1), so every term of the tail, weighted, is largest at the largest z,
    t/(alpha+t) (T = 0), if that is at most (N+1)/(N+a) (always when a <= 1); else the weight
    is bounded by 1. Over x, c |t_k| = (the x-free factors) / prod_{j=2..k} (c+j-1) falls as
    c = a+b+x-1 grows (k >= 2, c > 0), and rho does not grow: x = 1 bounds every x >= 1, and
    x = 0 is taken too. P(alive) <= 1. Returns inf when rho never falls below 1, and 0 when
    the series ends (A or B a non-positive integer), when t == 0, and at a == 1 (NULL in SQL).
    """
    for name, value in (("r", r), ("alpha", alpha), ("a", a), ("b", b)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"series_error_bound: {name} must be finite and positive, not {value!r}")
    if not (math.isfinite(t) and t >= 0) or terms < 1:
        raise ValueError(f"series_error_bound: need a finite t >= 0 and terms >= 1, not t={t!r}, terms={terms!r}")
    if t == 0 or a == 1:
        return 0.0
    z = t / (alpha + t)
    weight = math.pow(1 - z, a - 1) if a < 1 or z <= (terms + 1) / (terms + a) else 1.0
    tails = [_tail_bound(a + b - 1 - r, a - 1, c, z, terms) * abs(c / (a - 1)) for c in (a + b - 1, a + b)]
    return max(tails) * weight


def _tail_bound(A: float, B: float, c: float, z: float, terms: int) -> float:
    """sum_{k > terms} |t_k| of 2F1(A, B; c; z), bounded as in `series_error_bound`."""
    if c == 0:
        return 0.0  # x == 0 at a+b == 1: NULL in SQL
    log_term, tail = 0.0, 0.0
    for k in range(1, terms + 10**6):
        factor = abs(A + k - 1) * abs(B + k - 1)
        if factor == 0:
            return tail  # the series ends at t_{k-1}
        log_term += math.log(z * factor / (abs(c + k - 1) * k))
        if k <= terms:
            continue
        tail += math.exp(log_term)
        rho = z * max(1.0, abs(1 + A / k)) * max(1.0, abs(1 + B / k)) / min(1.0, 1 + c / k)
        if rho <= (1 + z) / 2:
            return tail + math.exp(log_term) * rho / (1 - rho)
    return math.inf


# --- the model and the history, as numbers or SQL -------------------------------------------


@dataclass(frozen=True)
class _Model:
    r: Num
    alpha: Num
    a: Num
    b: Num

    @classmethod
    def of(cls, p: Params) -> _Model:
        values = {name: _number(getattr(p, name)) for name in ("r", "alpha", "a", "b")}
        for name, value in values.items():
            if isinstance(value, float) and not (math.isfinite(value) and value > 0):
                raise ValueError(f"the BG/NBD parameter {name} must be finite and positive, not {value!r}")
        return cls(**values)

    def A_at(self, j: int) -> Num:
        """A+j-1 = a+b-r + (j-2), the factor of w_j of either sign."""
        return _add(_sub(_add(self.a, self.b), self.r), j - 2.0)

    def B_at(self, j: int) -> Num:
        """B+j-1 = a + (j-2): positive for j >= 2."""
        return _add(self.a, j - 2.0)

    def c0_at(self, j: int) -> Num:
        """c+j-1 less x = a+b + (j-2): with x, positive for j >= 2 (c > -1)."""
        return _add(_add(self.a, self.b), j - 2.0)


@dataclass(frozen=True)
class _History:
    x: Num
    t_x: Num
    T: Num

    @classmethod
    def of(cls, x: exp.Expr, t_x: exp.Expr, T: exp.Expr) -> _History:
        return cls(_number(x), _number(t_x), _number(T))


def _number(e: exp.Expr) -> Num:
    """A number literal (or its negation) as a float, to fold; any other expression as is."""
    negated = isinstance(e, exp.Neg)
    inner = e.this if negated else e
    if isinstance(inner, exp.Literal) and inner.is_number:
        value = float(inner.this)
        return -value if negated else value
    return e


def _outside(h: _History) -> Cond:
    return _or(_gt(h.x, MAX_HISTORY), _gt(h.T, MAX_HISTORY))


# --- equation 13 ----------------------------------------------------------------------------


def _p_alive(m: _Model, h: _History) -> Num:
    """1 at x == 0, else 1/(1 + e^L), L the log-odds of having dropped out, clamped where
    P(alive) rounds to 1 (or is below 1e-217) so that EXP stays within the doubles.
    b + GREATEST(x, 1) - 1 keeps LN's argument positive in the rows with x == 0 as well."""
    L = _add(
        _sub(_ln(m.a), _ln(_add(_greatest(h.x, 1.0), _sub(m.b, 1.0)))),
        _mul(_add(h.x, m.r), _ln(_div(_add(h.T, m.alpha), _add(h.t_x, m.alpha)))),
    )
    odds = _exp(_least(_greatest(L, _EXP_MIN), _LOG_ODDS_MAX))
    return _if(_eq(h.x, 0.0), 1.0, _div(1.0, _add(1.0, odds)))


# --- equation 10 ----------------------------------------------------------------------------


def _c_is_zero(m: _Model, h: _History) -> Cond:
    """c = a+b+x-1 == 0: only at x == 0 when a+b == 1, as a+b-1 > -1 and x is whole."""
    c0 = m.c0_at(1)
    if isinstance(c0, float):
        return _eq(h.x, 0.0) if c0 == 0 else False
    return _eq(_add(c0, h.x), 0.0)


def _series_value(m: _Model, h: _History, t: float, z: Num) -> Num:
    """c/(a-1) [1 - (1-z)^(a-1) F], F = 1 + w_1 (1 + S(2..N)); P(alive) is multiplied outside.
    w_1 stays out of the leaves: its c and B may be negative. The NULLIFs only matter to an
    engine that evaluates the CASE arms a row does not take."""
    A, B, c = m.A_at(1), m.B_at(1), _add(m.c0_at(1), h.x)
    c_nonzero = c if _c_is_zero(m, h) is False else _nullif_zero(c)
    alpha_T = _add(h.T, m.alpha)
    # (1-z)^(a-1) <= (1 + t/alpha)^1: only underflow (a large) to guard against
    power = _exp(_greatest(_mul(B, _ln(_div(alpha_T, _add(alpha_T, t)))), _EXP_MIN))
    w1 = _div(_mul(_mul(z, A), B), c_nonzero)
    F = _add(1.0, _mul(w1, _add(1.0, _tail_sum(m, h, t))))
    return _mul(_div(c, _nullif_zero(B)), _sub(1.0, _mul(power, F)))


def _tail_sum(m: _Model, h: _History, t: float) -> Num:
    """S(2..SERIES_TERMS): the groups chained by their products, each a chain of leaves."""
    ln_z = (math.log(t), _ln(_add(_add(h.T, m.alpha), t)))  # LN(z) = ln t - LN(T+alpha+t): no LN(0)
    groups: list[tuple[Num, range]] = []
    lo = 2
    for sizes in _LAYOUT:
        leaves = [range(lo + sum(sizes[:i]), lo + sum(sizes[: i + 1])) for i in range(len(sizes))]
        S = _chain(m, h, ln_z, [(_leaf_sum(m, h, t, js), js) for js in leaves])
        groups.append((S, range(lo, lo + sum(sizes))))
        lo += sum(sizes)
    return _chain(m, h, ln_z, groups)


def _chain(m: _Model, h: _History, ln_z: tuple[float, Num], parts: list[tuple[Num, range]]) -> Num:
    """S_1 + P_1 (S_2 + P_2 (... + P_{k-1} S_k)): parts (S_i, the terms i sums), P_i the
    product of their w."""
    S = parts[-1][0]
    for S_i, js in reversed(parts[:-1]):
        S = _add(S_i, _mul(_product_of_w(m, h, ln_z, js), S))
    return S


def _w(m: _Model, h: _History, t: float, j: int) -> Num:
    """w_j = z (A+j-1)(B+j-1) / ((c+j-1) j) = (t/j) (A+j-1)(B+j-1) / ((T+alpha+t)(c+j-1)), j >= 2:
    one division (each costs the emulators a rewrite), and t/j folded."""
    numerator = _mul(_mul(t / j, m.A_at(j)), m.B_at(j))
    return _div(numerator, _mul(_add(_add(h.T, m.alpha), t), _add(m.c0_at(j), h.x)))


def _leaf_sum(m: _Model, h: _History, t: float, js: range) -> Num:
    """w_lo (1 + w_lo+1 (1 + ... (1 + w_hi)))."""
    S = _w(m, h, t, js[-1])
    for j in reversed(js[:-1]):
        S = _mul(_w(m, h, t, j), _add(1.0, S))
    return S


def _product_of_w(m: _Model, h: _History, ln_z: tuple[float, Num], js: range) -> Num:
    """prod w_j = sign EXP(n LN(z) + LN|prod q_j|), q_j = w_j / z, clamped at e^-500, where the
    rest of the series is negligible. Of the factors of q_j only A+j-1 can be negative, for
    j < 1-A: the sign is (-1)^(their number among js), a whole number."""
    n = float(len(js))
    one_less_A = _sub(_sub(_add(m.r, 2.0), m.a), m.b)
    negatives = _least(_greatest(_sub(_ceil(one_less_A), float(js[0])), 0.0), n)
    if any(isinstance(A, float) and A == 0 for A in (m.A_at(j) for j in js)):
        return 0.0  # A+j-1 == 0: the series ends here
    logs: list[Num] = []
    for i in range(0, len(js), _CHUNK):
        logs += _log_abs_q(m, h, js[i : i + _CHUNK])
    logs += [_neg(_mul(ln_z[1], n)), n * ln_z[0] - sum(math.log(j) for j in js)]
    return _mul(_parity_sign(negatives), _exp(_greatest(_sum(logs), _EXP_FLOOR)))


def _log_abs_q(m: _Model, h: _History, js: range) -> list[Num]:
    """log |prod (A+j-1)(B+j-1) / prod (c+j-1)| over a chunk of j: neither product can overflow,
    nor underflow, over a few j."""
    numerators = [_mul(m.A_at(j), m.B_at(j)) for j in js]
    known = [k for k in numerators if isinstance(k, float)]
    if len(known) == len(numerators):  # literal parameters: only c+j-1 is SQL
        logs = sum(math.log(abs(k)) for k in known)
        return [logs, _neg(_ln(_product([_add(m.c0_at(j), h.x) for j in js])))]
    q = _div(_product(numerators), _product([_add(m.c0_at(j), h.x) for j in js]))
    # + 1e-300 rounds away (|q| > 1e-200 for parameters above 1e-5 and histories in the domain)
    # but where A+j-1 == 0, ending the series: no LN(0)
    return [_ln(_add(_abs(q), 1e-300))]


# --- arithmetic on Num: folded when every operand is a number -----------------------------
#
# An expression is attached where it is first used and copied for every later use (sqlglot
# nodes have one parent). Parentheses are added only where precedence or the order of
# evaluation needs them: each level costs sqlglot's parser and generator some recursion.

_PRECEDENCE: dict[type[exp.Expr], int] = {exp.Add: 1, exp.Sub: 1, exp.Mul: 2, exp.Div: 2}


def _expr(v: Num) -> exp.Expr:
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"a BG/NBD score folded to {v!r}: check the parameters")
        return literals.number(v)
    return v if v.parent is None else v.copy()


def _operand(v: Num, kind: type[exp.Expr], right: bool) -> exp.Expr:
    e = _expr(v)
    own = _PRECEDENCE.get(type(e), 3)
    if own < _PRECEDENCE[kind] or (right and (own == _PRECEDENCE[kind] or isinstance(e, exp.Neg))):
        return exp.Paren(this=e)
    return e


def _binary(kind: type[exp.Expr], u: Num, v: Num) -> exp.Expr:
    node = kind(this=_operand(u, kind, False), expression=_operand(v, kind, True))
    if isinstance(node, exp.Div):
        node.set("typed", True)  # DOUBLE operands: sqlglot need not cast for PostgreSQL's int division
    return node


def _add(u: Num, v: Num) -> Num:
    if isinstance(u, float) and isinstance(v, float):
        return u + v
    if isinstance(v, float) and v <= 0:
        return u if v == 0 else _binary(exp.Sub, u, -v)
    if isinstance(u, float) and u == 0:
        return v
    if isinstance(v, exp.Neg):
        return _binary(exp.Sub, u, v.this)
    return _binary(exp.Add, u, v)


def _sub(u: Num, v: Num) -> Num:
    if isinstance(u, float) and isinstance(v, float):
        return u - v
    if isinstance(v, float) and v <= 0:
        return u if v == 0 else _binary(exp.Add, u, -v)
    return _binary(exp.Sub, u, v)


def _mul(u: Num, v: Num) -> Num:
    if isinstance(u, float) and isinstance(v, float):
        return u * v
    if isinstance(u, float):
        u, v = v, u
    if isinstance(v, float) and v in (0.0, 1.0, -1.0):
        return 0.0 if v == 0 else u if v == 1 else _neg(u)
    return _binary(exp.Mul, u, v)


def _div(u: Num, v: Num) -> Num:
    if isinstance(u, float) and isinstance(v, float):
        return u / v
    if isinstance(v, float) and v == 1:
        return u
    return _binary(exp.Div, u, v)


def _neg(u: Num) -> Num:
    if isinstance(u, float):
        return -u
    e = _expr(u)
    return exp.Neg(this=exp.Paren(this=e) if isinstance(e, exp.Binary) else e)


def _sum(terms: list[Num]) -> Num:
    """The expressions left to right, then the numbers' sum."""
    total: Num | None = None
    for v in terms:
        if not isinstance(v, float):
            total = v if total is None else _add(total, v)
    return _add(0.0 if total is None else total, sum(v for v in terms if isinstance(v, float)))


def _product(factors: list[Num]) -> Num:
    total: Num = 1.0
    for f in factors:
        total = _mul(total, f)
    return total


def _function(kind: type[exp.Func], u: Num, fold: Callable[[float], float]) -> Num:
    return fold(u) if isinstance(u, float) else kind(this=_expr(u))


def _ln(u: Num) -> Num:
    return _function(exp.Ln, u, math.log)


def _exp(u: Num) -> Num:
    return _function(exp.Exp, u, math.exp)


def _abs(u: Num) -> Num:
    return _function(exp.Abs, u, abs)


def _ceil(u: Num) -> Num:
    return _function(exp.Ceil, u, lambda v: float(math.ceil(v)))


def _parity_sign(k: Num) -> Num:
    """(-1)^k of a whole number k, as 1 - 2 (k - 2 FLOOR(k/2)): exact, and no POWER of a
    negative base (an error for a fractional exponent)."""
    if isinstance(k, float):
        return -1.0 if k % 2 else 1.0
    half = _function(exp.Floor, _mul(k, 0.5), math.floor)
    return _sub(1.0, _mul(_sub(k, _mul(half, 2.0)), 2.0))


def _greatest(u: Num, bound: float) -> Num:
    # GREATEST/LEAST by name: sqlglot's own nodes expand into a CASE repeating the operand on
    # DuckDB (for BigQuery's NULL semantics), or become GREATEST_IGNORE_NULLS on Snowflake. The
    # emulators still expand them so (they read our SQL with sqlglot): nest as few as possible.
    if isinstance(u, float):
        return max(u, bound)
    return exp.Anonymous(this="GREATEST", expressions=[_expr(u), _expr(bound)])


def _least(u: Num, bound: float) -> Num:
    if isinstance(u, float):
        return min(u, bound)
    return exp.Anonymous(this="LEAST", expressions=[_expr(u), _expr(bound)])


def _nullif_zero(u: Num) -> Num:
    if isinstance(u, float):
        return u if u != 0 else exp.Null()
    return exp.Nullif(this=_expr(u), expression=exp.Literal.number(0))


# --- conditions, folded to True or False when they hold for every row or for none ------------


def _compare(kind: type[exp.Expr], u: Num, v: float, fold: Callable[[float, float], bool]) -> Cond:
    return fold(u, v) if isinstance(u, float) else kind(this=_expr(u), expression=_expr(v))


def _eq(u: Num, v: float) -> Cond:
    return _compare(exp.EQ, u, v, operator.eq)


def _gt(u: Num, v: float) -> Cond:
    return _compare(exp.GT, u, v, operator.gt)


def _lt(u: Num, v: float) -> Cond:
    return _compare(exp.LT, u, v, operator.lt)


def _or(p: Cond, q: Cond) -> Cond:
    if isinstance(p, bool):
        return True if p else q
    if isinstance(q, bool):
        return True if q else p
    return exp.Or(this=p, expression=q)


def _if(cond: Cond, then: Num, otherwise: Num) -> Num:
    if isinstance(cond, bool):
        return then if cond else otherwise
    return exp.Case(ifs=[exp.If(this=cond, true=_expr(then))], default=_expr(otherwise))


def _case(arms: list[tuple[Cond, Num | None]], otherwise: Num, target: Target) -> Num:
    """CASE over the arms whose condition is not known false; None is a typed NULL."""
    ifs: list[exp.If] = []
    for cond, value in arms:
        if cond is False:
            continue
        then = _null(target) if value is None else value
        if cond is True:
            otherwise = then
            break
        ifs.append(exp.If(this=cond, true=_expr(then)))
    return exp.Case(ifs=ifs, default=_expr(otherwise)) if ifs else otherwise


def _result(target: Target, v: Num) -> exp.Expr:
    """The score; DOUBLE even when folded to a number (a literal would be DECIMAL or NUMERIC)."""
    return target.cast(_expr(v), "double") if isinstance(v, float) else v


def _null(target: Target) -> exp.Expr:
    return target.cast(exp.Null(), "double")
