"""Hand-computed checks of the reference evaluator's own helpers (docs/language.md).

The member-level boundary cases live in tests/test_spec_boundaries.py, where they run on the
reference and on the compiled SQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reference.evaluator import evaluate, evaluate_groups, md5_prefix_int, rfm_score, rfm_tier
from tests.reference.strategies import (
    AS_OF_CHOICES,
    TEST_CONFIG_FLAT,
    TEST_CONFIG_JSON,
    datasets,
    groups_for,
    segment_sets,
)

Rows = list[dict[str, Any]]
CONFIG = TEST_CONFIG_JSON
T = datetime(2025, 6, 1, 12, 0, 0)


def test_rfm_score_formula() -> None:
    assert [rfm_score(r, 1) for r in (1,)] == [5]
    assert [rfm_score(r, 2) for r in (1, 2)] == [1, 5]
    assert [rfm_score(r, 3) for r in (1, 2, 3)] == [1, 3, 5]
    assert [rfm_score(r, 6) for r in range(1, 7)] == [1, 2, 3, 4, 5, 5]
    assert [rfm_score(r, 7) for r in range(1, 8)] == [1, 1, 2, 3, 4, 5, 5]


@pytest.mark.parametrize(
    ("r", "f", "tier"),
    [
        (4, 4, "champions"),
        (5, 5, "champions"),
        (3, 4, "loyal"),
        (3, 5, "loyal"),
        (4, 2, "potential_loyalist"),
        (5, 3, "potential_loyalist"),
        (5, 1, "new_customer"),
        (4, 1, "needs_attention"),
        (2, 3, "at_risk"),
        (1, 5, "at_risk"),
        (2, 2, "hibernating"),
        (1, 1, "hibernating"),
        (3, 3, "needs_attention"),
        (3, 1, "needs_attention"),
    ],
)
def test_rfm_tiers_first_match(r: int, f: int, tier: str) -> None:
    assert rfm_tier(r, f) == tier


def test_md5_prefix_as_integer() -> None:
    assert md5_prefix_int("hello") == 1564557354
    assert md5_prefix_int("user-42") == 1982970887
    assert md5_prefix_int("zzz") == 4088117355


def test_groups_first_match_and_fallback() -> None:
    users: Rows = [
        {"user_id": "both", "plan": "pro", "is_beta": True},
        {"user_id": "beta", "is_beta": True},
        {"user_id": "none"},
    ]
    segments: Rows = [
        {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}, "holdout": 50},
        {"name": "beta", "rule": {"trait": "is_beta", "eq": True}},
    ]
    groups: Rows = [
        {"name": "g", "priority": ["pro", "beta"], "fallback": "other"},
        {"name": "h", "priority": ["beta", "pro"]},
    ]
    result = evaluate_groups(CONFIG, segments, groups, users, [], T)
    assert result == {
        "g": {"both": "pro", "beta": "beta", "none": "other"},
        "h": {"both": "beta", "beta": "beta"},
    }


def test_a_duplicate_event_id_keeps_its_earliest_copy() -> None:
    """A re-delivered copy listed later but timed earlier is the one kept: here it moves the
    event out of the 1-hour window, whatever the order the copies arrived in."""
    first = {"user_id": "u", "event_name": "app_opened", "occurred_at": datetime(2025, 6, 1, 11, 30), "event_id": "e1"}
    earlier = dict(first, occurred_at=datetime(2025, 6, 1, 9, 0))
    segments: Rows = [{"name": "recent", "rule": {"event": "app_opened", "within": "1h"}}]
    for events in ([first, earlier], [earlier, first]):
        assert evaluate(CONFIG, segments, [], events, T) == {"recent": {}}
    assert evaluate(CONFIG, segments, [], [first], T) == {"recent": {"u": None}}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_generated_inputs_evaluate(data: st.DataObject) -> None:
    as_of = data.draw(st.sampled_from(AS_OF_CHOICES))
    config = data.draw(st.sampled_from([TEST_CONFIG_JSON, TEST_CONFIG_FLAT]))
    segments = data.draw(segment_sets(config, as_of))
    users, events = data.draw(datasets(config, as_of))
    groups = data.draw(groups_for([s["name"] for s in segments]))
    result = evaluate(config, segments, users, events, as_of)
    assert set(result) == {s["name"] for s in segments}
    evaluate_groups(config, segments, groups, users, events, as_of)
