"""The holdout variant, identical on every engine (docs/language.md, '`holdout`').

bucket = integer of the first 8 hex digits of md5(name || ':' || user_id), mod 100. No engine
shares a hex-to-integer function (sqlglot emits FromBase as FROM_BASE, which none has), so
the digits are summed by position: STRPOS in '0123456789abcdef' gives each digit's value.
"""

from __future__ import annotations

from sqlglot import exp

from segwise.sql import literals
from segwise.sql.dialects import Target

HEX_DIGITS = "0123456789abcdef"


def bucket(target: Target, user_id: exp.Expr, segment: str) -> exp.Expr:
    total: exp.Expr | None = None
    for i in range(8):
        digest = exp.MD5(
            this=exp.DPipe(this=literals.string(f"{segment}:"), expression=user_id.copy())
        )  # a column: cheap to copy
        digit = exp.Sub(
            this=exp.StrPosition(
                this=literals.string(HEX_DIGITS),
                substr=exp.Substring(this=digest, start=exp.Literal.number(i + 1), length=exp.Literal.number(1)),
            ),
            expression=exp.Literal.number(1),
        )
        term = exp.Mul(this=target.cast(digit, "bigint"), expression=exp.Literal.number(16 ** (7 - i)))
        total = term if total is None else exp.Add(this=total, expression=term)
    assert total is not None
    return exp.Mod(this=exp.Paren(this=total), expression=exp.Literal.number(100))


def variant(target: Target, user_id: exp.Expr, segment: str, holdout: int) -> exp.Expr:
    """'control' / 'treatment', or a NULL text for segments without a holdout."""
    if holdout <= 0:
        return target.cast(exp.Null(), "text")
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.LT(this=bucket(target, user_id, segment), expression=exp.Literal.number(holdout)),
                true=literals.string("control"),
            )
        ],
        default=literals.string("treatment"),
    )
