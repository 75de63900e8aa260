"""Sequences ("A, then B within 10m, then no C within 5m") with window functions.

Per user, events of any step are first collapsed to one row per distinct timestamp, holding a
0/1 flag per (sequence, step). Then, step by step, a row is a valid chain end for step i when
it matches step i and the latest valid step-(i-1) row *strictly before it* lies within the
step's `within`. The latest predecessor is the best one, so one running MAX per step decides
existence exactly. Rows are distinct timestamps, so `ROWS ... 1 PRECEDING` means strictly
earlier, which is what makes ties behave (a step's event is strictly later than the previous one's;
docs/language.md, 'Sequences').

An absent last step holds at a valid step-(k-1) row when the wait is over (ts + w <= T) and
the next matching event strictly after it is missing or later than ts + w.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from segwise.rules.nodes import SequenceCondition
from segwise.sql import literals
from segwise.sql.aggregates import filter_sql
from segwise.sql.dialects import Target
from segwise.sql.plan import sequence_column
from segwise.sql.staging import USER_KEY, col, table, user_id_of_key


def _flag(test: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=test, true=exp.Literal.number(1))], default=exp.Literal.number(0))


def _is_one(name: str) -> exp.Expr:
    return exp.EQ(this=col(name), expression=exp.Literal.number(1))


def _running(
    target: Target, fn: type[exp.Func], value: exp.Expr, start: tuple[Any, str], end: tuple[Any, str]
) -> exp.Window:
    return exp.Window(
        this=fn(this=value),
        partition_by=[col(USER_KEY)],
        order=exp.Order(expressions=[target.ordered(col("ts"))]),
        spec=exp.WindowSpec(kind="ROWS", start=start[0], start_side=start[1], end=end[0], end_side=end[1]),
    )


def _prev_max(target: Target, valid: str) -> exp.Window:
    """Latest ts of a valid row strictly before this one."""
    return _running(
        target,
        exp.Max,
        exp.Case(ifs=[exp.If(this=_is_one(valid), true=col("ts"))]),
        ("UNBOUNDED", "PRECEDING"),
        (exp.Literal.number(1), "PRECEDING"),
    )


def _next_min(target: Target, match: str) -> exp.Window:
    """Earliest ts of a matching row strictly after this one."""
    return _running(
        target,
        exp.Min,
        exp.Case(ifs=[exp.If(this=_is_one(match), true=col("ts"))]),
        (exp.Literal.number(1), "FOLLOWING"),
        ("UNBOUNDED", "FOLLOWING"),
    )


def sequence_ctes(target: Target, sequences: list[SequenceCondition], as_of: exp.Expr) -> list[tuple[str, exp.Select]]:
    """CTEs ending in `sw_sequences(user_id, q_<seq>...)`, 1 when the sequence holds at T."""
    ctes: list[tuple[str, exp.Select]] = []
    match_cols: list[exp.Expr] = []
    relevant: list[exp.Expr] = []
    for q, seq in enumerate(sequences):
        tests = []
        for i, step in enumerate(seq.steps):
            test = exp.and_(*filter_sql(target, step.filter, as_of))
            tests.append(test.copy())
            match_cols.append(exp.alias_(exp.Max(this=_flag(test)), f"q{q}_m{i}"))
        # Every event of a chain (and every event an absent step waits for) is at or after
        # the first step's, so inside the sequence's window: older events cannot matter to q.
        # Pruning per sequence keeps a long history out of the window functions below
        # whenever the windowed sequences are the ones matching the frequent events.
        matches = exp.or_(*tests) if len(tests) > 1 else tests[0]
        if seq.within is not None:
            matches = exp.and_(exp.paren(matches), exp.GT(this=col("ts"), expression=literals.minus(as_of, seq.within)))
        relevant.append(matches)
    rows = (
        exp.select(col(USER_KEY), col("ts"), *match_cols)
        .from_(table("sw_events"), copy=False)
        .where(exp.or_(*relevant) if len(relevant) > 1 else relevant[0], copy=False)
        .group_by(col(USER_KEY), col("ts"), copy=False)
    )
    ctes.append(("sw_seq_0", rows))

    carried = [USER_KEY, "ts"] + [f"q{q}_m{i}" for q, s in enumerate(sequences) for i in range(len(s.steps))]
    # Level 1: first steps, valid inside the sequence window.
    level: list[exp.Expr] = []
    for q, seq in enumerate(sequences):
        first: exp.Expr = _is_one(f"q{q}_m0")
        if seq.within is not None:
            first = exp.and_(first, exp.GT(this=col("ts"), expression=literals.minus(as_of, seq.within)))
        level.append(exp.alias_(_flag(first), f"q{q}_v0"))
    ctes.append(("sw_seq_1", exp.select(*(col(c) for c in carried), *level).from_(table("sw_seq_0"), copy=False)))
    carried += [f"q{q}_v0" for q in range(len(sequences))]

    depth = max(len(seq.steps) for seq in sequences)
    for i in range(1, depth):
        level = []
        for q, seq in enumerate(sequences):
            if i >= len(seq.steps):
                continue
            step = seq.steps[i]
            prev = f"q{q}_v{i - 1}"
            if step.absent:
                assert step.within is not None  # validated: an absent step has `within`
                deadline = literals.plus(col("ts"), step.within)
                nxt = _next_min(target, f"q{q}_m{i}")
                test = exp.and_(
                    _is_one(prev),
                    exp.LTE(this=deadline, expression=as_of.copy()),
                    exp.or_(
                        exp.Is(this=nxt, expression=exp.Null()),
                        exp.GT(this=nxt.copy(), expression=deadline.copy()),
                    ),
                )
            else:
                before = _prev_max(target, prev)
                test = exp.and_(_is_one(f"q{q}_m{i}"), exp.not_(exp.Is(this=before, expression=exp.Null())))
                if step.within is not None:
                    test = exp.and_(
                        test, exp.GTE(this=before.copy(), expression=literals.minus(col("ts"), step.within))
                    )
            level.append(exp.alias_(_flag(test), f"q{q}_v{i}"))
        rows = exp.select(*(col(c) for c in carried), *level).from_(f"sw_seq_{i}", copy=False)
        ctes.append((f"sw_seq_{i + 1}", rows.where(_still_needed(sequences, i), copy=False)))
        carried += [f"q{q}_v{i}" for q, seq in enumerate(sequences) if i < len(seq.steps)]

    result = exp.select(user_id_of_key(target))
    for q, seq in enumerate(sequences):
        last = f"q{q}_v{len(seq.steps) - 1}"
        result = result.select(exp.alias_(exp.Max(this=col(last)), sequence_column(seq)), copy=False)
    ctes.append(("sw_sequences", result.from_(f"sw_seq_{depth}", copy=False).group_by(col(USER_KEY), copy=False)))
    return ctes


def _still_needed(sequences: list[SequenceCondition], i: int) -> exp.Expr:
    """The rows level i (deciding step i) and the later levels can use: a valid chain end
    for step i-1, a match of step i or a later one, or a finished sequence's result.

    Any other row contributes nothing to a running MAX of valid ends, a running MIN of
    matches or the final MAX, so dropping it changes no result; rows stay distinct
    timestamps. A long first step (every product view) stops weighing on the later levels."""
    keep: list[exp.Expr] = []
    for q, seq in enumerate(sequences):
        if i < len(seq.steps):
            keep.append(_is_one(f"q{q}_v{i - 1}"))
            keep.extend(_is_one(f"q{q}_m{j}") for j in range(i, len(seq.steps)))
        else:
            keep.append(_is_one(f"q{q}_v{len(seq.steps) - 1}"))
    return exp.or_(*keep) if len(keep) > 1 else keep[0]
