"""Loading and validation (docs/language.md, 'Common mistakes and the errors `segwise validate` gives'):
every check reports file, line, column and a fix.

Most rule checks are table-driven: a rule written in flow style on line 3, column 11 of a
segment file, the text its error must point at, and the exact message and hint.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from segwise.config import (
    BgNbdConfig,
    Config,
    FlatProperties,
    Geo,
    JsonProperties,
    PredictConfig,
    Ref,
    RfmConfig,
    SourceRef,
    TableName,
    Trait,
)
from segwise.errors import Diagnostic, ValidationError
from segwise.loading import load_config, load_project, parse_segments_text
from segwise.loading.relations import parse_relation
from segwise.rules.nodes import (
    AggFn,
    AgoWindow,
    AllOf,
    AnyOf,
    Condition,
    EventCondition,
    EventFilter,
    Group,
    InSegment,
    Measure,
    Near,
    Not,
    PredictCondition,
    PredictScore,
    PropertyFilter,
    Regularity,
    RfmCondition,
    RfmMetric,
    RfmTier,
    SequenceCondition,
    SequenceStep,
    SinceWindow,
    TraitCondition,
)
from segwise.rules.predicates import (
    Between,
    CmpOp,
    Compare,
    InList,
    IsSet,
    Matches,
    RelativeTime,
    RelOp,
    TextMatch,
    TextOp,
)
from segwise.rules.regex import check_portable_regex
from segwise.rules.values import Duration, Location, ValueType

CONFIG = """\
sources:
  users:
    relation: ref('users')
    id: user_id
    updated_at: updated_at
    traits:
      plan: string
      ltv: {type: number, column: lifetime_value}
      signup_at: timestamp
      is_beta: boolean
      lat: number
      lon: number
    geo: {lat: lat, lon: lon}
  events:
    relation: analytics.events
    user_id: user_id
    name: event_name
    timestamp: occurred_at
    properties:
      column: properties
      types: {amount: number, product_id: string}
rfm: {event: order_completed, monetary: amount, within: 365d}
predict: {bgnbd: {event: order_completed, unit: 7d, calibration: 730d}}
"""

# Flat properties, no geo, no rfm.
FLAT_CONFIG = """\
sources:
  users: {relation: "source('raw', 'users')", id: id, traits: {plan: string}}
  events:
    relation: db.raw.events
    user_id: user_id
    name: name
    timestamp: ts
    properties:
      columns: {amount: amount_col, sku: sku}
      types: {amount: number}
"""

FILE = "t.yml"
RULE_LINE, RULE_COL = 3, 11  # where `segment_text` puts the rule
STRING_OPS = "eq, neq, in, not_in, is_set, contains, not_contains, starts_with, ends_with, matches"
NUMBER_OPS = "eq, neq, in, not_in, is_set, gt, gte, lt, lte, between"
TIMESTAMP_OPS = "eq, neq, in, not_in, is_set, before, after, between, more_than_ago, less_than_ago, in_next"
CMP_OPS = "eq, neq, gt, gte, lt, lte, between"
DURATION_HELP = "use an integer and a unit s, m, h, d or w (e.g. 90m, 48h, 30d)"
ISO_HELP = "use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)"
NAME_HELP = "use letters, digits and _, not starting with a digit"


def write_config(directory: Path, text: str) -> Path:
    path = directory / "segwise.yml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(write_config(tmp_path_factory.mktemp("json"), CONFIG))


@pytest.fixture(scope="module")
def flat_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(write_config(tmp_path_factory.mktemp("flat"), FLAT_CONFIG))


def segment_text(rule: str, name: str = "s") -> str:
    return f"segments:\n  - name: {name}\n    rule: {rule}\n"


def parse_rule(rule: str, config: Config) -> Condition:
    segments, _ = parse_segments_text(segment_text(rule), config, FILE)
    return segments[0].rule


def errors(text: str, config: Config, file: str = FILE) -> list[Diagnostic]:
    with pytest.raises(ValidationError) as info:
        parse_segments_text(text, config, file)
    return info.value.diagnostics


def config_errors(tmp_path: Path, text: str) -> list[Diagnostic]:
    with pytest.raises(ValidationError) as info:
        load_config(write_config(tmp_path, text))
    return info.value.diagnostics


def at(rule: str, needle: str) -> tuple[int, int]:
    """Line and column of `needle` within a rule placed by `segment_text`."""
    assert rule.count(needle) == 1, f"ambiguous needle {needle!r}"
    return RULE_LINE, RULE_COL + rule.index(needle)


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    assert len(diagnostics) == 1, "\n".join(map(str, diagnostics))
    return diagnostics[0]


# --- rule errors: (rule, the text the error points at, message, hint) ------------------------

CONDITION_ERRORS = [
    (
        "{trait: plan, event: x}",
        "event",
        "a condition has exactly one kind, got trait and event",
        "write each as its own item under all: or any:",
    ),
    (
        "{evnt: x}",
        "{evnt",
        "a condition needs one of the keys all, any, not, trait, event, sequence, in_segment, near, rfm, predict",
        "did you mean 'event'?",
    ),
    ("[a, b]", "[a", "a condition must be a mapping, got a list", None),
    ("{all: []}", "[]", "'all' must be a non-empty list", None),
    ("{any: {trait: plan, eq: x}}", "{trait", "'any' must be a list, got a mapping", None),
    ("{not: [x]}", "[x]", "a condition must be a mapping, got a list", None),
    ("{not: }", " }", "a condition must be a mapping, got nothing (null)", None),
    (
        "{all: [{trait: plan, eq: x}], within: 3d}",
        "within",
        "unknown key 'within' in the 'all' condition",
        "expected one of: all",
    ),
    ("{in_segment: [a]}", "[a]", "in_segment must be a string, got a list", None),
]

TRAIT_ERRORS = [
    ("{trait: event_cont, gt: 1}", "event_cont", "unknown trait 'event_cont'", "did you mean 'event_count'?"),
    (
        "{trait: zzz, eq: 1}",
        "zzz",
        "unknown trait 'zzz'",
        "expected one of: event_count, first_seen_at, is_beta, last_seen_at, lat, lon, ltv, plan, signup_at",
    ),
    ("{trait: 5, eq: 1}", "5", "trait must be a string, got the number 5", None),
    ("{trait: plan}", "{trait", f"string trait 'plan' needs an operator, one of: {STRING_OPS}", None),
    (
        "{trait: plan, eq: a, neq: b}",
        "neq",
        "string trait 'plan' takes exactly one operator, got eq, neq",
        "combine several conditions with all/any",
    ),
    (
        "{trait: plan, gt: a}",
        "gt",
        f"operator 'gt' does not apply to string trait 'plan'; valid operators: {STRING_OPS}",
        None,
    ),
    (
        "{trait: signup_at, gt: 2025-01-01}",
        "gt",
        f"operator 'gt' does not apply to timestamp trait 'signup_at'; valid operators: {TIMESTAMP_OPS}",
        "did you mean 'after'?",
    ),
    (
        "{trait: ltv, before: 5}",
        "before",
        f"operator 'before' does not apply to number trait 'ltv'; valid operators: {NUMBER_OPS}",
        "did you mean 'lt'?",
    ),
    (
        "{trait: is_beta, contains: x}",
        "contains",
        "operator 'contains' does not apply to boolean trait 'is_beta'; valid operators: eq, neq, in, not_in, is_set",
        None,
    ),
    ("{trait: plan, eqq: x}", "eqq", "unknown operator 'eqq' for string trait 'plan'", "did you mean 'eq'?"),
    ('{trait: ltv, gt: "abc"}', '"abc"', "'gt' on number trait 'ltv' needs a number, got the string 'abc'", None),
    ("{trait: ltv, gt: true}", "true", "'gt' on number trait 'ltv' needs a number, got true", None),
    ("{trait: ltv, gt: .nan}", ".nan", "'gt' on number trait 'ltv' needs a finite number, got the number .nan", None),
    ("{trait: ltv, lte: }", " }", "'lte' on number trait 'ltv' needs a number, got nothing (null)", None),
    (
        "{trait: plan, eq: 123}",
        "123",
        "'eq' on string trait 'plan' needs a string, got the number 123",
        "quote it to compare text: '123'",
    ),
    (
        '{trait: is_beta, eq: "true"}',
        '"true"',
        "'eq' on boolean trait 'is_beta' needs true or false, got the string 'true'",
        "write it without quotes: eq: true",
    ),
    (
        "{trait: signup_at, before: 5}",
        "5",
        "'before' on timestamp trait 'signup_at' needs an ISO timestamp string, got the number 5",
        None,
    ),
    (
        "{trait: signup_at, after: 2025-1-1}",
        "2025",
        f"'after' on timestamp trait 'signup_at': bad timestamp '2025-1-1': {ISO_HELP}",
        None,
    ),
    (
        "{trait: signup_at, after: 2025-02-30}",
        "2025",
        "'after' on timestamp trait 'signup_at': bad timestamp '2025-02-30': day is out of range for month",
        None,
    ),
    (
        "{trait: signup_at, eq: '2025-01-01 08:00:00'}",
        "'2025",
        f"'eq' on timestamp trait 'signup_at': bad timestamp '2025-01-01 08:00:00': {ISO_HELP}",
        None,
    ),
    ("{trait: plan, in: []}", "[]", "'in' on string trait 'plan' must be a non-empty list", None),
    ("{trait: plan, not_in: x}", "x}", "'not_in' on string trait 'plan' must be a list, got the string 'x'", None),
    ("{trait: ltv, in: [1, two]}", "two", "'in' on number trait 'ltv' needs a number, got the string 'two'", None),
    (
        "{trait: ltv, between: [1]}",
        "[1]",
        "'between' on number trait 'ltv' needs a list of two values [low, high], got 1",
        None,
    ),
    (
        "{trait: ltv, between: [10, 1]}",
        "[10",
        "'between' on number trait 'ltv' needs [low, high] with low <= high",
        None,
    ),
    (
        "{trait: signup_at, between: [2025-02-01, 2025-01-01]}",
        "[",
        "'between' on timestamp trait 'signup_at' needs [low, high] with low <= high",
        None,
    ),
    (
        "{trait: ltv, eq: 1, ignore_case: true}",
        "ignore_case",
        "ignore_case does not apply to 'eq' on number trait 'ltv'",
        "it applies to strings with eq, neq, in, not_in, contains, not_contains, starts_with, ends_with",
    ),
    (
        "{trait: plan, matches: a, ignore_case: true}",
        "ignore_case",
        "ignore_case does not apply to 'matches' on string trait 'plan'",
        "it applies to strings with eq, neq, in, not_in, contains, not_contains, starts_with, ends_with",
    ),
    ("{trait: plan, eq: a, ignore_case: yes}", "yes", "ignore_case must be true or false, got the string 'yes'", None),
    ('{trait: plan, contains: ""}', '""', "'contains' on string trait 'plan' needs a non-empty string", None),
    ("{trait: plan, starts_with: [a]}", "[a]", "'starts_with' on string trait 'plan' needs a string, got a list", None),
    ("{trait: plan, is_set: 1}", "1", "'is_set' on string trait 'plan' needs true or false, got the number 1", None),
    (
        "{trait: plan, matches: 'a(?=b)'}",
        "'a(",
        "'matches' on string trait 'plan': lookaround ((?=, (?!, (?<=, (?<!) is not portable",
        None,
    ),
    ("{trait: plan, matches: ''}", "''", "'matches' on string trait 'plan': empty regular expression", None),
    (
        "{trait: signup_at, more_than_ago: 0d}",
        "0d",
        "'more_than_ago' on timestamp trait 'signup_at' needs a positive duration, got '0d'",
        None,
    ),
    (
        "{trait: signup_at, less_than_ago: 3 days}",
        "3 days",
        f"'less_than_ago' on timestamp trait 'signup_at': bad duration '3 days': {DURATION_HELP}",
        None,
    ),
    (
        "{trait: signup_at, less_than_ago: -3d}",
        "-3d",
        f"'less_than_ago' on timestamp trait 'signup_at': bad duration '-3d': {DURATION_HELP}",
        None,
    ),
    (
        "{trait: signup_at, in_next: 30}",
        "30",
        "'in_next' on timestamp trait 'signup_at' needs a duration such as 30d, 48h or 90m, got the number 30",
        None,
    ),
    (
        "{trait: signup_at, in_next: 99999d}",
        "99999d",
        "'in_next' on timestamp trait 'signup_at': durations longer than 36500d (100 years) are not supported",
        None,
    ),
]

EVENT_ERRORS = [
    ("{event: ''}", "''", "event must be a non-empty string", None),
    ("{event: [a]}", "[a]", "event must be a string, got a list", None),
    ("{event: a, withn: 3d}", "withn", "unknown key 'withn' in an event condition", "did you mean 'within'?"),
    ("{event: a, where: {property: amount, gt: 1}}", "{property", "where must be a list, got a mapping", None),
    ("{event: a, where: []}", "[]", "where must be a non-empty list", None),
    ("{event: a, where: [amount]}", "amount", "a where item must be a mapping, got the string 'amount'", None),
    ("{event: a, where: [{gt: 1}]}", "{gt", "a where item is missing required key 'property'", None),
    (
        "{event: a, where: [{property: amount, gt: 1, ignore_cas: true}]}",
        "ignore_cas",
        "unknown operator 'ignore_cas' for number property 'amount'",
        "did you mean 'ignore_case'?",
    ),
    (
        "{event: a, where: [{property: amout, gt: 1}]}",
        "gt",
        "operator 'gt' does not apply to undeclared property 'amout' (undeclared properties are strings); "
        f"valid operators: {STRING_OPS}",
        "did you mean 'amount'?",
    ),
    (
        "{event: a, where: [{property: score, gte: 1}]}",
        "gte",
        "operator 'gte' does not apply to undeclared property 'score' (undeclared properties are strings); "
        f"valid operators: {STRING_OPS}",
        "declare its type in sources.events.properties.types, e.g. {score: number}",
    ),
    (
        "{event: a, where: [{property: amount, eq: x}]}",
        "x}",
        "'eq' on number property 'amount' needs a number, got the string 'x'",
        None,
    ),
    (
        "{event: a, within: 30d, since: 2025-01-01}",
        "since",
        "an event condition takes at most one window, got within and since",
        None,
    ),
    ("{event: a, within: 0s}", "0s", "within needs a positive duration, got '0s'", None),
    (
        "{event: a, between_ago: [7d, 14d]}",
        "[7d",
        "between_ago needs the older bound first, e.g. [14d, 7d]: the first must be longer than the second",
        None,
    ),
    (
        "{event: a, between_ago: [7d]}",
        "[7d",
        "between_ago needs two durations [older, newer] such as [14d, 7d], got 1 items",
        None,
    ),
    ("{event: a, between_ago: [0s, 0s]}", "0s,", "between_ago needs a positive duration, got '0s'", None),
    ("{event: a, since: yesterday}", "yesterday", f"since: bad timestamp 'yesterday': {ISO_HELP}", None),
    (
        "{event: a, count: {gte: 1}, sum: {property: amount, gt: 1}}",
        "sum",
        "an event condition takes exactly one measure, got count and sum",
        None,
    ),
    ("{event: a, count: 3}", "3", "count must be a mapping, got the number 3", None),
    ("{event: a, count: {}}", "{}", f"count needs an operator, one of: {CMP_OPS}", None),
    (
        "{event: a, count: {in: [1]}}",
        "in:",
        f"operator 'in' does not apply to count; valid operators: {CMP_OPS}",
        None,
    ),
    (
        '{event: a, count: {gte: "3"}}',
        '"3"',
        "'gte' on count needs a number, got the string '3'",
        "write it without quotes: gte: 3",
    ),
    (
        "{event: a, sum: {property: product_id, gt: 1}}",
        "product_id",
        "sum needs a number property; string property 'product_id' is not one",
        None,
    ),
    (
        "{event: a, avg: {property: amout, gt: 1}}",
        "amout",
        "avg needs a number property; undeclared property 'amout' (undeclared properties are strings) is not one",
        "did you mean 'amount'?",
    ),
    ("{event: a, max: {gt: 1}}", "{gt", "max is missing required key 'property'", None),
    ("{event: a, min: {property: amount}}", "{property", f"min of 'amount' needs an operator, one of: {CMP_OPS}", None),
    (
        "{event: a, first_seen: {gt: 1}}",
        "gt",
        "operator 'gt' does not apply to first_seen; valid operators: more_than_ago, less_than_ago, before, after",
        "did you mean 'after'?",
    ),
    (
        "{event: a, last_seen: {more_than_ago: 5}}",
        "5",
        "'more_than_ago' on last_seen needs a duration such as 30d, 48h or 90m, got the number 5",
        None,
    ),
    ("{event: a, every: 7d, periods: 4, at_least: 5}", "5}", "at_least must be an integer from 1 to 4, got 5", None),
    (
        "{event: a, every: 7d, periods: 101, at_least: 1}",
        "101",
        "periods must be an integer from 1 to 100, got 101",
        None,
    ),
    (
        "{event: a, every: 7d, periods: 2.5, at_least: 1}",
        "2.5",
        "periods must be an integer from 1 to 100, got the number 2.5",
        None,
    ),
    (
        "{event: a, every: 7d, periods: 4, at_least: 1, min_count: 0}",
        "0}",
        "min_count must be an integer of at least 1, got 0",
        None,
    ),
    (
        "{event: a, every: 7d, at_least: 1}",
        "{event",
        "a regularity (every/periods/at_least) is missing required key 'periods'",
        None,
    ),
    (
        "{event: a, every: 7d, periods: 4, at_least: 2, count: {gte: 1}}",
        "count",
        "'count' cannot be combined with every/periods/at_least: a regularity is the measure",
        None,
    ),
    (
        "{event: a, every: 7d, periods: 4, at_least: 2, within: 30d}",
        "within",
        "'within' cannot be combined with every/periods/at_least: the periods are the window",
        None,
    ),
]

SEQUENCE_ERRORS = [
    ("{sequence: [a]}", "[a]", "sequence must be a mapping, got a list", None),
    ("{sequence: {steps: []}}", "[]", "steps must be a non-empty list", None),
    ("{sequence: {within: 1d}}", "{within", "sequence is missing required key 'steps'", None),
    (
        "{sequence: {steps: [{event: a}], withn: 1d}}",
        "withn",
        "unknown key 'withn' in sequence",
        "did you mean 'within'?",
    ),
    (
        "{sequence: {steps: [{event: a}, {event: b, whre: x}]}}",
        "whre",
        "unknown key 'whre' in sequence step 2",
        "did you mean 'where'?",
    ),
    ("{sequence: {steps: [{event: a}, {}]}}", "{}", "sequence step 2 is missing required key 'event'", None),
    (
        "{sequence: {steps: [{event: a, within: 5m}, {event: b}]}}",
        "within",
        "'within' on the first step has no previous step to follow",
        "put it on the sequence: sequence: {within: 30d, steps: [...]}",
    ),
    (
        "{sequence: {steps: [{event: a, absent: true}]}}",
        "absent",
        "the first step of a sequence cannot be absent: a sequence starts with an action",
        None,
    ),
    (
        "{sequence: {steps: [{event: a}, {event: b, absent: true, within: 1m}, {event: c}]}}",
        "absent",
        "only the last step of a sequence may be absent",
        None,
    ),
    (
        "{sequence: {steps: [{event: a}, {event: b, absent: true}]}}",
        "absent",
        "an absent step needs 'within': how long after the previous step the event must not happen",
        None,
    ),
    (
        "{sequence: {steps: [{event: a}, {event: b, absent: 1, within: 5m}]}}",
        "1,",
        "absent must be true or false, got the number 1",
        None,
    ),
    (
        "{sequence: {steps: [" + ", ".join(["{event: e}"] * 11) + "]}}",
        "[",
        "a sequence has at most 10 steps, got 11",
        None,
    ),
]

NEAR_RFM_ERRORS = [
    ("{near: {lat: 91, lon: 0, radius_km: 1}}", "91", "near.lat must be between -90 and 90, got 91", None),
    ("{near: {lat: 0, lon: -181, radius_km: 1}}", "-181", "near.lon must be between -180 and 180, got -181", None),
    ("{near: {lat: 0, lon: 0, radius_km: 0}}", "0}", "near.radius_km must be greater than 0, got 0", None),
    ("{near: {lat: 0, lon: 0}}", "{lat", "near is missing required key 'radius_km'", None),
    (
        '{near: {lat: "52", lon: 0, radius_km: 1}}',
        '"52"',
        "near.lat must be a number, got the string '52'",
        "write it without quotes: lat: 52",
    ),
    (
        "{near: {lat: 0, lon: 0, radius_km: 1, radius: 2}}",
        "radius:",
        "unknown key 'radius' in near",
        "did you mean 'radius_km'?",
    ),
    ("{rfm: {tier: champs}}", "champs", "unknown rfm tier 'champs'", "did you mean 'champions'?"),
    ("{rfm: {tier: champions, r: {gte: 4}}}", "r: {", "rfm takes either a tier or comparisons, not both", None),
    (
        "{rfm: {}}",
        "{}",
        "rfm needs a tier or comparisons on some of r, f, m, recency_days, frequency, monetary",
        None,
    ),
    ("{rfm: {r: 4}}", "4", "rfm.r must be a mapping, got the number 4", None),
    ("{rfm: {monetary: {gt: x}}}", "x", "'gt' on rfm monetary needs a number, got the string 'x'", None),
    (
        "{rfm: {frequncy: {gt: 1}}}",
        "frequncy",
        "unknown key 'frequncy' in rfm",
        "did you mean 'frequency'?",
    ),
    (
        "{rfm: {frequency: {in: [1]}}}",
        "in:",
        f"operator 'in' does not apply to rfm frequency; valid operators: {CMP_OPS}",
        None,
    ),
]


PREDICT_ERRORS = [
    (
        "{predict: {model: bgnbdx, p_alive: {lt: 0.3}}}",
        "bgnbdx",
        "unknown model 'bgnbdx'; the models are: bgnbd",
        "did you mean 'bgnbd'?",
    ),
    ("{predict: {p_alive: {lt: 0.3}}}", "{p_alive", "predict needs model: bgnbd", None),
    (
        "{predict: {model: bgnbd}}",
        "{model",
        "predict compares exactly one score, one of: p_alive, expected_purchases",
        None,
    ),
    (
        "{predict: {model: bgnbd, p_alive: {lt: 0.3}, expected_purchases: {within: 30d, gte: 1}}}",
        "expected_purchases",
        "predict compares exactly one score, one of: p_alive, expected_purchases",
        None,
    ),
    (
        "{predict: {model: bgnbd, expected_purchases: {gte: 1}}}",
        "{gte",
        "expected_purchases needs within: the horizon after T, e.g. within: 90d",
        None,
    ),
    (
        "{predict: {model: bgnbd, expected_purchases: {within: 3x, gte: 1}}}",
        "3x",
        f"expected_purchases.within: bad duration '3x': {DURATION_HELP}",
        None,
    ),
    (
        "{predict: {model: bgnbd, p_alive: {in: [1]}}}",
        "in:",
        f"operator 'in' does not apply to predict p_alive; valid operators: {CMP_OPS}",
        None,
    ),
    (
        "{predict: {model: bgnbd, p_alive: {lt: high}}}",
        "high",
        "'lt' on predict p_alive needs a number, got the string 'high'",
        None,
    ),
]


@pytest.mark.parametrize(
    ("rule", "needle", "message", "hint"),
    CONDITION_ERRORS + TRAIT_ERRORS + EVENT_ERRORS + SEQUENCE_ERRORS + NEAR_RFM_ERRORS + PREDICT_ERRORS,
)
def test_rule_error(config: Config, rule: str, needle: str, message: str, hint: str | None) -> None:
    error = only(errors(segment_text(rule), config))
    assert (error.file, error.line, error.col) == (FILE, *at(rule, needle))
    assert error.message == message
    assert error.hint == hint


FLAT_ERRORS = [
    ("{event: a, where: [{property: skux, eq: x}]}", "skux", "unknown property 'skux'", "did you mean 'sku'?"),
    (
        "{event: a, count_distinct: {property: nope, gt: 1}}",
        "nope",
        "unknown property 'nope'",
        "expected one of: amount, sku",
    ),
    (
        "{near: {lat: 0, lon: 0, radius_km: 1}}",
        "near",
        "near needs sources.users.geo in segwise.yml (the latitude and longitude traits)",
        None,
    ),
    (
        "{rfm: {tier: champions}}",
        "rfm",
        "rfm conditions need the rfm: section in segwise.yml (event, monetary, within)",
        None,
    ),
    (
        "{predict: {model: bgnbd, p_alive: {lt: 0.3}}}",
        "predict",
        "predict conditions need the predict: section in segwise.yml",
        "add predict: {bgnbd: {event: <the purchase event>}}",
    ),
]


@pytest.mark.parametrize(("rule", "needle", "message", "hint"), FLAT_ERRORS)
def test_rule_error_flat_properties(
    flat_config: Config, rule: str, needle: str, message: str, hint: str | None
) -> None:
    error = only(errors(segment_text(rule), flat_config))
    assert (error.line, error.col, error.message, error.hint) == (*at(rule, needle), message, hint)


def test_no_properties_configured(tmp_path: Path) -> None:
    no_props = load_config(write_config(tmp_path, CONFIG.split("    properties:")[0]))
    rule = "{event: a, where: [{property: amount, gt: 1}]}"
    error = only(errors(segment_text(rule), no_props))
    assert (error.line, error.col) == at(rule, "amount")
    assert error.message == "unknown property 'amount': sources.events declares no properties"


# --- valid rules produce the expected AST -----------------------------------------------------

VALID_TRAITS = [
    ("{trait: plan, eq: pro}", Compare(CmpOp.EQ, "pro")),
    ("{trait: plan, neq: pro, ignore_case: true}", Compare(CmpOp.NEQ, "pro", ignore_case=True)),
    ("{trait: ltv, gt: 5}", Compare(CmpOp.GT, 5.0)),
    ("{trait: ltv, gte: 2.5}", Compare(CmpOp.GTE, 2.5)),
    ("{trait: ltv, lt: -1}", Compare(CmpOp.LT, -1.0)),
    ("{trait: ltv, lte: 0}", Compare(CmpOp.LTE, 0.0)),
    ("{trait: is_beta, eq: false}", Compare(CmpOp.EQ, False)),
    ("{trait: plan, in: [pro, free, pro, basic]}", InList(("basic", "free", "pro"))),
    ("{trait: ltv, in: [3, 1, 1.0, 2]}", InList((1.0, 2.0, 3.0))),
    ("{trait: plan, not_in: [b, a], ignore_case: true}", InList(("a", "b"), negated=True, ignore_case=True)),
    ("{trait: is_beta, in: [true, false]}", InList((False, True))),
    ("{trait: plan, is_set: false}", IsSet(False)),
    ("{trait: ltv, between: [1, 1]}", Between(1.0, 1.0)),
    ("{trait: plan, contains: ro}", TextMatch(TextOp.CONTAINS, "ro")),
    ("{trait: plan, not_contains: ro, ignore_case: true}", TextMatch(TextOp.NOT_CONTAINS, "ro", ignore_case=True)),
    ("{trait: plan, starts_with: p}", TextMatch(TextOp.STARTS_WITH, "p")),
    ("{trait: plan, ends_with: o, ignore_case: false}", TextMatch(TextOp.ENDS_WITH, "o")),
    (r"{trait: plan, matches: '^p(ro|lus)\d*$'}", Matches(r"^p(ro|lus)\d*$")),
    ("{trait: signup_at, before: 2025-01-31}", Compare(CmpOp.LT, datetime(2025, 1, 31))),
    ("{trait: signup_at, after: '2025-01-31T08:00:00'}", Compare(CmpOp.GT, datetime(2025, 1, 31, 8))),
    ("{trait: signup_at, eq: 2025-01-31T08:00:00}", Compare(CmpOp.EQ, datetime(2025, 1, 31, 8))),
    (
        "{trait: signup_at, between: [2025-01-01, 2025-02-01]}",
        Between(datetime(2025, 1, 1), datetime(2025, 2, 1)),
    ),
    ("{trait: signup_at, more_than_ago: 30d}", RelativeTime(RelOp.MORE_THAN_AGO, Duration(30 * 86400))),
    ("{trait: signup_at, less_than_ago: 90m}", RelativeTime(RelOp.LESS_THAN_AGO, Duration(5400))),
    ("{trait: signup_at, in_next: 2w}", RelativeTime(RelOp.IN_NEXT, Duration(14 * 86400))),
]


@pytest.mark.parametrize(("rule", "predicate"), VALID_TRAITS)
def test_trait_predicates(config: Config, rule: str, predicate: object) -> None:
    condition = parse_rule(rule, config)
    assert isinstance(condition, TraitCondition)
    assert condition.predicate == predicate
    assert type(condition.predicate) is type(predicate)
    assert condition.type is config.trait_type(condition.trait)


def test_values_keep_their_python_types(config: Config) -> None:
    condition = parse_rule("{trait: ltv, in: [3, 1]}", config)
    assert isinstance(condition, TraitCondition) and isinstance(condition.predicate, InList)
    assert all(type(value) is float for value in condition.predicate.values)


def test_builtin_traits(config: Config) -> None:
    assert parse_rule("{trait: event_count, gte: 3}", config) == TraitCondition(
        "event_count", ValueType.NUMBER, Compare(CmpOp.GTE, 3.0)
    )
    assert parse_rule("{trait: last_seen_at, more_than_ago: 7d}", config) == TraitCondition(
        "last_seen_at", ValueType.TIMESTAMP, RelativeTime(RelOp.MORE_THAN_AGO, Duration(7 * 86400))
    )


DEFAULT = Measure(AggFn.COUNT, Compare(CmpOp.GTE, 1.0))
DAY = 86400

VALID_EVENTS = [
    ("{event: login}", EventCondition(EventFilter("login"), DEFAULT)),
    ("{event: login, within: 30d}", EventCondition(EventFilter("login"), DEFAULT, AgoWindow(Duration(30 * DAY)))),
    (
        "{event: login, between_ago: [14d, 7d]}",
        EventCondition(EventFilter("login"), DEFAULT, AgoWindow(Duration(14 * DAY), Duration(7 * DAY))),
    ),
    (
        "{event: login, between_ago: [1h, 0s]}",
        EventCondition(EventFilter("login"), DEFAULT, AgoWindow(Duration(3600), Duration(0))),
    ),
    (
        "{event: login, since: 2025-01-01}",
        EventCondition(EventFilter("login"), DEFAULT, SinceWindow(datetime(2025, 1, 1))),
    ),
    (
        "{event: login, count: {eq: 0}}",
        EventCondition(EventFilter("login"), Measure(AggFn.COUNT, Compare(CmpOp.EQ, 0.0))),
    ),
    (
        "{event: buy, count: {between: [2, 5]}}",
        EventCondition(EventFilter("buy"), Measure(AggFn.COUNT, Between(2.0, 5.0))),
    ),
    (
        "{event: buy, sum: {property: amount, gte: 100}}",
        EventCondition(EventFilter("buy"), Measure(AggFn.SUM, Compare(CmpOp.GTE, 100.0), "amount", ValueType.NUMBER)),
    ),
    (
        "{event: buy, avg: {property: amount, lt: 9.5}}",
        EventCondition(EventFilter("buy"), Measure(AggFn.AVG, Compare(CmpOp.LT, 9.5), "amount", ValueType.NUMBER)),
    ),
    (
        "{event: buy, count_distinct: {property: sku, gt: 2}}",  # undeclared JSON property: a string
        EventCondition(
            EventFilter("buy"), Measure(AggFn.COUNT_DISTINCT, Compare(CmpOp.GT, 2.0), "sku", ValueType.STRING)
        ),
    ),
    (
        "{event: buy, first_seen: {more_than_ago: 30d}}",
        EventCondition(
            EventFilter("buy"), Measure(AggFn.FIRST_SEEN, RelativeTime(RelOp.MORE_THAN_AGO, Duration(30 * DAY)))
        ),
    ),
    (
        "{event: buy, last_seen: {before: 2025-01-01}}",
        EventCondition(EventFilter("buy"), Measure(AggFn.LAST_SEEN, Compare(CmpOp.LT, datetime(2025, 1, 1)))),
    ),
    (
        "{event: buy, last_seen: {after: 2025-01-01}}",
        EventCondition(EventFilter("buy"), Measure(AggFn.LAST_SEEN, Compare(CmpOp.GT, datetime(2025, 1, 1)))),
    ),
    (
        "{event: login, every: 7d, periods: 4, at_least: 3}",
        EventCondition(EventFilter("login"), Regularity(Duration(7 * DAY), 4, 3)),
    ),
    (
        "{event: login, every: 1d, periods: 100, at_least: 100, min_count: 2}",
        EventCondition(EventFilter("login"), Regularity(Duration(DAY), 100, 100, 2)),
    ),
]


@pytest.mark.parametrize(("rule", "expected"), VALID_EVENTS)
def test_event_conditions(config: Config, rule: str, expected: EventCondition) -> None:
    assert parse_rule(rule, config) == expected


def test_where_is_typed_sorted_and_unique(config: Config) -> None:
    rule = (
        "{event: buy, where: [{property: product_id, in: [b, a]}, {property: amount, gt: 5},"
        " {property: product_id, in: [a, b]}, {property: channel, eq: web}]}"
    )
    condition = parse_rule(rule, config)
    assert isinstance(condition, EventCondition)
    assert condition.filter.where == (
        PropertyFilter("amount", ValueType.NUMBER, Compare(CmpOp.GT, 5.0)),
        PropertyFilter("channel", ValueType.STRING, Compare(CmpOp.EQ, "web")),  # undeclared: a string
        PropertyFilter("product_id", ValueType.STRING, InList(("a", "b"))),
    )
    assert [f.loc for f in condition.filter.where] == [
        Location(FILE, *at(rule, "{property: amount")),
        Location(FILE, *at(rule, "{property: channel")),
        Location(FILE, *at(rule, "{property: product_id, in: [b")),
    ]


def test_flat_properties(flat_config: Config) -> None:
    condition = parse_rule("{event: buy, where: [{property: sku, eq: x}], max: {property: amount, gt: 1}}", flat_config)
    assert condition == EventCondition(
        EventFilter("buy", (PropertyFilter("sku", ValueType.STRING, Compare(CmpOp.EQ, "x")),)),
        Measure(AggFn.MAX, Compare(CmpOp.GT, 1.0), "amount", ValueType.NUMBER),
    )


SEQUENCE = """\
segments:
  - name: abandoned_checkout
    rule:
      sequence:
        within: 30d
        steps:
          - event: checkout_viewed
          - event: payment_entered
            where: [{property: amount, gt: 10}]
            within: 10m
          - event: order_completed
            absent: true
            within: 5m
"""


def test_sequence(config: Config) -> None:
    (segment,), _ = parse_segments_text(SEQUENCE, config, FILE)
    assert segment.rule == SequenceCondition(
        (
            SequenceStep(EventFilter("checkout_viewed")),
            SequenceStep(
                EventFilter("payment_entered", (PropertyFilter("amount", ValueType.NUMBER, Compare(CmpOp.GT, 10.0)),)),
                within=Duration(600),
            ),
            SequenceStep(EventFilter("order_completed"), within=Duration(300), absent=True),
        ),
        within=Duration(30 * DAY),
    )
    assert isinstance(segment.rule, SequenceCondition)
    assert segment.rule.loc == Location(FILE, 4, 7)
    assert [step.loc for step in segment.rule.steps] == [
        Location(FILE, 7, 13),
        Location(FILE, 8, 13),
        Location(FILE, 11, 13),
    ]


def test_ten_steps_and_a_single_step_are_fine(config: Config) -> None:
    ten = parse_rule("{sequence: {steps: [" + ", ".join(["{event: e}"] * 10) + "]}}", config)
    assert isinstance(ten, SequenceCondition) and len(ten.steps) == 10
    assert parse_rule("{sequence: {steps: [{event: e}]}}", config) == SequenceCondition(
        (SequenceStep(EventFilter("e")),)
    )


def test_near_and_rfm(config: Config) -> None:
    assert parse_rule("{near: {lat: 52.52, lon: 13.405, radius_km: 10}}", config) == Near(52.52, 13.405, 10.0)
    assert parse_rule("{near: {lat: -90, lon: 180, radius_km: 0.5}}", config) == Near(-90.0, 180.0, 0.5)
    assert parse_rule("{rfm: {tier: at_risk}}", config) == RfmCondition(tier=RfmTier.AT_RISK)
    assert parse_rule("{rfm: {monetary: {gt: 100}, r: {gte: 4}, recency_days: {between: [0, 30]}}}", config) == (
        RfmCondition(
            comparisons=(
                (RfmMetric.R, Compare(CmpOp.GTE, 4.0)),
                (RfmMetric.RECENCY_DAYS, Between(0.0, 30.0)),
                (RfmMetric.MONETARY, Compare(CmpOp.GT, 100.0)),
            )
        )
    )


BOOLEAN = """\
segments:
  - name: base
    rule: {trait: plan, eq: pro}
  - name: s
    description: Pro users in Berlin, or beta users who did not buy
    tags: [a, b, a]
    holdout: 10
    rule:
      any:
        - all:
            - {trait: plan, eq: pro}
            - near: {lat: 52.52, lon: 13.405, radius_km: 10}
        - all:
            - {trait: is_beta, eq: true}
            - not: {event: order_completed, within: 30d}
        - in_segment: base
"""


def test_boolean_tree_keeps_order_and_locations(config: Config) -> None:
    (_, segment), _ = parse_segments_text(BOOLEAN, config, FILE)
    rule = segment.rule
    assert rule == AnyOf(
        (
            AllOf((TraitCondition("plan", ValueType.STRING, Compare(CmpOp.EQ, "pro")), Near(52.52, 13.405, 10.0))),
            AllOf(
                (
                    TraitCondition("is_beta", ValueType.BOOLEAN, Compare(CmpOp.EQ, True)),
                    Not(EventCondition(EventFilter("order_completed"), DEFAULT, AgoWindow(Duration(30 * DAY)))),
                )
            ),
            InSegment("base"),
        )
    )
    assert (segment.name, segment.description, segment.tags, segment.holdout) == (
        "s",
        "Pro users in Berlin, or beta users who did not buy",
        ("a", "b"),
        10,
    )
    assert segment.loc == Location(FILE, 4, 5)
    assert isinstance(rule, AnyOf)
    first, second, third = rule.items
    assert isinstance(first, AllOf) and isinstance(second, AllOf)
    locations = [rule.loc, first.loc, *(i.loc for i in first.items), second.loc, *(i.loc for i in second.items)]
    assert locations == [
        Location(FILE, 9, 7),
        Location(FILE, 10, 11),
        Location(FILE, 11, 15),
        Location(FILE, 12, 15),
        Location(FILE, 13, 11),
        Location(FILE, 14, 15),
        Location(FILE, 15, 15),
    ]
    assert isinstance(second.items[1], Not) and second.items[1].item.loc == Location(FILE, 15, 20)
    assert third.loc == Location(FILE, 16, 11)


def nodes_with_locations(condition: Condition) -> list[object]:
    """Every node of a tree that carries a `loc`: conditions, sequence steps, where filters."""
    match condition:
        case AllOf(items=items) | AnyOf(items=items):
            return [condition, *(node for item in items for node in nodes_with_locations(item))]
        case Not(item=item):
            return [condition, *nodes_with_locations(item)]
        case EventCondition(filter=event_filter):
            return [condition, *event_filter.where]
        case SequenceCondition(steps=steps):
            return [condition, *steps, *(f for step in steps for f in step.filter.where)]
    return [condition]


def test_every_node_has_a_location(config: Config) -> None:
    rules = [parse_rule(rule, config) for rule, _ in VALID_TRAITS + VALID_EVENTS]
    rules += [parse_rule("{event: e, where: [{property: amount, gt: 1}, {property: x, eq: y}]}", config)]
    rules += [segment.rule for text in (SEQUENCE, BOOLEAN) for segment in parse_segments_text(text, config, FILE)[0]]
    nodes = [node for rule in rules for node in nodes_with_locations(rule)]
    assert len(nodes) > len(rules)
    for node in nodes:
        loc = getattr(node, "loc", None)
        assert isinstance(loc, Location) and loc.file == FILE and loc.line >= 3 and loc.col > 1, node


def test_groups(config: Config) -> None:
    text = (
        segment_text("{trait: plan, eq: pro}", "vip") + "groups:\n  - {name: tiers, priority: [vip], fallback: other}\n"
    )
    segments, groups = parse_segments_text(text, config, FILE)
    assert [s.name for s in segments] == ["vip"]
    assert groups == [Group("tiers", ("vip",), "other")]
    assert groups[0].loc == Location(FILE, 5, 5)


def test_names_and_holdout_limits(config: Config) -> None:
    longest = "a" + "b" * 62
    text = segment_text("{trait: plan, eq: x}", longest) + "    holdout: 50\n"
    (segment,), _ = parse_segments_text(text, config, FILE)
    assert (segment.name, segment.holdout) == (longest, 50)
    (segment,), _ = parse_segments_text(segment_text("{trait: plan, eq: x}") + "    holdout: 0\n", config, FILE)
    assert segment.holdout == 0


def test_empty_files_define_nothing(config: Config) -> None:
    assert parse_segments_text("", config, FILE) == ([], [])
    assert parse_segments_text("# nothing yet\nsegments:\n", config, FILE) == ([], [])


# --- segment files and groups -----------------------------------------------------------------


def error_rows(diagnostics: list[Diagnostic]) -> list[tuple[int, int, str, str | None]]:
    return [(d.line, d.col, d.message, d.hint) for d in diagnostics]


def test_segment_file_shape(config: Config) -> None:
    assert error_rows(errors("- name: a\n", config)) == [(1, 1, "a segment file must be a mapping, got a list", None)]
    text = "segment:\n  - name: a\nsegments: {name: a}\n"
    assert error_rows(errors(text, config)) == [
        (1, 1, "unknown key 'segment' in a segment file", "did you mean 'segments'?"),
        (3, 11, "segments must be a list, got a mapping", None),
    ]


SEGMENT_MISTAKES = """\
segments:
  - name: Bad-Name
    rule: {trait: plan, eq: x}
  - description: no name
    rule: {trait: plan, eq: x}
  - name: no_rule
  - name: bad_fields
    descripton: typo
    description: [a]
    tags: x
    holdout: 60
    rule: {trait: plan, eq: x}
  - name: more_fields
    tags: [ok, 3]
    holdout: "10"
    rule: {trait: plan, eq: x}
  - name: float_holdout
    holdout: 10.5
    rule: {trait: plan, eq: x}
  - just a string
"""


def test_segment_mistakes(config: Config) -> None:
    name_hint = "use lowercase letters, digits and _, starting with a letter, at most 63 characters"
    assert error_rows(errors(SEGMENT_MISTAKES, config)) == [
        (2, 11, "invalid segment name: 'Bad-Name'", name_hint),
        (4, 5, "a segment is missing required key 'name'", None),
        (6, 5, "a segment is missing required key 'rule'", None),
        (8, 5, "unknown key 'descripton' in a segment", "did you mean 'description'?"),
        (9, 18, "description must be a string, got a list", None),
        (10, 11, "tags must be a list, got the string 'x'", None),
        (11, 14, "holdout must be an integer from 0 to 50, got 60", None),
        (14, 16, "a tag must be a string, got the number 3", None),
        (
            15,
            14,
            "holdout must be an integer from 0 to 50, got the string '10'",
            "write it without quotes: holdout: 10",
        ),
        (18, 14, "holdout must be an integer from 0 to 50, got the number 10.5", None),
        (20, 5, "a segment must be a mapping, got the string 'just a string'", None),
    ]


@pytest.mark.parametrize("name", ["1abc", "_a", "a-b", "a b", "a" * 64, "Ä", ""])
def test_bad_segment_names(config: Config, name: str) -> None:
    error = only(errors(f"segments:\n  - name: '{name}'\n    rule: {{trait: plan, eq: x}}\n", config))
    assert (error.line, error.col) == (2, 11)
    assert error.message in (f"invalid segment name: {name!r}", "segment name must be a non-empty string")


GROUP_MISTAKES = """\
segments:
  - {name: vip, rule: {trait: plan, eq: pro}}
  - {name: loyal, rule: {trait: plan, eq: pro}}
groups:
  - {name: g, priority: [vip, loyal, vip], fallback: ""}
  - {name: g, priority: [vpi]}
  - {name: Bad, priority: []}
  - {name: h, priorty: [vip]}
  - {name: i, priority: vip, fallback: 3}
"""


def test_group_mistakes(config: Config) -> None:
    assert error_rows(errors(GROUP_MISTAKES, config)) == [
        (5, 38, "segment 'vip' is listed twice in priority", None),
        (5, 54, "fallback must be a non-empty string", None),
        (6, 5, "duplicate group name 'g' (first defined at t.yml:5)", None),
        (
            7,
            12,
            "invalid group name: 'Bad'",
            "use lowercase letters, digits and _, starting with a letter, at most 63 characters",
        ),
        (7, 27, "priority must be a non-empty list", None),
        (8, 5, "a group is missing required key 'priority'", None),
        (8, 15, "unknown key 'priorty' in a group", "did you mean 'priority'?"),
        (9, 25, "priority must be a list, got the string 'vip'", None),
        (9, 40, "fallback must be a string, got the number 3", None),
    ]


def test_group_priority_names_unknown_segment(config: Config) -> None:
    text = "segments:\n  - {name: vip, rule: {trait: plan, eq: pro}}\ngroups:\n  - {name: g, priority: [vip, vpi]}\n"
    assert error_rows(errors(text, config)) == [(4, 31, "unknown segment 'vpi'", "did you mean 'vip'?")]


# --- references and cycles --------------------------------------------------------------------


def test_unknown_segment_reference(config: Config) -> None:
    text = segment_text("{in_segment: hgh_value}") + "  - {name: high_value, rule: {trait: plan, eq: x}}\n"
    assert error_rows(errors(text, config)) == [(3, 24, "unknown segment 'hgh_value'", "did you mean 'high_value'?")]


def test_self_reference(config: Config) -> None:
    text = segment_text("{not: {in_segment: s}}")
    assert error_rows(errors(text, config)) == [(3, 30, "segment 's' refers to itself: s -> s", None)]


def test_cycle_names_the_whole_cycle(config: Config) -> None:
    text = """\
segments:
  - {name: c, rule: {in_segment: a}}
  - {name: b, rule: {all: [{trait: plan, eq: x}, {in_segment: c}]}}
  - {name: a, rule: {in_segment: b}}
  - {name: d, rule: {in_segment: a}}
"""
    assert error_rows(errors(text, config)) == [
        (4, 34, "segments refer to each other in a cycle: a -> b -> c -> a", None)
    ]


def test_references_to_a_segment_with_errors_are_not_unknown(config: Config) -> None:
    text = segment_text("{in_segment: broken}") + "  - {name: broken, rule: {trait: nope, eq: x}}\n"
    assert error_rows(errors(text, config)) == [
        (4, 34, "unknown trait 'nope'", "expected one of: " + ", ".join(config.trait_names()))
    ]


def test_a_file_with_ten_mistakes_reports_ten_located_errors(config: Config) -> None:
    text = """\
segments:
  - name: first
    rule:
      all:
        - {trait: plna, eq: pro}
        - {trait: ltv, gt: "abc"}
        - {event: order_completed, withn: 30d}
        - {event: order_completed, within: 30 days}
        - sequence:
            steps:
              - {event: a, absent: true}
        - {in_segment: nope}
  - name: first
    holdout: 70
    rule:
      any: []
groups:
  - {name: g, priority: [frist]}
"""
    diagnostics = errors(text, config, "segments/ten.yml")
    assert [str(d) for d in diagnostics] == [
        "segments/ten.yml:5:19: unknown trait 'plna'; did you mean 'plan'?",
        "segments/ten.yml:6:28: 'gt' on number trait 'ltv' needs a number, got the string 'abc'",
        "segments/ten.yml:7:36: unknown key 'withn' in an event condition; did you mean 'within'?",
        f"segments/ten.yml:8:44: within: bad duration '30 days': {DURATION_HELP}",
        "segments/ten.yml:11:28: the first step of a sequence cannot be absent: a sequence starts with an action",
        "segments/ten.yml:12:24: unknown segment 'nope'",
        "segments/ten.yml:13:5: duplicate segment name 'first' (first defined at segments/ten.yml:2)",
        "segments/ten.yml:14:14: holdout must be an integer from 0 to 50, got 70",
        "segments/ten.yml:16:12: 'any' must be a non-empty list",
        "segments/ten.yml:18:26: unknown segment 'frist'; did you mean 'first'?",
    ]


# --- hostile values are plain values ----------------------------------------------------------

HOSTILE = [
    "'; drop table users; --",
    'a"b',
    "x' OR '1'='1",
    "-- comment",
    "日本語 ☃ é",
    "back\\slash",
    "$1 {{ jinja }}",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_are_plain_values(config: Config, value: str) -> None:
    buffer = io.StringIO()
    document = {
        "segments": [
            {
                "name": "hostile",
                "description": value,
                "tags": [value],
                "rule": {
                    "all": [
                        {"trait": "plan", "eq": value},
                        {"trait": "plan", "in": [value, "x"]},
                        {"trait": "plan", "contains": value},
                        {"event": value, "where": [{"property": "product_id", "starts_with": value}]},
                        {"event": "e", "where": [{"property": value, "eq": value}]},
                    ]
                },
            }
        ]
    }
    YAML().dump(document, buffer)
    (segment,), _ = parse_segments_text(buffer.getvalue(), config, FILE)
    assert segment.description == value and segment.tags == (value,)
    assert isinstance(segment.rule, AllOf)
    eq, in_list, contains, event, prop = segment.rule.items
    assert isinstance(eq, TraitCondition) and eq.predicate == Compare(CmpOp.EQ, value)
    assert isinstance(in_list, TraitCondition) and isinstance(in_list.predicate, InList)
    assert value in in_list.predicate.values
    assert isinstance(contains, TraitCondition) and contains.predicate == TextMatch(TextOp.CONTAINS, value)
    assert isinstance(event, EventCondition) and event.filter.event == value
    assert event.filter.where[0].predicate == TextMatch(TextOp.STARTS_WITH, value)
    assert isinstance(prop, EventCondition) and prop.filter.where[0].property == value


# --- YAML-level problems ----------------------------------------------------------------------

YAML_PROBLEMS = [
    (
        "segments: [\n",
        2,
        1,
        "invalid YAML: expected the node content, but found '<stream end>' (while parsing a flow node)",
        "the file ends where a value should be: close every '[' and '{'",
    ),
    (
        "segments:\n\t- name: a\n",
        2,
        1,
        "invalid YAML: found character '\\t' that cannot start any token (while scanning for the next token)",
        "indent with spaces: YAML does not allow tabs",
    ),
    (
        "segments: []\n---\nsegments: []\n",
        2,
        1,
        "invalid YAML: expected a single document in the stream, but found another document",
        "keep one document per file: remove the '---' line or split the file",
    ),
    (
        "segments: []\nsegments: []\n",
        2,
        1,
        "duplicate key 'segments' (first at line 1)",
        "keep one 'segments' and merge what the two hold",
    ),
    # The alias resolves to the anchored node: the error points at the anchor.
    (
        "segments: &a\n  - name: a\n    rule: {all: *a}\n",
        1,
        11,
        "recursive YAML alias",
        "an alias (*name) cannot stand inside the node its anchor names",
    ),
    (
        "segments: !custom x\n",
        1,
        11,
        "unsupported YAML tag '!custom'",
        "quote a value that starts with '!': YAML reads it as a tag",
    ),
    ("? [a]\n: 1\n", 1, 3, "a key must be a plain string, not a list or mapping", "write the key as a word"),
]


@pytest.mark.parametrize(("text", "line", "col", "message", "hint"), YAML_PROBLEMS)
def test_yaml_problems(config: Config, text: str, line: int, col: int, message: str, hint: str | None) -> None:
    error = only(errors(text, config))
    assert (error.file, error.line, error.col, error.message, error.hint) == (FILE, line, col, message, hint)


def test_deep_nesting_and_alias_bombs_are_errors_not_crashes(config: Config) -> None:
    deep = segment_text("{not: " * 60 + "{trait: plan, eq: x}" + "}" * 60)
    assert only(errors(deep, config)).message == "conditions are nested more than 50 levels deep"
    deeper = segment_text("{not: " * 2000 + "{trait: plan, eq: x}" + "}" * 2000)
    assert only(errors(deeper, config)).message in (
        "YAML nested too deeply",
        "conditions are nested more than 50 levels deep",
    )
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 7)
    )
    assert only(errors(bomb, config)).message == "YAML too large after expanding aliases"


def test_merge_keys(config: Config) -> None:
    text = "segments:\n  - &base {name: a, rule: {trait: plan, eq: x}}\n  - <<: *base\n    name: b\n"
    segments, _ = parse_segments_text(text, config, FILE)
    assert [s.name for s in segments] == ["a", "b"]
    assert segments[0].rule == segments[1].rule


KEYWORDS = [
    "segments",
    "groups",
    "name",
    "rule",
    "holdout",
    "tags",
    "all",
    "any",
    "not",
    "trait",
    "event",
    "sequence",
    "steps",
    "in_segment",
    "near",
    "rfm",
    "eq",
    "gt",
    "in",
    "between",
    "matches",
    "before",
    "within",
    "between_ago",
    "since",
    "count",
    "sum",
    "where",
    "property",
    "every",
    "periods",
    "at_least",
    "absent",
    "tier",
    "r",
    "plan",
    "ltv",
    "signup_at",
    "amount",
    "priority",
    "ignore_case",
    "lat",
    "radius_km",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from([*KEYWORDS, "30d", "0s", "2025-01-01", "[a-z]+", "(?i)x"]),
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(KEYWORDS), children, max_size=4)
    ),
    max_leaves=20,
)
SEGMENT_FILES = st.builds(
    lambda segments: {"segments": segments},
    st.lists(st.builds(lambda n, r: {"name": n, "rule": r}, st.sampled_from(["a", "b"]), TREES), max_size=3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(TREES, SEGMENT_FILES))
def test_any_yaml_shape_gives_diagnostics_never_a_crash(config: Config, document: object) -> None:
    buffer = io.StringIO()
    YAML(typ="safe").dump(document, buffer)
    try:
        parse_segments_text(buffer.getvalue(), config, FILE)
    except ValidationError as exc:
        assert exc.diagnostics
        assert all(d.file == FILE and d.line >= 1 and d.col >= 1 and d.message for d in exc.diagnostics)


# --- segwise.yml ------------------------------------------------------------------------------


def test_valid_config(config: Config) -> None:
    users, events = config.users, config.events
    assert users.relation == Ref("users")
    assert (users.id, users.updated_at) == ("user_id", "updated_at")
    assert users.traits["plan"] == Trait("plan", ValueType.STRING, "plan")
    assert users.traits["ltv"] == Trait("ltv", ValueType.NUMBER, "lifetime_value")
    assert users.geo == Geo("lat", "lon")
    assert events.relation == TableName(("analytics", "events"))
    assert (events.user_id, events.name, events.timestamp, events.loaded_at, events.id) == (
        "user_id",
        "event_name",
        "occurred_at",
        None,
        None,
    )
    assert events.properties == JsonProperties(
        "properties", {"amount": ValueType.NUMBER, "product_id": ValueType.STRING}
    )
    assert config.rfm == RfmConfig("order_completed", "amount", Duration(365 * DAY))
    assert (config.segments_path, config.models_path) == ("segments", "models/segwise")


def test_valid_flat_config(flat_config: Config) -> None:
    assert flat_config.users.relation == SourceRef("raw", "users")
    assert flat_config.events.relation == TableName(("db", "raw", "events"))
    assert flat_config.events.properties == FlatProperties(
        {"amount": "amount_col", "sku": "sku"}, {"amount": ValueType.NUMBER}
    )
    assert flat_config.rfm is None and flat_config.users.geo is None


@pytest.mark.parametrize(
    ("text", "relation"),
    [
        ("ref('demo_users')", Ref("demo_users")),
        ('ref("demo_users")', Ref("demo_users")),
        ("ref( 'x' )", Ref("x")),
        ("source('raw', 'users')", SourceRef("raw", "users")),
        ('source("raw","users")', SourceRef("raw", "users")),
        ("users", TableName(("users",))),
        ("analytics.users", TableName(("analytics", "users"))),
        ("db.analytics.users$1", TableName(("db", "analytics", "users$1"))),
    ],
)
def test_relations(text: str, relation: object) -> None:
    assert parse_relation(text) == relation


@pytest.mark.parametrize(
    "text", ["ref(users)", "ref('a', 'b')", "source('a')", "a.b.c.d", "1users", "a..b", "ref('a b')", "users;drop"]
)
def test_bad_relations(text: str) -> None:
    with pytest.raises(ValueError, match="bad relation"):
        parse_relation(text)


CONFIG_MISTAKES = """\
segments_pth: segments
sources:
  users:
    relation: ref(demo_users)
    id: 1user
    traits:
      plan: strng
      first_seen_at: timestamp
      ltv: {type: number, colum: x}
      lat: string
      bad-name: string
      lst: [1]
    geo: {lat: lat, lon: longitude}
  events:
    relation: a.b.c.d
    user_id: user_id
    timestamp: "occurred at"
    properties:
      column: props
      columns: {a: b}
rfm:
  event: order_completed
  within: 0d
"""


def test_config_mistakes(tmp_path: Path) -> None:
    diagnostics = config_errors(tmp_path, CONFIG_MISTAKES)
    assert {d.file for d in diagnostics} == {str(tmp_path / "segwise.yml")}
    relation_usage = "use ref('model'), source('source', 'table'), schema.table or db.schema.table"
    name_rule = "use letters, digits and _, not starting with a digit"
    assert error_rows(diagnostics) == [
        (1, 1, "unknown key 'segments_pth' in the config", "did you mean 'segments_path'?"),
        (4, 15, f"bad relation 'ref(demo_users)': {relation_usage}", None),
        (5, 9, "invalid column sources.users.id: '1user'", name_rule),
        (7, 13, "unknown type 'strng' for trait 'plan'", "did you mean 'string'?"),
        (
            8,
            7,
            "trait 'first_seen_at' shadows the built-in trait of that name",
            "rename it (built-ins: first_seen_at, last_seen_at, event_count)",
        ),
        (9, 27, "unknown key 'colum' in trait 'ltv'", "did you mean 'column'?"),
        (11, 7, "invalid trait name: 'bad-name'", name_rule),
        (
            12,
            12,
            "trait 'lst' must be a type name or a mapping, got a list",
            "write e.g. `plan: string` or `ltv: {type: number, column: lifetime_value}`",
        ),
        (13, 16, "geo.lat names trait 'lat' of type string; it must be a number trait", None),
        (13, 26, "geo.lon names unknown trait 'longitude'", None),
        (15, 5, "sources.events is missing required key 'name'", None),
        (15, 15, f"bad relation 'a.b.c.d': {relation_usage}", None),
        (17, 16, "invalid column sources.events.timestamp: 'occurred at'", name_rule),
        (
            20,
            7,
            "sources.events.properties takes either 'column' (one JSON column) or 'columns' "
            "(one column per property), not both",
            None,
        ),
        (22, 3, "rfm is missing required key 'monetary'", None),
        (23, 11, "rfm.within needs a positive duration, got '0d'", None),
    ]


@pytest.mark.parametrize(
    ("text", "line", "col", "message", "hint"),
    [
        ("", 1, 1, "the config is empty: it needs sources.users and sources.events", None),
        ("- a\n", 1, 1, "the config must be a mapping, got a list", None),
        ("sources: {users: x}\n", 1, 10, "sources is missing required key 'events'", None),
        ("segments_path: 3\nsources: {}\n", 1, 16, "segments_path must be a string, got the number 3", None),
        (
            "a: [1\n",
            2,
            1,
            "invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)",
            "close the '[' opened at line 1, column 4, and separate items with ', '",
        ),
    ],
)
def test_config_shape(tmp_path: Path, text: str, line: int, col: int, message: str, hint: str | None) -> None:
    assert (line, col, message, hint) in error_rows(config_errors(tmp_path, text))


def replace_properties(properties: str, rfm: str = "rfm: {event: buy, monetary: amount, within: 30d}") -> str:
    head = CONFIG.split("    properties:")[0]
    return f"{head}    properties: {properties}\n{rfm}\n"


@pytest.mark.parametrize(
    ("properties", "rfm", "line", "col", "message", "hint"),
    [
        (
            "{types: {amount: number}}",
            "",
            19,
            17,
            "sources.events.properties needs 'column' (one JSON column) or 'columns' (one column per property)",
            None,
        ),
        (
            "{columns: {amount: amount, sku: sku}, types: {amount: number, skux: string}}",
            "",
            19,
            79,
            "type given for unknown property 'skux': flat properties must be listed in 'columns'",
            "did you mean 'sku'?",
        ),
        (
            "{column: props, types: {amount: money}}",
            "",
            19,
            49,
            "unknown type 'money' for property 'amount'",
            "expected one of: string, number, boolean, timestamp",
        ),
        ("{column: props, types: {1x: number}}", "", 19, 41, "invalid property name: '1x'", NAME_HELP),
        ("{columns: {sku: 'sku col'}}", "", 19, 33, "invalid column of property 'sku': 'sku col'", NAME_HELP),
        (
            "{column: props}",
            "rfm: {event: buy, monetary: amount, within: 30d}",
            20,
            29,
            "rfm.monetary 'amount' must be a number property; undeclared properties are strings",
            "declare it in sources.events.properties.types: {amount: number}",
        ),
        (
            "{column: props, types: {amount: string}}",
            "rfm: {event: buy, monetary: amount, within: 30d}",
            20,
            29,
            "rfm.monetary 'amount' must be a number property, it is a string",
            None,
        ),
        (
            "{columns: {amount: amount}}",
            "rfm: {event: buy, monetary: amout, within: 30d}",
            20,
            29,
            "rfm.monetary 'amout' is not an event property",
            "did you mean 'amount'?",
        ),
        (
            "{column: props, types: {amount: number}}",
            "rfm: {event: buy, monetary: amount, within: 30 days}",
            20,
            45,
            f"rfm.within: bad duration '30 days': {DURATION_HELP}",
            None,
        ),
    ],
)
def test_properties_and_rfm_config(
    tmp_path: Path, properties: str, rfm: str, line: int, col: int, message: str, hint: str | None
) -> None:
    assert error_rows(config_errors(tmp_path, replace_properties(properties, rfm))) == [(line, col, message, hint)]


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yml"
    with pytest.raises(ValidationError) as info:
        load_config(path)
    assert [str(d) for d in info.value.diagnostics] == [f"{path}:1:1: file not found"]


# --- projects: every file, every error --------------------------------------------------------


def make_project(root: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config_path = write_config(root, config)
    for name, text in files.items():
        path = root / "segments" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return config_path


def test_load_project_reads_every_file_sorted_and_recursive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(
        tmp_path / "proj",
        {
            "b.yml": segment_text("{in_segment: c}", "b"),
            "a.yml": segment_text("{trait: plan, eq: x}", "a") + "groups:\n  - {name: g, priority: [c, a]}\n",
            "nested/c.yml": segment_text("{in_segment: a}", "c"),
            "notes.txt": "not yaml: [",
        },
    )
    monkeypatch.chdir(tmp_path)  # paths are relative to the config's directory, not the cwd
    project = load_project(Path("proj/segwise.yml"))
    assert list(project.segments) == ["a", "b", "c"]
    assert project.groups["g"].priority == ("c", "a")
    assert project.root == "proj"
    assert project.locations == {
        "a": Location("proj/segments/a.yml", 2, 5),
        "b": Location("proj/segments/b.yml", 2, 5),
        "c": Location("proj/segments/nested/c.yml", 2, 5),
    }
    assert project.config.path == "proj/segwise.yml"


def test_load_project_reports_every_error_of_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(
        tmp_path,
        {
            "one.yml": segment_text("{in_segment: three}", "one") + "  - {name: five, rule: {in_segment: four}}\n",
            "two.yml": segment_text("{trait: plna, eq: x}", "one"),
            "sub/three.yml": segment_text("{in_segment: one}", "three"),
            "sub/broken.yml": "segments:\n  - name: four\n    rule: {bad: [\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError) as info:
        load_project()
    # 'four' is in the unreadable file, so `in_segment: four` is not reported as unknown.
    assert [str(d) for d in info.value.diagnostics] == [
        "segments/one.yml:3:24: segments refer to each other in a cycle: one -> three -> one",
        "segments/sub/broken.yml:4:1: invalid YAML: expected the node content, but found '<stream end>' "
        "(while parsing a flow node); the file ends where a value should be: close every '[' and '{'",
        "segments/two.yml:2:5: duplicate segment name 'one' (first defined at segments/one.yml:2)",
        "segments/two.yml:3:19: unknown trait 'plna'; did you mean 'plan'?",
    ]


def test_cycle_across_files(tmp_path: Path) -> None:
    config_path = make_project(
        tmp_path,
        {
            "x.yml": segment_text("{in_segment: y}", "x"),
            "y.yml": segment_text("{any: [{in_segment: z}, {trait: plan, eq: p}]}", "y"),
            "z.yml": segment_text("{in_segment: x}", "z"),
        },
    )
    with pytest.raises(ValidationError) as info:
        load_project(config_path)
    assert [str(d) for d in info.value.diagnostics] == [
        f"{tmp_path}/segments/x.yml:3:24: segments refer to each other in a cycle: x -> y -> z -> x"
    ]


def test_config_errors_stop_before_segments(tmp_path: Path) -> None:
    config_path = make_project(tmp_path, {"a.yml": "segments: ["}, config="sources: {}\n")
    with pytest.raises(ValidationError) as info:
        load_project(config_path)
    assert all(d.file == str(config_path) for d in info.value.diagnostics)


def test_missing_segments_directory(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, "segments_path: segmnts\n" + CONFIG)
    with pytest.raises(ValidationError) as info:
        load_project(config_path)
    error = only(info.value.diagnostics)
    assert (error.file, error.line, error.col) == (str(config_path), 1, 16)
    assert error.message == f"segments_path 'segmnts': no directory '{tmp_path / 'segmnts'}'"


# --- the portable regex subset ----------------------------------------------------------------

PORTABLE = [r"abc", r"^a.b$", r"[a-z]+", r"[^x]", r"\d{3}-\d{4}", r"(foo|bar)*", r"a{2,}", r"a{1,3}", r"\.\*\(",
            r"[-a]", r"[a-]", r"\w+@\w+\.com", r"\s\S\D\W", "é+", r"[0-9.]", r"a|b|c", r"x?y+z*"]  # fmt: skip

NOT_PORTABLE = [
    ("", "empty regular expression"),
    (r"(a)\1", "backreferences"),
    (r"(?=a)", "lookaround"),
    (r"(?<!a)b", "lookaround"),
    (r"(?:a)", "non-capturing groups"),
    (r"(?i)a", "inline flags"),
    (r"(?P<n>a)", "named groups"),
    (r"a*?", "lazy quantifiers ('*?')"),
    (r"a+?", "lazy quantifiers ('+?')"),
    (r"a??", "lazy quantifiers ('??')"),
    (r"a{2}?", "lazy quantifiers ('{2}?')"),
    (r"a*+", "possessive quantifiers ('*+')"),
    (r"\bfoo", r"word boundaries (\b)"),
    (r"\B", r"word boundaries (\B)"),
    (r"\A", r"\A is not portable"),
    (r"\z", r"\z is not portable"),
    (r"\Z", r"\Z is not portable"),
    (r"\y", r"the escape \y is not portable"),
    (r"\n", r"the escape \n is not portable"),
    (r"\<", "escaping '<' is not portable"),
    (r"[[:alpha:]]", "POSIX classes"),
    (r"[\d]", "backslashes inside [...]"),
    (r"[z-a]", "bad range z-a"),
    (r"[a-c-e]", "a '-' that is not a range"),
    (r"[]a]", "a ']' right after '['"),
    (r"(", "unbalanced '('"),
    (r")", "unbalanced ')'"),
    (r"[a", "unterminated character class"),
    (r"*a", "nothing to repeat"),
    (r"^*", "nothing to repeat"),
    (r"a**", "a quantifier cannot follow '*'"),
    (r"a{300}", "above 255"),
    (r"a{3,2}", "the minimum is above the maximum"),
    (r"a{,2}", "a '{' must start a bound"),
    (r"a}", "escape a literal '}'"),
    (r"a|", "empty alternative"),
    (r"(|a)", "empty alternative"),
    (r"()", "empty group"),
    ("a\\", "trailing backslash"),
]


@pytest.mark.parametrize("pattern", PORTABLE)
def test_portable_patterns(pattern: str) -> None:
    assert check_portable_regex(pattern) is None


@pytest.mark.parametrize(("pattern", "message"), NOT_PORTABLE)
def test_non_portable_patterns(pattern: str, message: str) -> None:
    problem = check_portable_regex(pattern)
    assert problem is not None and message in problem


# --- unknown keys at every level get the closest key, else the valid ones -------------------

UNKNOWN_KEY_RULES = [
    (
        "{any: [{trait: plan, eq: x}], anny: 1}",
        "anny",
        "unknown key 'anny' in the 'any' condition",
        "did you mean 'any'?",
    ),
    (
        "{not: {trait: plan, eq: x}, nott: 1}",
        "nott",
        "unknown key 'nott' in the 'not' condition",
        "did you mean 'not'?",
    ),
    (
        "{near: {lat: 0, lon: 0, radius_km: 1, lng: 0}}",
        "lng",
        "unknown key 'lng' in near",
        "did you mean 'lon'?",
    ),
    ("{rfm: {tier: champions, teir: x}}", "teir", "unknown key 'teir' in rfm", "did you mean 'tier'?"),
    # A unique prefix wins over difflib's pick ('frequency').
    ("{rfm: {recency: {lt: 3}}}", "recency", "unknown key 'recency' in rfm", "did you mean 'recency_days'?"),
    ("{event: a, Within: 3d}", "Within", "unknown key 'Within' in an event condition", "did you mean 'within'?"),
    (
        "{event: a, betwen_ago: [3d, 1d]}",
        "betwen_ago",
        "unknown key 'betwen_ago' in an event condition",
        "did you mean 'between_ago'?",
    ),
    (
        "{event: a, every: 1d, periods: 3, at_least: 1, min_cnt: 2}",
        "min_cnt",
        "unknown key 'min_cnt' in an event condition",
        "did you mean 'min_count'?",
    ),
    (
        "{event: a, zzz: 1}",
        "zzz",
        "unknown key 'zzz' in an event condition",
        "expected one of: event, where, within, between_ago, since, count, sum, avg, min, max, count_distinct, "
        "first_seen, last_seen, every, periods, at_least, min_count",
    ),
    (
        "{sequence: {steps: [{event: a}, {event: b, absnt: true}]}}",
        "absnt",
        "unknown key 'absnt' in sequence step 2",
        "did you mean 'absent'?",
    ),
    (
        "{sequence: {steps: [{event: a}]}, within: 3d}",
        "within",
        "unknown key 'within' in a sequence condition",
        "expected one of: sequence",
    ),
    (
        "{EVENT: a}",
        "{EVENT",
        "a condition needs one of the keys all, any, not, trait, event, sequence, in_segment, near, rfm, predict",
        "did you mean 'event'?",
    ),
    # Operators: the closest, else only the operators valid here (no `trait`, `ignore_case`, `property`).
    ("{trait: ltv, GT: 1}", "GT", "unknown operator 'GT' for number trait 'ltv'", "did you mean 'gt'?"),
    (
        "{trait: plan, eq: x, ignorecase: true}",
        "ignorecase",
        "unknown operator 'ignorecase' for string trait 'plan'",
        "did you mean 'ignore_case'?",
    ),
    (
        "{trait: plan, zzz: x}",
        "zzz",
        "unknown operator 'zzz' for string trait 'plan'",
        f"valid operators: {STRING_OPS}",
    ),
    (
        "{event: a, where: [{property: amount, gt: 1, zz: 1}]}",
        "zz",
        "unknown operator 'zz' for number property 'amount'",
        f"valid operators: {NUMBER_OPS}",
    ),
    (
        "{event: a, sum: {property: amount, zz: 1}}",
        "zz",
        "unknown operator 'zz' for sum of 'amount'",
        f"valid operators: {CMP_OPS}",
    ),
    (
        "{event: a, first_seen: {before_: '2025-01-01'}}",
        "before_",
        "unknown operator 'before_' for first_seen",
        "did you mean 'before'?",
    ),
    (
        "{rfm: {r: {gte: 4, betwen: [1, 2]}}}",
        "betwen",
        "unknown operator 'betwen' for rfm r",
        "did you mean 'between'?",
    ),
]


@pytest.mark.parametrize(("rule", "needle", "message", "hint"), UNKNOWN_KEY_RULES)
def test_unknown_keys_in_rules(config: Config, rule: str, needle: str, message: str, hint: str) -> None:
    error = only(errors(segment_text(rule), config))
    assert (error.file, error.line, error.col) == (FILE, *at(rule, needle))
    assert (error.message, error.hint) == (message, hint)


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("segments: []\ngroup: []\n", (2, 1, "unknown key 'group' in a segment file", "did you mean 'groups'?")),
        (
            "segments:\n  - {name: a, rule: {trait: plan, eq: x}, desc: y}\n",
            (2, 43, "unknown key 'desc' in a segment", "did you mean 'description'?"),
        ),
        (
            "segments:\n  - {name: a, rule: {trait: plan, eq: x}, holdot: 10}\n",
            (2, 43, "unknown key 'holdot' in a segment", "did you mean 'holdout'?"),
        ),
        (
            "segments:\n  - {name: a, rule: {trait: plan, eq: x}, zzz: 1}\n",
            (2, 43, "unknown key 'zzz' in a segment", "expected one of: name, description, tags, holdout, rule"),
        ),
        (
            "segments:\n  - {name: a, rule: {trait: plan, eq: x}}\ngroups:\n  - {name: g, priority: [a], fallbak: a}\n",
            (4, 30, "unknown key 'fallbak' in a group", "did you mean 'fallback'?"),
        ),
    ],
)
def test_unknown_keys_in_segment_files(config: Config, text: str, row: tuple[int, int, str, str]) -> None:
    assert error_rows(errors(text, config)) == [row]


@pytest.mark.parametrize(
    ("old", "new", "row"),
    [
        ("rfm: {event", "rmf: {event", (22, 1, "unknown key 'rmf' in the config", "did you mean 'rfm'?")),
        (
            "sources:\n",
            "segment_path: x\nsources:\n",
            (1, 1, "unknown key 'segment_path' in the config", "did you mean 'segments_path'?"),
        ),
        (
            "sources:\n",
            "zzz: x\nsources:\n",
            (
                1,
                1,
                "unknown key 'zzz' in the config",
                "expected one of: segments_path, models_path, model_prefix, sources, rfm, predict",
            ),
        ),
        ("sources:\n", "sources:\n  user: {}\n", (2, 3, "unknown key 'user' in sources", "did you mean 'users'?")),
        (
            "    id: user_id\n",
            "    id: user_id\n    trait: {}\n",
            (5, 5, "unknown key 'trait' in sources.users", "did you mean 'traits'?"),
        ),
        (
            "    user_id: user_id\n",
            "    user_id: user_id\n    timestmp: x\n",
            (17, 5, "unknown key 'timestmp' in sources.events", "did you mean 'timestamp'?"),
        ),
        (
            "column: lifetime_value}",
            "columns: lifetime_value}",
            (8, 27, "unknown key 'columns' in trait 'ltv'", "did you mean 'column'?"),
        ),
        (
            "geo: {lat: lat, lon: lon}",
            "geo: {lat: lat, lon: lon, lng: lon}",
            (13, 31, "unknown key 'lng' in sources.users.geo", "did you mean 'lon'?"),
        ),
        (
            "      column: properties\n",
            "      column: properties\n      type: {}\n",
            (21, 7, "unknown key 'type' in sources.events.properties", "did you mean 'types'?"),
        ),
        (
            "rfm: {event: order_completed,",
            "rfm: {evnt: x, event: order_completed,",
            (22, 7, "unknown key 'evnt' in rfm", "did you mean 'event'?"),
        ),
        (
            "predict: {bgnbd: {event",
            "predict: {bgnbd: {evnt: x, event",
            (23, 19, "unknown key 'evnt' in predict.bgnbd", "did you mean 'event'?"),
        ),
        ("predict: {bgnbd:", "predict: {bgnb:", (23, 11, "unknown key 'bgnb' in predict", "did you mean 'bgnbd'?")),
    ],
)
def test_unknown_keys_in_the_config(tmp_path: Path, old: str, new: str, row: tuple[int, int, str, str]) -> None:
    assert CONFIG.count(old) == 1
    diagnostics = config_errors(tmp_path, CONFIG.replace(old, new))
    assert {d.file for d in diagnostics} == {str(tmp_path / "segwise.yml")}
    assert error_rows(diagnostics) == [row]


@pytest.mark.parametrize(
    ("old", "new", "row"),
    [
        (
            "unit: 7d",
            "unit: 12h",
            (23, 49, "predict.bgnbd.unit must be whole days (purchases are merged per day)", "e.g. 1d or 7d"),
        ),
        (
            "{event: order_completed, unit",
            "{unit",
            (23, 18, "predict.bgnbd is missing required key 'event'", None),
        ),
        (
            "calibration: 730d",
            "calibration: 2 years",
            (23, 66, f"predict.bgnbd.calibration: bad duration '2 years': {DURATION_HELP}", None),
        ),
    ],
)
def test_predict_config_errors(tmp_path: Path, old: str, new: str, row: tuple[int, int, str, str | None]) -> None:
    assert CONFIG.count(old) == 1
    assert error_rows(config_errors(tmp_path, CONFIG.replace(old, new))) == [row]


def test_predict_conditions(config: Config) -> None:
    within = parse_rule("{predict: {model: bgnbd, expected_purchases: {within: 90d, gte: 1}}}", config)
    assert within == PredictCondition(
        "bgnbd", PredictScore.EXPECTED_PURCHASES, Compare(CmpOp.GTE, 1.0), Duration(90 * 86400)
    )
    alive = parse_rule("{predict: {model: bgnbd, p_alive: {between: [0.1, 0.3]}}}", config)
    assert alive == PredictCondition("bgnbd", PredictScore.P_ALIVE, Between(0.1, 0.3))
    assert config.predict == PredictConfig(BgNbdConfig("order_completed", Duration(7 * 86400), Duration(730 * 86400)))


# --- a quoted number (or boolean) where one is needed: the hint shows it unquoted ------------

QUOTED_VALUES = [
    ('{trait: ltv, gt: "12"}', '"12"', "write it without quotes: gt: 12"),
    ('{trait: ltv, lte: " 1e3 "}', '" 1e3 "', "write it without quotes: lte: 1e3"),
    ('{trait: ltv, in: [1, "2"]}', '"2"', "write it without quotes: 2"),
    ("{trait: ltv, between: ['1', 5]}", "'1'", "write it without quotes: 1"),
    ('{event: a, sum: {property: amount, gt: "100"}}', '"100"', "write it without quotes: gt: 100"),
    ('{rfm: {m: {gte: "4"}}}', '"4"', "write it without quotes: gte: 4"),
    ('{event: a, every: 1d, periods: "3", at_least: 1}', '"3"', "write it without quotes: periods: 3"),
    ('{trait: is_beta, is_set: "false"}', '"false"', "write it without quotes: is_set: false"),
    (
        '{sequence: {steps: [{event: a}, {event: b, absent: "true", within: 1d}]}}',
        '"true"',
        "write it without quotes: absent: true",
    ),
    ('{near: {lat: "52.5", lon: 0, radius_km: 1}}', '"52.5"', "write it without quotes: lat: 52.5"),
    # Unquoted, these would not be the number needed either: no hint to unquote them.
    ('{trait: ltv, gt: "abc"}', '"abc"', None),
    ('{trait: ltv, gt: ".inf"}', '".inf"', None),
    ('{event: a, every: 1d, periods: "2.5", at_least: 1}', '"2.5"', None),
]


@pytest.mark.parametrize(("rule", "needle", "hint"), QUOTED_VALUES)
def test_quoted_values_hint_to_unquote(config: Config, rule: str, needle: str, hint: str | None) -> None:
    error = only(errors(segment_text(rule), config))
    assert (error.line, error.col, error.hint) == (*at(rule, needle), hint)
