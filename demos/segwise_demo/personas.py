"""Who each user is: a few behavioural dials drawn once from (seed, user id).

Skew comes from here: a few heavy users who visit most days, many light ones, one-off
visitors who never come back, and users who were active for a while and then churned.
Because a persona depends only on (seed, user id, as-of), a later batch (`--append-hours`)
recreates the same people and continues their behaviour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from random import Random

from segwise_demo.catalog import CATEGORIES, CITIES, CITY_WEIGHTS, City
from segwise_demo.timeline import DAY, HOUR, Timeline


class Activity(Enum):
    HEAVY = "heavy"  # visits most days
    REGULAR = "regular"  # a few times a week
    LIGHT = "light"  # now and then
    ONE_OFF = "one_off"  # a few visits right after signing up, then gone


class SurveyStyle(Enum):
    RESPONDER = "responder"
    NEUTRAL = "neutral"
    DISMISSER = "dismisser"


ACTIVITY_WEIGHTS: dict[Activity, int] = {
    Activity.HEAVY: 6,
    Activity.REGULAR: 28,
    Activity.LIGHT: 46,
    Activity.ONE_OFF: 20,
}
VISITS_PER_DAY: dict[Activity, float] = {
    Activity.HEAVY: 0.26,
    Activity.REGULAR: 0.056,
    Activity.LIGHT: 0.015,
    Activity.ONE_OFF: 0.3,
}
CHURN_SHARE: dict[Activity, float] = {
    Activity.HEAVY: 0.2,
    Activity.REGULAR: 0.35,
    Activity.LIGHT: 0.45,
    Activity.ONE_OFF: 1.0,
}
_ACTIVITIES = tuple(ACTIVITY_WEIGHTS)
_ACTIVITY_WEIGHTS = tuple(ACTIVITY_WEIGHTS.values())
_CATEGORY_NAMES = tuple(c.name for c in CATEGORIES)
_CATEGORY_WEIGHTS = tuple(c.popularity for c in CATEGORIES)
_STYLES = (SurveyStyle.RESPONDER, SurveyStyle.NEUTRAL, SurveyStyle.DISMISSER)


@dataclass(frozen=True, slots=True, kw_only=True)
class Persona:
    user_id: int
    activity: Activity
    signup_at: int
    churn_at: int | None  # no visits from then on; None = still active
    visits_per_day: float
    weekly_ritual: tuple[int, int] | None  # (weekday, local hour) of a weekly app visit
    app_share: float  # share of visits in the app (the rest on the web)
    platform: str  # ios / android, for app_opened
    login_share: float  # share of visits that start with a login
    views_per_visit: float  # mean product views per visit
    cart_rate: float  # chance a viewed product goes into the cart
    checkout_rate: float  # chance a cart goes to checkout
    pay_rate: float  # chance a checkout gets payment details
    quick_buy_rate: float  # share of visits that are a fast log-in-and-reorder
    basket_scale: float  # multiplies order amounts
    favourites: tuple[str, ...]  # preferred categories
    email_open_rate: float
    unsubscribed_at: int | None
    survey_rate: float  # chance a visit shows a feature survey (when due)
    survey_style: SurveyStyle
    nps_mood: float  # mean NPS score
    city: City
    utc_offset: int  # seconds, for the daily rhythm


def ghost_count(users: int) -> int:
    """Users known only from events (not in users.parquet): about 1% of the events."""
    return max(2, round(users * 0.012))


def make_persona(seed: int, user_id: int, timeline: Timeline) -> Persona:
    """The persona of one user; the same (seed, user_id, as-of) always gives the same one."""
    rng = Random(f"segwise-demo/{seed}/persona/{user_id}")
    span = timeline.as_of - timeline.start - HOUR
    # A growing shop: signups become more frequent over time (density proportional to t).
    signup_at = timeline.start + int(span * math.sqrt(rng.random()))
    activity = rng.choices(_ACTIVITIES, _ACTIVITY_WEIGHTS)[0]
    visits = VISITS_PER_DAY[activity] * rng.lognormvariate(0.0, 0.5)
    churn_at: int | None = None
    if rng.random() < CHURN_SHARE[activity]:
        if activity is Activity.ONE_OFF:
            churn_at = signup_at + int(rng.uniform(1.0, 20.0) * DAY)
        else:
            churn_at = signup_at + int((14.0 + rng.expovariate(1 / 110.0)) * DAY)

    channel = rng.random()
    app_share = 0.85 if channel < 0.4 else (0.15 if channel < 0.8 else 0.5)
    ritual: tuple[int, int] | None = None
    if app_share > 0.8 and activity is not Activity.ONE_OFF and rng.random() < 0.4:
        ritual = (rng.randrange(7), rng.choice((8, 12, 19, 20, 21)))

    buyer = rng.random() < 0.7  # the rest browse but (almost) never buy
    big_spender = rng.random() < 0.08
    n_favourites = rng.choice((1, 1, 2, 2, 3))
    favourites: list[str] = []
    while len(favourites) < n_favourites:
        pick = rng.choices(_CATEGORY_NAMES, _CATEGORY_WEIGHTS)[0]
        if pick not in favourites:
            favourites.append(pick)

    opens = rng.random()
    email_open_rate = 0.0 if opens < 0.3 else rng.uniform(0.05, 0.95)
    unsubscribed_at = signup_at + int(rng.expovariate(1 / 250.0) * DAY) if rng.random() < 0.35 else None
    style = rng.choices(_STYLES, (40, 35, 25))[0]
    mood = rng.choices((9.2, 7.6, 4.5), (50, 27, 23))[0]
    city = rng.choices(CITIES, CITY_WEIGHTS)[0]
    return Persona(
        user_id=user_id,
        activity=activity,
        signup_at=signup_at,
        churn_at=churn_at,
        visits_per_day=visits,
        weekly_ritual=ritual,
        app_share=app_share,
        platform=rng.choice(("ios", "android")),
        login_share=rng.uniform(0.15, 0.6),
        views_per_visit=rng.uniform(1.2, 4.5),
        cart_rate=rng.uniform(0.06, 0.25) if buyer else 0.005,
        checkout_rate=rng.uniform(0.4, 0.8) if buyer else 0.3,
        pay_rate=rng.uniform(0.55, 0.9),
        quick_buy_rate=rng.uniform(0.02, 0.12) if buyer else 0.0,
        basket_scale=rng.lognormvariate(0.0, 0.35) * (2.5 if big_spender else 1.0),
        favourites=tuple(favourites),
        email_open_rate=email_open_rate,
        unsubscribed_at=unsubscribed_at,
        survey_rate=rng.uniform(0.02, 0.1),
        survey_style=style,
        nps_mood=mood,
        city=city,
        utc_offset=int(city.utc_offset_hours * HOUR),
    )
