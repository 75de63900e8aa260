"""Deterministic benchmark data, generated inside DuckDB: `users` and `events` at any size.

    python bench/generate.py --db bench/work/bench.duckdb --events 10000000 [--seed 7]

Everything is SQL over `range()`, with pseudo-random values from DuckDB's `hash()` of the row
number and the seed, so the same arguments give the same tables and no Python loop touches a
row. The shape:

- users: one per 50 events; plan, country, city, signup, trial end, lifetime value, beta flag,
  coordinates near the city (some missing), `updated_at`;
- sessions of 1-14 events each: browsing, buying (cart, checkout, payment, order a few
  minutes apart), abandoned checkouts, e-mail visits, surveys (viewed, then completed or
  dismissed), app opens. A session's user is drawn with heavy skew (user = n * u^2.5: the top
  1% of users own about a sixth of the sessions, most users a handful), and its time lies in
  the user's active period, weighted towards the recent end; 30% of users stopped coming
  back weeks or months ago. 0.5% of sessions belong to users missing from `users`;
- events: event_id, user_id, event_name, occurred_at, loaded_at (seconds later; 0.5% arrive
  hours late) and JSON `properties` (amount, category, product_id, price, items, survey_id,
  score, campaign, path, platform, method by event name; 0.2% of amounts are "n/a").

`append_hour` adds the next hour: `fraction` of the events again as new sessions in
(T, T + 1h], loaded after everything before, plus a few changed users rows.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

AS_OF = datetime(2025, 6, 1)
EVENTS_PER_USER = 50
HISTORY_DAYS = 420
DEFAULT_SEED = 7
US_PER_DAY = 86_400_000_000

CITIES = [  # city, country, latitude, longitude
    ("New York", "US", 40.7128, -74.0060),
    ("San Francisco", "US", 37.7749, -122.4194),
    ("Chicago", "US", 41.8781, -87.6298),
    ("London", "GB", 51.5074, -0.1278),
    ("Berlin", "DE", 52.5200, 13.4050),
    ("Paris", "FR", 48.8566, 2.3522),
    ("Madrid", "ES", 40.4168, -3.7038),
    ("Tokyo", "JP", 35.6762, 139.6503),
    ("São Paulo", "BR", -23.5505, -46.6333),
    ("Sydney", "AU", -33.8688, 151.2093),
    ("Toronto", "CA", 43.6532, -79.3832),
    ("Mumbai", "IN", 19.0760, 72.8777),
]
CATEGORIES = ["electronics", "books", "fashion", "home", "toys", "sports", "beauty", "grocery"]
CAMPAIGNS = ["spring_sale", "newsletter", "winback", "product_launch", "black_friday"]
SURVEYS = ["nps", "onboarding", "feature_feedback"]
PATHS = ["/", "/pricing", "/search", "/account", "/help", "/blog"]
PLATFORMS = ["ios", "android", "web"]
METHODS = ["card", "paypal", "apple_pay"]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_quote(v) for v in values) + "]"


def _pick(values: list[str], u: str) -> str:
    """One of `values`, chosen by the uniform [0, 1) expression `u`."""
    return f"{_list(values)}[1 + floor({u} * {len(values)})::INTEGER]"


def _micros(at: datetime) -> int:
    return int((at - datetime(1970, 1, 1)).total_seconds()) * 1_000_000


def _macros(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    # rnd(row, stream): a uniform double in [0, 1), a pure function of (row, stream, seed).
    uniform = f"(hash(r, k, {int(seed)}) >> 11)::DOUBLE / 9007199254740992.0"
    con.execute(f"CREATE OR REPLACE TEMP MACRO rnd(r, k) AS ({uniform})")


def _users_sql(n_users: int, t0: int) -> str:
    city = "c.city"
    cities = ", ".join(f"({n}, {_quote(c)}, {_quote(k)}, {la}, {lo})" for n, (c, k, la, lo) in enumerate(CITIES))
    return f"""
    CREATE OR REPLACE TABLE users AS
    WITH p AS (
        SELECT i AS user_id,
               rnd(i, 101) AS u_plan, rnd(i, 102) AS u_city, rnd(i, 103) AS u_ltv, rnd(i, 104) AS u_beta,
               rnd(i, 105) AS u_lat, rnd(i, 106) AS u_lon, rnd(i, 107) AS u_geo, rnd(i, 108) AS u_trial,
               rnd(i, 109) AS u_upd
        FROM range(1, {n_users} + 1) t(i)
    ), cities AS (
        SELECT * FROM (VALUES {cities}) v(n, city, country, lat, lon)
    )
    SELECT p.user_id,
           CASE WHEN u_plan < 0.55 THEN 'free' WHEN u_plan < 0.72 THEN 'trial'
                WHEN u_plan < 0.93 THEN 'pro' ELSE 'enterprise' END AS plan,
           c.country,
           CASE WHEN u_geo < 0.05 THEN NULL WHEN u_geo < 0.08 THEN upper({city}) ELSE {city} END AS city,
           make_timestamp(({t0} - (a.signup_days * {US_PER_DAY})::BIGINT) // 1000000 * 1000000) AS signup_at,
           CASE WHEN u_plan >= 0.55 AND u_plan < 0.72
                THEN make_timestamp({t0} + ((u_trial * 20 - 6) * {US_PER_DAY})::BIGINT) END AS trial_ends_at,
           round(3000 * pow(rnd(p.user_id, 110), 3)
                 * (CASE WHEN p.user_id <= {max(1, n_users // 100)} THEN 4 ELSE 1 END), 2)::DECIMAL(12, 2)
               AS lifetime_value,
           CASE WHEN u_beta < 0.1 THEN TRUE WHEN u_beta < 0.8 THEN FALSE END AS is_beta,
           CASE WHEN u_geo >= 0.1 THEN c.lat + (u_lat - 0.5) * 0.6 END AS latitude,
           CASE WHEN u_geo >= 0.1 THEN c.lon + (u_lon - 0.5) * 0.6 END AS longitude,
           make_timestamp(({t0} - (least(a.signup_days, u_upd * 60) * {US_PER_DAY})::BIGINT) // 1000000 * 1000000)
               AS updated_at
    FROM p
    JOIN cities c ON c.n = floor(u_city * {len(CITIES)})::INTEGER
    JOIN user_activity a ON a.user_id = p.user_id
    ORDER BY p.user_id
    """


def _activity_sql(n_users: int) -> str:
    """Each user's active period, in days before T: signup_days ago until active_to days ago."""
    return f"""
    CREATE OR REPLACE TEMP TABLE user_activity AS
    SELECT i AS user_id,
           {HISTORY_DAYS - 20} * pow(rnd(i, 201), 0.6) + 1 AS signup_days,
           CASE WHEN rnd(i, 202) < 0.3 THEN least(10 + 300 * rnd(i, 203), {HISTORY_DAYS - 20} * pow(rnd(i, 201), 0.6))
                ELSE 0 END AS active_to
    FROM range(1, {n_users} + {max(1, n_users // 50)} + 1) t(i)
    """


def _sessions_sql(n_sessions: int, first: int, n_users: int, t_lo: int, t_hi: int | None) -> str:
    """Sessions `first .. first + n_sessions - 1`. With `t_hi`, uniform in (t_lo, t_hi]
    (appended data); otherwise in each user's active period, ending before `t_lo` (= T)."""
    ghosts = max(1, n_users // 50)
    if t_hi is None:
        days = "a.active_to + (a.signup_days - a.active_to) * pow(rnd(s, 4), 1.6)"
        start = f"{t_lo} - ({days}) * {US_PER_DAY} - length * gap * 1000000 - 60000000"
    else:
        # after t_lo even when a session is longer than the span (it then ends after t_hi)
        spread = f"rnd(s, 4) * ({t_hi} - {t_lo} - 1000000 - length * gap * 1000000)"
        start = f"greatest({t_lo} + 1000000, {t_lo} + 1000000 + {spread})"
    return f"""
    CREATE OR REPLACE TEMP TABLE sessions AS
    WITH s AS (
        SELECT s,
               CASE WHEN rnd(s, 1) < 0.005 THEN {n_users} + 1 + floor(rnd(s, 2) * {ghosts})::BIGINT
                    ELSE 1 + floor({n_users} * pow(rnd(s, 2), 2.5))::BIGINT END AS user_id,
               rnd(s, 3) AS u_kind,
               rnd(s, 5) AS u_len,
               20 + floor(rnd(s, 6) * 100)::BIGINT AS gap
        FROM range({first}, {first} + {n_sessions}) t(s)
    ), k AS (
        SELECT *,
               CASE WHEN u_kind < 0.45 THEN 'browse' WHEN u_kind < 0.53 THEN 'buy' WHEN u_kind < 0.62 THEN 'abandon'
                    WHEN u_kind < 0.76 THEN 'email' WHEN u_kind < 0.84 THEN 'survey' ELSE 'app' END AS kind
        FROM s
    ), l AS (
        SELECT *,
               CASE kind WHEN 'browse' THEN 2 + floor(u_len * 10) WHEN 'buy' THEN 5 + floor(u_len * 8)
                         WHEN 'abandon' THEN 3 + floor(u_len * 7) WHEN 'email' THEN 1 + floor(u_len * 5)
                         WHEN 'survey' THEN 2 + floor(u_len * 2) ELSE 1 + floor(u_len * 3) END::BIGINT AS length
        FROM k
    )
    SELECT l.s, l.user_id, l.kind, l.length, l.gap,
           ({start})::BIGINT // 1000000 * 1000000 AS start_us,
           coalesce(sum(l.length) OVER (ORDER BY l.s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               AS offset_before
    FROM l LEFT JOIN user_activity a ON a.user_id = l.user_id
    """


def _events_sql(table: str, n_events: int, seed: int, loaded_cap: int, create: bool) -> str:
    """The events of the `sessions` table, cut at `n_events` rows, loaded no later than `loaded_cap`."""
    u = "rnd(s, {})".format
    pos_u = "rnd(s * 64 + pos, {})".format
    name = f"""CASE
        WHEN pos = 0 AND kind = 'email' THEN 'email_opened'
        WHEN pos = 0 AND kind IN ('survey', 'app') THEN 'app_opened'
        WHEN pos = 0 THEN CASE WHEN {u(10)} < 0.4 THEN 'login' ELSE 'app_opened' END
        WHEN kind = 'buy' AND pos = length - 1 THEN 'order_completed'
        WHEN kind = 'buy' AND pos = length - 2 THEN 'payment_entered'
        WHEN kind = 'buy' AND pos = length - 3 THEN 'checkout_viewed'
        WHEN kind = 'buy' AND pos = length - 4 THEN 'cart_added'
        WHEN kind = 'abandon' AND pos = length - 1 THEN
            CASE WHEN {u(11)} < 0.3 THEN 'payment_entered' ELSE 'checkout_viewed' END
        WHEN kind = 'abandon' AND pos = length - 2 THEN
            CASE WHEN {u(11)} < 0.3 THEN 'checkout_viewed' ELSE 'cart_added' END
        WHEN kind = 'survey' AND pos = 1 THEN 'survey_viewed'
        WHEN kind = 'survey' AND pos = 2 THEN
            CASE WHEN {u(12)} < 0.6 THEN 'survey_completed' ELSE 'survey_dismissed' END
        WHEN {pos_u(13)} < 0.06 THEN 'cart_added'
        WHEN {pos_u(13)} < 0.70 THEN 'product_viewed'
        ELSE 'page_viewed' END"""
    category = _pick(CATEGORIES, f"pow({u(14)}, 1.5)")
    product = f"'p' || (1 + floor(pow({pos_u(15)}, 2) * 2000)::INTEGER)"
    price = f"round(2 + 300 * pow({pos_u(16)}, 3), 2)"
    amount = f"round(8 + 600 * pow({u(17)}, 2.5), 2)"
    items = f"1 + floor(pow({u(18)}, 2) * 6)::INTEGER"
    score = f"floor({u(19)} * 11)::INTEGER"
    viewed = """'{"product_id": "%s", "category": "%s", "price": %s}'"""
    props = f"""CASE name
        WHEN 'product_viewed' THEN printf({viewed}, {product}, {category}, {price}::VARCHAR)
        WHEN 'cart_added' THEN printf({viewed}, {product}, {category}, {price}::VARCHAR)
        WHEN 'checkout_viewed' THEN printf('{{"amount": %s, "items": %d}}', {amount}::VARCHAR, {items})
        WHEN 'payment_entered' THEN printf('{{"method": "%s"}}', {_pick(METHODS, u(20))})
        WHEN 'order_completed' THEN printf('{{"amount": %s, "category": "%s", "product_id": "%s", "items": %d}}',
            CASE WHEN {u(21)} < 0.002 THEN '"n/a"' ELSE {amount}::VARCHAR END, {category}, {product}, {items})
        WHEN 'survey_viewed' THEN printf('{{"survey_id": "%s"}}', {_pick(SURVEYS, u(22))})
        WHEN 'survey_dismissed' THEN printf('{{"survey_id": "%s"}}', {_pick(SURVEYS, u(22))})
        WHEN 'survey_completed' THEN printf('{{"survey_id": "%s", "score": %d}}', {_pick(SURVEYS, u(22))}, {score})
        WHEN 'email_opened' THEN printf('{{"campaign": "%s"}}', {_pick(CAMPAIGNS, u(23))})
        WHEN 'page_viewed' THEN printf('{{"path": "%s"}}', {_pick(PATHS, pos_u(24))})
        ELSE printf('{{"platform": "%s"}}', {_pick(PLATFORMS, u(25))}) END"""
    late = f"""CASE WHEN {pos_u(26)} < 0.005 THEN (3600 + {pos_u(27)} * 36000)::BIGINT
                    ELSE 1 + floor({pos_u(27)} * 30)::BIGINT END"""
    body = f"""
    WITH e AS (
        SELECT s, user_id, kind, length,
               start_us + pos * gap * 1000000 + floor({pos_u(28)} * gap / 2)::BIGINT * 1000000 AS ts_us,
               offset_before + pos AS n, pos
        FROM (SELECT *, unnest(range(length)) AS pos FROM sessions)
        WHERE offset_before + pos < {n_events}
    ), named AS (SELECT *, {name} AS name FROM e)
    SELECT lower(hex(hash(n, s, {int(seed)}, 'event'))) AS event_id,
           user_id,
           name AS event_name,
           make_timestamp(ts_us) AS occurred_at,
           make_timestamp(least(ts_us + ({late}) * 1000000, {loaded_cap})) AS loaded_at,
           {props} AS properties
    FROM named
    ORDER BY ts_us
    """
    if create:
        return f"CREATE OR REPLACE TABLE {table} AS {body}"
    return f"INSERT INTO {table} {body}"


def _session_count(n_events: int) -> int:
    return int(n_events / 5.0 * 1.1) + 100  # mean session length is about 5.1


def generate(db: Path, n_events: int, seed: int = DEFAULT_SEED, as_of: datetime = AS_OF) -> dict[str, int]:
    """(Re)create `users` and `events` in `db` with exactly `n_events` events up to `as_of`."""
    n_users = max(100, n_events // EVENTS_PER_USER)
    db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db)) as con:
        _macros(con, seed)
        con.execute(_activity_sql(n_users))
        con.execute(_users_sql(n_users, _micros(as_of)))
        con.execute(_sessions_sql(_session_count(n_events), 0, n_users, _micros(as_of), None))
        con.execute(_events_sql("events", n_events, seed, _micros(as_of), create=True))
        got = con.execute("SELECT count(*) FROM events").fetchone()
        assert got is not None and got[0] == n_events, f"generated {got} events, wanted {n_events}"
        con.execute("CHECKPOINT")
    return {"users": n_users, "events": n_events}


def append_hour(
    db: Path,
    fraction: float = 0.01,
    seed: int = DEFAULT_SEED,
    as_of: datetime = AS_OF,
    span: timedelta = timedelta(hours=1),
) -> datetime:
    """Append `fraction` more events in (as_of, as_of + span], loaded after every earlier
    event, and change a few users rows; returns the new T."""
    t1 = as_of + span
    with duckdb.connect(str(db)) as con:
        _macros(con, seed + 1)
        row = con.execute("SELECT count(*), (SELECT count(*) FROM users) FROM events").fetchone()
        assert row is not None
        n_events, n_users = int(row[0]), int(row[1])
        new = max(1, int(n_events * fraction))
        con.execute(_activity_sql(n_users))
        # Earlier events were loaded by T (generate caps loaded_at there): every appended event is new.
        first = 10**12 * (1 + int((as_of - AS_OF).total_seconds()))  # session ids of their own per append
        last = _micros(t1) - min(60_000_000, int(span.total_seconds() * 200_000))
        con.execute(_sessions_sql(_session_count(new), first, n_users, _micros(as_of), last))
        con.execute(_events_sql("events", new, seed + 1, _micros(t1), create=False))
        changed = max(1, n_users // 1000)
        con.execute(
            f"""UPDATE users SET plan = CASE plan WHEN 'trial' THEN 'pro' WHEN 'free' THEN 'trial' ELSE plan END,
                       updated_at = TIMESTAMP '{as_of:%Y-%m-%d %H:%M:%S}' + INTERVAL 30 MINUTE
                WHERE hash(user_id, {seed}, 'changed') % {n_users} < {changed}"""
        )
        con.execute("CHECKPOINT")
    return t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--append-hour", action="store_true", help="append 1%% new events in the next hour")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.append_hour:
        t1 = append_hour(args.db, seed=args.seed)
        print(f"appended 1% new events; T is now {t1:%Y-%m-%dT%H:%M:%S} ({time.perf_counter() - started:.1f} s)")
    else:
        sizes = generate(args.db, args.events, args.seed)
        print(f"{sizes['users']:,} users, {sizes['events']:,} events in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
