"""Fixed reference data: product catalogue, cities, e-mail campaigns and surveys.

None of it depends on the seed: the seed chooses who does what, the catalogue is the shop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from random import Random

from segwise_demo.timeline import DAY, HOUR, WEEK


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    median_cents: int  # median product price
    spread: float  # sigma of the log price
    popularity: float


CATEGORIES: tuple[Category, ...] = (
    Category("electronics", 14_900, 0.9, 1.4),
    Category("apparel", 4_200, 0.5, 2.0),
    Category("home", 5_500, 0.7, 1.3),
    Category("beauty", 2_400, 0.5, 1.2),
    Category("books", 1_600, 0.4, 1.0),
    Category("sports", 4_900, 0.7, 0.9),
    Category("toys", 2_900, 0.6, 0.7),
    Category("grocery", 1_900, 0.5, 0.8),
)
CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)
PRODUCTS_PER_CATEGORY = 30


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    category: str
    price_cents: int


def _products() -> dict[str, tuple[Product, ...]]:
    rng = Random("segwise-demo/catalog")
    by_category: dict[str, tuple[Product, ...]] = {}
    number = 1001
    for category in CATEGORIES:
        items = []
        for _ in range(PRODUCTS_PER_CATEGORY):
            price = category.median_cents * math.exp(rng.gauss(0.0, category.spread))
            cents = max(299, round(price / 100.0) * 100 - 1)  # shop prices end in .99
            items.append(Product(f"p{number}", category.name, cents))
            number += 1
        by_category[category.name] = tuple(items)
    return by_category


PRODUCTS: dict[str, tuple[Product, ...]] = _products()


@dataclass(frozen=True, slots=True)
class City:
    country: str  # ISO 3166-1 alpha-2
    name: str
    lat: float
    lon: float
    utc_offset_hours: float  # summer time; only shapes the daily rhythm
    weight: int


CITIES: tuple[City, ...] = (
    City("US", "New York", 40.7128, -74.0060, -4, 14),
    City("US", "San Francisco", 37.7749, -122.4194, -7, 5),
    City("US", "Chicago", 41.8781, -87.6298, -5, 4),
    City("US", "Austin", 30.2672, -97.7431, -5, 3),
    City("US", "Seattle", 47.6062, -122.3321, -7, 3),
    City("GB", "London", 51.5074, -0.1278, 1, 7),
    City("GB", "Manchester", 53.4808, -2.2426, 1, 2),
    City("DE", "Berlin", 52.5200, 13.4050, 2, 5),
    City("DE", "Munich", 48.1351, 11.5820, 2, 2),
    City("FR", "Paris", 48.8566, 2.3522, 2, 4),
    City("NL", "Amsterdam", 52.3676, 4.9041, 2, 2),
    City("ES", "Madrid", 40.4168, -3.7038, 2, 2),
    City("CA", "Toronto", 43.6532, -79.3832, -4, 3),
    City("BR", "São Paulo", -23.5505, -46.6333, -3, 3),
    City("IN", "Bengaluru", 12.9716, 77.5946, 5.5, 3),
    City("JP", "Tokyo", 35.6762, 139.6503, 9, 3),
    City("AU", "Sydney", -33.8688, 151.2093, 10, 2),
)
CITY_WEIGHTS: tuple[int, ...] = tuple(c.weight for c in CITIES)

# Share of a day's visits that start in each local hour (night is quiet, evenings busy).
HOURLY_ACTIVITY: tuple[float, ...] = (
    0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.55, 0.75, 0.8, 0.85, 0.9,
    0.95, 0.9, 0.85, 0.85, 0.9, 0.95, 1.0, 1.0, 0.95, 0.85, 0.65, 0.4,
)  # fmt: skip

PAGES: tuple[str, ...] = ("/", "/search", "/deals", "/account", "/help")

# The weekly newsletter goes out on Tuesdays at 14:00 UTC; a promotion on the 1st of each month.
NEWSLETTER_WEEKDAY = 1  # Monday = 0
NEWSLETTER_HOUR = 14


@dataclass(frozen=True, slots=True)
class Campaign:
    sent_at: int
    name: str
    promo: bool


@dataclass(frozen=True, slots=True)
class Mailings:
    """Every e-mail campaign sent in a time range, in time order."""

    campaigns: tuple[Campaign, ...]
    sent_at: tuple[int, ...]

    @classmethod
    def between(cls, first: int, last: int) -> Mailings:
        sends: list[Campaign] = []
        day = first - first % DAY
        while day <= last:
            date = datetime.fromtimestamp(day, UTC)
            send = day + NEWSLETTER_HOUR * HOUR
            if date.weekday() == NEWSLETTER_WEEKDAY and first <= send <= last:
                year, week, _ = date.isocalendar()
                sends.append(Campaign(send, f"weekly_{year}_w{week:02d}", promo=False))
            if date.day == 1 and first <= send + 2 * HOUR <= last:
                sends.append(Campaign(send + 2 * HOUR, f"promo_{date.year}_{date.month:02d}", promo=True))
            day += DAY
        return cls(tuple(sends), tuple(c.sent_at for c in sends))


SURVEY_IDS: tuple[str, ...] = ("nps", "onboarding", "feature_feedback")
NPS_INTERVAL = 90 * DAY  # an NPS question at most once a quarter
FEATURE_SURVEY_INTERVAL = 6 * WEEK
