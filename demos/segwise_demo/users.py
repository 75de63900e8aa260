"""The users relation: one row of traits per known user, and its changes between loads.

Traits follow the persona (heavy users pay more often) and contain what real profiles
contain: missing countries and cities, a few spellings of "New York", coordinates only when
the user shared a location, unknown beta flags. `lifetime_value` is the sum of the user's
orders loaded so far; `updated_at` is the last time anything in the row changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from segwise_demo.personas import Activity, Persona
from segwise_demo.timeline import DAY, HOUR, Timeline

TRIAL_LENGTH = 14 * DAY

# user_id, plan, country, city, signup_at, trial_ends_at, lifetime_value (cents), is_beta,
# latitude, longitude, updated_at
UserRow = tuple[int, str | None, str | None, str | None, int, int | None, int | None, bool | None,
                float | None, float | None, int]  # fmt: skip

# Chance of (pro, enterprise) after the trial window, by activity.
_PREMIUM: dict[Activity, tuple[float, float]] = {
    Activity.HEAVY: (0.42, 0.1),
    Activity.REGULAR: (0.27, 0.05),
    Activity.LIGHT: (0.12, 0.02),
    Activity.ONE_OFF: (0.03, 0.005),
}


def _plan(p: Persona, rng: Random, snapshot: int) -> tuple[str | None, int | None, int | None]:
    """(plan, trial_ends_at, time the plan last changed) as of the snapshot."""
    trial_ends = p.signup_at + TRIAL_LENGTH
    draw = rng.random()
    if trial_ends > snapshot:  # still inside the trial window
        if draw < 0.6:
            return "trial", trial_ends, None
        return ("free" if draw < 0.95 else "pro"), None, None
    had_trial = rng.random() < 0.45
    pro, enterprise = _PREMIUM[p.activity]
    plan: str | None = "pro" if draw < pro else ("enterprise" if draw < pro + enterprise else "free")
    if rng.random() < 0.005:
        plan = None  # a broken sync
    if had_trial:
        return plan, trial_ends, trial_ends
    return plan, None, None


def _place(p: Persona, rng: Random) -> tuple[str | None, str | None, float | None, float | None]:
    city = p.city
    draw = rng.random()
    if draw < 0.02:
        return None, None, None, None
    if draw < 0.05:
        return city.country, None, None, None
    name = city.name
    if name == "New York":
        spelling = rng.random()
        name = "new york" if spelling < 0.04 else ("NEW YORK" if spelling < 0.06 else name)
    if rng.random() < 0.05:
        return city.country, name, None, None  # no location permission
    lat = round(city.lat + rng.gauss(0.0, 0.07), 6)
    lon = round(city.lon + rng.gauss(0.0, 0.09), 6)
    return city.country, name, lat, lon


def base_user(seed: int, p: Persona, timeline: Timeline, spend_cents: int, last_order_loaded: int | None) -> UserRow:
    """The user's row at the first load (snapshot time timeline.first_load)."""
    rng = Random(f"segwise-demo/{seed}/traits/{p.user_id}")
    snapshot = timeline.first_load
    plan, trial_ends_at, plan_changed = _plan(p, rng, snapshot)
    country, city, lat, lon = _place(p, rng)
    beta_draw = rng.random()
    is_beta = None if beta_draw < 0.2 else beta_draw < 0.3
    ltv = None if rng.random() < 0.03 else spend_cents
    updated = p.signup_at + rng.randint(0, 600)
    if rng.random() < 0.3:  # edited the profile at some point
        updated = max(updated, rng.randint(p.signup_at, snapshot))
    for changed in (plan_changed, last_order_loaded):
        if changed is not None:
            updated = max(updated, changed)
    return (p.user_id, plan, country, city, p.signup_at, trial_ends_at, ltv, is_beta, lat, lon, min(updated, snapshot))


@dataclass(frozen=True, slots=True)
class UserState:
    """The parts of a users row that a load can change."""

    user_id: int
    plan: str | None
    trial_ends_at: int | None
    lifetime_value_cents: int | None


@dataclass(frozen=True, slots=True)
class UserChange:
    user_id: int
    plan: str | None
    lifetime_value_cents: int | None
    updated_at: int


def user_changes(
    seed: int,
    batch: int,
    users: list[UserState],
    orders: dict[int, tuple[int, int]],
    after: int,
    until: int,
) -> list[UserChange]:
    """What changes in the users relation between the loads `after` and `until`.

    Trials that ended convert (a third to pro) or fall back to free; now and then a user
    upgrades or downgrades; lifetime values grow by the orders loaded in the batch
    (`orders`: user id -> (cents, last loaded_at)). Deterministic from (seed, batch).
    """
    rng = Random(f"segwise-demo/{seed}/plans/{batch}")
    hours = (until - after) / HOUR
    changes: list[UserChange] = []
    for user in sorted(users, key=lambda u: u.user_id):
        draw, convert, offset = rng.random(), rng.random(), rng.randint(1, until - after)
        plan, changed_at = user.plan, None
        if plan == "trial" and user.trial_ends_at is not None and user.trial_ends_at <= until:
            plan = "pro" if convert < 0.35 else "free"
            changed_at = min(until, max(user.trial_ends_at, after) + 60 + offset % 1800)
        elif plan == "free" and draw < 0.0001 * hours:
            plan, changed_at = "pro", after + offset
        elif plan == "pro" and draw < 0.00005 * hours:
            plan, changed_at = "enterprise", after + offset
        elif plan == "pro" and draw > 1 - 0.00005 * hours:
            plan, changed_at = "free", after + offset
        ltv = user.lifetime_value_cents
        spent = orders.get(user.user_id)
        if spent is not None and ltv is not None:
            ltv += spent[0]
            changed_at = spent[1] if changed_at is None else max(changed_at, spent[1])
        if changed_at is not None:
            changes.append(UserChange(user.user_id, plan, ltv, changed_at))
    return changes
