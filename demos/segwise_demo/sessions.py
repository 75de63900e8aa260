"""One visit (a session in the app or on the web) turned into events.

A visit opens the app or the home page, may log in, views a few products (with category
and search pages in between), may put some in the cart and go to checkout. From checkout a
visitor abandons, enters payment and buys within a minute or two, or buys only after a slow
bank check (several minutes). Some visits are fast re-orders: log in and pay within five
minutes. At the end of a visit an in-app survey may be shown (onboarding after signup, NPS at
most once a quarter, the feature-feedback survey now and then); dismissed surveys come back a
few days later.

Events are `(occurred, name, properties JSON, order amount in cents or 0)`; times within a
visit strictly increase.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from segwise_demo.catalog import (
    CATEGORIES,
    FEATURE_SURVEY_INTERVAL,
    NPS_INTERVAL,
    PAGES,
    PRODUCTS,
    PRODUCTS_PER_CATEGORY,
    Product,
)
from segwise_demo.personas import Persona, SurveyStyle
from segwise_demo.timeline import DAY

Event = tuple[int, str, str, int]

_CATEGORY_NAMES = tuple(c.name for c in CATEGORIES)
_CATEGORY_WEIGHTS = tuple(c.popularity for c in CATEGORIES)
_LOGIN_METHODS = ("password", "password", "google", "apple", "magic_link")
_PAYMENT_METHODS = ("card", "card", "card", "paypal", "apple_pay")
# (complete, dismiss) probabilities; the rest of the time the survey is ignored.
_RESPONSES: dict[SurveyStyle, tuple[float, float]] = {
    SurveyStyle.RESPONDER: (0.7, 0.9),
    SurveyStyle.NEUTRAL: (0.35, 0.75),
    SurveyStyle.DISMISSER: (0.05, 0.9),
}


@dataclass(slots=True)
class SurveyState:
    """What a user has been asked so far (carried from visit to visit)."""

    onboarding_due: bool = True
    next_nps: int = 0
    next_feature: int = 0
    reprompt: tuple[str, int, int] | None = None  # (survey, not before, prompts left)


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _product(p: Persona, rng: Random) -> Product:
    if rng.random() < 0.7:
        category = p.favourites[0] if len(p.favourites) == 1 else rng.choice(p.favourites)
    else:
        category = rng.choices(_CATEGORY_NAMES, _CATEGORY_WEIGHTS)[0]
    # Within a category a few best-sellers get most of the views.
    return PRODUCTS[category][int(PRODUCTS_PER_CATEGORY * rng.random() ** 2)]


def _product_json(product: Product) -> str:
    return f'{{"product_id": "{product.product_id}", "category": "{product.category}"}}'


def _open(p: Persona, rng: Random, t: int, out: list[Event]) -> None:
    if rng.random() < p.app_share:
        out.append((t, "app_opened", f'{{"platform": "{p.platform}"}}', 0))
    else:
        out.append((t, "page_viewed", '{"path": "/"}', 0))


def _login(rng: Random, t: int, out: list[Event]) -> None:
    out.append((t, "login", f'{{"method": "{rng.choice(_LOGIN_METHODS)}"}}', 0))


def _order(p: Persona, rng: Random, t: int, cart: list[Product], out: list[Event]) -> None:
    subtotal = 0
    for product in cart:
        quantity = 1 if rng.random() < 0.8 else rng.choice((2, 2, 3))
        subtotal += product.price_cents * quantity
    cents = max(199, int(subtotal * p.basket_scale * rng.uniform(0.85, 1.15)))
    main = max(cart, key=lambda product: product.price_cents)
    props = (
        f'{{"amount": {_amount(cents)}, "category": "{main.category}", '
        f'"product_id": "{main.product_id}", "items": {len(cart)}}}'
    )
    out.append((t, "order_completed", props, cents))


def _checkout(p: Persona, rng: Random, t: int, cart: list[Product], out: list[Event]) -> int:
    """Checkout onwards; returns the time of the last event."""
    out.append((t, "checkout_viewed", f'{{"items": {len(cart)}}}', 0))
    if rng.random() >= p.pay_rate:
        return t  # abandoned at checkout
    t += rng.randint(15, 70)
    out.append((t, "payment_entered", f'{{"method": "{rng.choice(_PAYMENT_METHODS)}"}}', 0))
    outcome = rng.random()
    if outcome < 0.9:
        t += rng.randint(3, 30)
    elif outcome < 0.95:
        t += rng.randint(150, 600)  # a slow bank check: bought, but not within 2 minutes
    else:
        return t  # payment declined
    _order(p, rng, t, cart, out)
    return t


def _quick_buy(p: Persona, rng: Random, t: int, out: list[Event]) -> int:
    """Log in and re-order a favourite: the whole thing within about three minutes."""
    _open(p, rng, t, out)
    t += rng.randint(2, 15)
    _login(rng, t, out)
    product = _product(p, rng)
    t += rng.randint(5, 30)
    out.append((t, "product_viewed", _product_json(product), 0))
    t += rng.randint(5, 25)
    out.append((t, "cart_added", _product_json(product), 0))
    t += rng.randint(10, 40)
    return _checkout(p, rng, t, [product], out)


def _browse(p: Persona, rng: Random, t: int, out: list[Event]) -> int:
    _open(p, rng, t, out)
    if rng.random() < p.login_share:
        t += rng.randint(3, 25)
        _login(rng, t, out)
    cart: list[Product] = []
    for _ in range(int(rng.expovariate(1.0 / p.views_per_visit) + 0.5)):
        t += rng.randint(8, 90)
        product = _product(p, rng)
        if rng.random() < 0.3:
            page = rng.choice(PAGES) if rng.random() < 0.4 else f"/c/{product.category}"
            out.append((t, "page_viewed", f'{{"path": "{page}"}}', 0))
            t += rng.randint(3, 20)
        out.append((t, "product_viewed", _product_json(product), 0))
        if rng.random() < p.cart_rate:
            t += rng.randint(5, 40)
            out.append((t, "cart_added", _product_json(product), 0))
            cart.append(product)
    if cart and rng.random() < p.checkout_rate:
        t += rng.randint(20, 120)
        t = _checkout(p, rng, t, cart, out)
    return t


def _pick_survey(p: Persona, rng: Random, t: int, state: SurveyState) -> tuple[str, int] | None:
    """(survey, prompts left after this one) to show at the end of a visit at t, if any."""
    if state.onboarding_due:
        state.onboarding_due = False
        if t < p.signup_at + 7 * DAY and rng.random() < 0.8:
            return "onboarding", 1
        return None
    if state.reprompt is not None and t >= state.reprompt[1]:
        survey, _, left = state.reprompt
        state.reprompt = None
        return survey, left
    if t >= state.next_nps and t >= p.signup_at + 30 * DAY and rng.random() < 0.25:
        state.next_nps = t + NPS_INTERVAL
        return "nps", 2
    if t >= state.next_feature and rng.random() < p.survey_rate:
        state.next_feature = t + FEATURE_SURVEY_INTERVAL
        return "feature_feedback", 2
    return None


def _survey(p: Persona, rng: Random, t: int, state: SurveyState, out: list[Event]) -> None:
    picked = _pick_survey(p, rng, t, state)
    if picked is None:
        return
    survey, left = picked
    t += rng.randint(5, 30)
    props = f'{{"survey_id": "{survey}"}}'
    out.append((t, "survey_viewed", props, 0))
    complete, dismiss = _RESPONSES[p.survey_style]
    answer = rng.random()
    if answer < complete:
        t += rng.randint(20, 180)
        if survey == "nps":
            score = min(10, max(0, round(rng.gauss(p.nps_mood, 1.4))))
            props = f'{{"survey_id": "nps", "score": {score}}}'
        out.append((t, "survey_completed", props, 0))
    elif answer < dismiss:
        out.append((t + rng.randint(2, 12), "survey_dismissed", props, 0))
        if left > 0:
            state.reprompt = (survey, t + rng.randint(1, 6) * DAY, left - 1)
    elif survey == "feature_feedback" and rng.random() < 0.3:
        # Ignored in the app, answered later from the e-mail reminder (sometimes after 14 days).
        out.append((t + rng.randint(1 * DAY, 24 * DAY), "survey_completed", props, 0))


def visit(p: Persona, rng: Random, start: int, state: SurveyState, out: list[Event]) -> None:
    """Append the events of one visit starting at `start` to `out`."""
    quick = rng.random() < p.quick_buy_rate
    end = _quick_buy(p, rng, start, out) if quick else _browse(p, rng, start, out)
    _survey(p, rng, end, state, out)
