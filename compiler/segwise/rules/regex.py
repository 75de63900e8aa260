"""The portable regular-expression subset for `matches` (docs/language.md, '`matches`: the portable
regular expression subset').

A pattern must mean the same on DuckDB (RE2), PostgreSQL (ARE), Snowflake (POSIX ERE) and
BigQuery (RE2), so we accept only what all four read alike: literals, escaped punctuation,
`.`, bracket classes with ranges and negation, `\\d \\w \\s \\D \\W \\S`, `^`, `$`, `|`,
capturing groups and greedy quantifiers. Everything else gets a message saying what to write
instead. The check is a small scanner, not a full parser: `re.compile` has the last word on
well-formedness.
"""

from __future__ import annotations

import re

# Punctuation that every flavour reads as itself when escaped (`\<` is a word boundary in
# GNU ERE, so only the regex metacharacters and `/` qualify).
ESCAPABLE = frozenset(".^$|()[]{}*+?\\/-")
SHORTHAND_CLASSES = frozenset("dwsDWS")
BOUND_RE = re.compile(r"\{(\d+)(,(\d*))?\}")
MAX_REPEAT = 255  # PostgreSQL's RE_DUP_MAX: larger bounds are an error there
SIMPLE_QUANTIFIERS = frozenset("*+?")


def check_portable_regex(pattern: str) -> str | None:
    """None when `pattern` is in the portable subset, else what is wrong with it."""
    if not pattern:
        return "empty regular expression"
    problem = _Scanner(pattern).scan()
    if problem is not None:
        return problem
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    return None


class _Scanner:
    def __init__(self, pattern: str):
        self.p = pattern
        self.i = 0
        self.depth = 0  # open groups
        self.can_repeat = False  # the previous token is an atom a quantifier may follow
        self.empty_branch = True  # nothing yet in the current alternative

    def scan(self) -> str | None:
        p = self.p
        while self.i < len(p):
            c = p[self.i]
            problem = self.step(c)
            if problem is not None:
                return problem
        if self.depth:
            return "unbalanced '(': a group is not closed"
        if self.empty_branch and "|" in p:
            return "empty alternative: '|' needs a pattern on both sides"
        return None

    def atom(self, width: int) -> None:
        self.i += width
        self.can_repeat = True
        self.empty_branch = False

    def step(self, c: str) -> str | None:
        p, i = self.p, self.i
        if c == "\\":
            if i + 1 == len(p):
                return "trailing backslash: write \\\\ for a literal backslash"
            problem = _escape_problem(p[i + 1])
            self.atom(2)
            return problem
        if c == "(":
            if p.startswith("(?", i):
                return _group_problem(p[i:])
            self.depth += 1
            self.i += 1
            self.can_repeat, self.empty_branch = False, True
            return None
        if c == ")":
            if self.depth == 0:
                return "unbalanced ')': no group is open"
            if self.empty_branch:
                return "empty group '()'" if p[i - 1] == "(" else "empty alternative before ')'"
            self.depth -= 1
            self.atom(1)
            return None
        if c == "|":
            if self.empty_branch:
                return "empty alternative: '|' needs a pattern on both sides"
            self.i += 1
            self.can_repeat, self.empty_branch = False, True
            return None
        if c in "^$":
            self.i += 1
            self.can_repeat, self.empty_branch = False, False
            return None
        if c == "[":
            end, problem = _scan_class(p, i)
            if problem is None:
                self.atom(end - i)
            return problem
        if c in SIMPLE_QUANTIFIERS:
            return self.quantifier(c, 1)
        if c == "{":
            bound = BOUND_RE.match(p, i)
            if bound is None:
                return "a '{' must start a bound {n}, {n,} or {n,m}; escape a literal one as \\{"
            low, high = int(bound.group(1)), bound.group(3)
            if high and int(high) < low:
                return f"bad bound {bound.group(0)}: the minimum is above the maximum"
            if max(low, int(high or 0)) > MAX_REPEAT:
                return f"bad bound {bound.group(0)}: repetition counts above {MAX_REPEAT} are not portable"
            return self.quantifier(bound.group(0), len(bound.group(0)))
        if c in "]}":
            return f"escape a literal '{c}' as \\{c}"
        self.atom(1)
        return None

    def quantifier(self, text: str, width: int) -> str | None:
        if not self.can_repeat:
            return f"nothing to repeat before '{text}'"
        self.i += width
        self.can_repeat = False
        following = self.p[self.i : self.i + 1]
        if following == "?":
            return f"lazy quantifiers ('{text}?') are not portable; use the greedy '{text}'"
        if following == "+":
            return f"possessive quantifiers ('{text}+') are not portable; use the greedy '{text}'"
        if following in SIMPLE_QUANTIFIERS or BOUND_RE.match(self.p, self.i):
            return f"a quantifier cannot follow '{text}'; wrap the repeated part in ( )"
        return None


def _escape_problem(char: str) -> str | None:
    if char in SHORTHAND_CLASSES or char in ESCAPABLE:
        return None
    if char.isdigit():
        return f"backreferences and octal escapes (\\{char}) are not portable"
    if char in "bB":
        return f"word boundaries (\\{char}) are not portable"
    if char in "AzZ":
        return f"\\{char} is not portable; anchor with ^ and $"
    if char.isalpha():
        return f"the escape \\{char} is not portable; use \\d \\w \\s \\D \\W \\S or escaped punctuation such as \\."
    return f"escaping {char!r} is not portable; write the character without a backslash"


def _group_problem(text: str) -> str:
    if text.startswith(("(?=", "(?!", "(?<=", "(?<!")):
        return "lookaround ((?=, (?!, (?<=, (?<!) is not portable"
    if text.startswith("(?:"):
        return "non-capturing groups (?:...) are not portable; use a plain group ( )"
    if text.startswith(("(?P", "(?<", "(?'")):
        return "named groups are not portable; use a plain group ( )"
    return "(?...) constructs such as inline flags are not portable"


def _scan_class(p: str, start: int) -> tuple[int, str | None]:
    """Check the bracket class starting at `p[start] == '['`; return the index after it."""
    j = start + 1
    if p.startswith("^", j):
        j += 1
    first = j
    if p.startswith("]", j):
        return j, "a ']' right after '[' is not portable; match ']' outside the class as \\]"
    while j < len(p) and p[j] != "]":
        c = p[j]
        if c == "[":
            if p[j + 1 : j + 2] in (":", ".", "="):
                return (
                    j,
                    "POSIX classes such as [[:alpha:]] are not portable; use ranges such as [a-zA-Z] or \\d \\w \\s",
                )
            return j, "a '[' inside a class is not portable; match it outside the class as \\["
        if c == "\\":
            return j, (
                "backslashes inside [...] are not portable; "
                "list the characters (e.g. [0-9.]) or use \\d \\w \\s outside the class"
            )
        if p[j + 1 : j + 2] == "-" and j + 2 < len(p) and p[j + 2] != "]":
            high = p[j + 2]
            if high in "[\\":
                return j, f"bad range end {high!r} in a class"
            if c > high:
                return j, f"bad range {c}-{high}: the first character comes after the second"
            j += 3
            continue
        if c == "-" and j != first and p[j + 1 : j + 2] != "]":
            return j, "a '-' that is not a range must come first or last in [...]"
        j += 1
    if j >= len(p):
        return j, "unterminated character class: '[' without ']'"
    return j + 1, None
