"""A user's whole event stream, and how each event reaches the warehouse.

Every user has one endless, deterministic stream: visits (a Poisson process shaped by the
local time of day, plus a weekly habit for some app users) from signing up until they churn,
and e-mail opens for the newsletters sent while subscribed. Each event then gets a delivery:
`loaded_at` = occurred_at + a few seconds (now and then minutes); about 1% arrive late (1 h to
4 days); about 0.5% are delivered twice (same event_id and content, loaded later); and each
appended load first replays about a quarter of the events of the previous load's last two hours.

A batch is the slice of that stream *loaded* in (after, until]. The simulation of a user is
prefix-consistent: simulating up to a later horizon replays exactly the same earlier events,
so batch k of an `--append-hours` run continues batch k-1 seamlessly, and events still in
flight at one load (late, or re-delivered) show up in the next.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from random import Random

from segwise_demo.catalog import HOURLY_ACTIVITY, Mailings
from segwise_demo.personas import Persona
from segwise_demo.sessions import Event, SurveyState, visit
from segwise_demo.timeline import DAY, HOUR, WEEK

LATE_SHARE = 0.01
DUPLICATE_SHARE = 0.005
# A load starts by replaying part of the previous load's last two hours (at-least-once delivery
# after a connector restart), so every appended batch re-delivers events an earlier batch held.
REPLAY_SPAN = 2 * 3600
REPLAY_DELAY = 600
_MEAN_ACTIVITY = sum(HOURLY_ACTIVITY) / len(HOURLY_ACTIVITY)

# event_id, user_id, event_name, occurred (epoch s), loaded (epoch s), properties
Row = tuple[str, int, str, int, int, str]


@dataclass(frozen=True, slots=True)
class Window:
    """Events loaded in (after, until]; after None = from the beginning."""

    after: int | None
    until: int

    def holds(self, loaded: int) -> bool:
        return loaded <= self.until and (self.after is None or loaded > self.after)


@dataclass(slots=True)
class UserBatch:
    """One user's rows in a batch, and what the users relation learns from them."""

    rows: list[Row] = field(default_factory=list)
    spend_cents: int = 0  # orders first delivered in this batch (duplicates not counted)
    last_order_loaded: int | None = None
    late: int = 0
    duplicates: int = 0


def _event_id(bits: int) -> str:
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _visit_times(p: Persona, times: Random, ritual: Random, horizon: int) -> list[int]:
    """Start of every visit up to min(horizon, churn), in time order."""
    end = horizon if p.churn_at is None else min(horizon, p.churn_at)
    first = p.signup_at + times.randint(0, 120)  # the signup visit
    if first > end:
        return []
    starts = [first]
    rate = p.visits_per_day / DAY / _MEAN_ACTIVITY  # candidates, thinned by hour of day
    t = float(first)
    while True:
        t += times.expovariate(rate)
        if t > end:
            break
        hour = int((t + p.utc_offset) // HOUR) % 24
        if times.random() < HOURLY_ACTIVITY[hour]:
            starts.append(int(t))
    if p.weekly_ritual is not None:
        weekday, hour = p.weekly_ritual
        # Monday 00:00 local time of the signup week (the epoch began on a Thursday).
        week = (p.signup_at + p.utc_offset + 3 * DAY) // WEEK * WEEK - 3 * DAY - p.utc_offset
        while True:
            week += WEEK
            at = week + weekday * DAY + hour * HOUR + int(ritual.gauss(0.0, 1.2 * HOUR))
            skip = ritual.random() < 0.12  # holidays, busy weeks
            if at > end:
                break
            if not skip and at > first:
                starts.append(at)
        starts.sort()
    return starts


def _deliver(uid: int, event: Event, rng: Random, window: Window, batch: UserBatch) -> None:
    occurred, name, props, cents = event
    bits = rng.getrandbits(128)
    if rng.random() < LATE_SHARE:
        loaded = occurred + rng.randint(HOUR, 4 * DAY)
        late = True
    else:
        loaded = occurred + 1 + int(rng.expovariate(1 / 15.0))
        late = False
    again = loaded + rng.randint(30, 6 * HOUR) if rng.random() < DUPLICATE_SHARE else None
    if window.holds(loaded):
        batch.rows.append((_event_id(bits), uid, name, occurred, loaded, props))
        batch.late += late
        if cents:
            batch.spend_cents += cents
            if batch.last_order_loaded is None or loaded > batch.last_order_loaded:
                batch.last_order_loaded = loaded
    if again is not None and window.holds(again):
        batch.rows.append((_event_id(bits), uid, name, occurred, again, props))
        batch.duplicates += 1
    # Decided by the event id, not by a draw: the stream stays the same whatever the window.
    if window.after is not None and window.after - REPLAY_SPAN < loaded <= window.after and bits % 4 == 0:
        replayed = window.after + 1 + (bits >> 2) % REPLAY_DELAY
        if window.holds(replayed):
            batch.rows.append((_event_id(bits), uid, name, occurred, replayed, props))
            batch.duplicates += 1


def user_batch(seed: int, p: Persona, mailings: Mailings, window: Window) -> UserBatch:
    """The rows of user `p` loaded in `window` (simulating the stream up to window.until)."""
    master = Random(f"segwise-demo/{seed}/stream/{p.user_id}")
    times, ritual, visits, mail = (Random(master.getrandbits(64)) for _ in range(4))
    batch = UserBatch()
    horizon = window.until
    state = SurveyState()
    events: list[Event] = []
    for start in _visit_times(p, times, ritual, horizon):
        events.clear()
        visit(p, visits, start, state, events)
        for event in events:
            _deliver(p.user_id, event, visits, window, batch)

    first = bisect.bisect_left(mailings.sent_at, p.signup_at)
    for campaign in mailings.campaigns[first:]:
        if campaign.sent_at > horizon or (p.unsubscribed_at is not None and campaign.sent_at >= p.unsubscribed_at):
            break
        opened = mail.random()
        delay = int(mail.expovariate(1 / (5.0 * HOUR)))
        rate = p.email_open_rate * (0.8 if campaign.promo else 1.0)
        if p.churn_at is not None and campaign.sent_at > p.churn_at:
            rate *= 0.3
        if opened < rate:
            event = (campaign.sent_at + 30 + delay, "email_opened", f'{{"campaign": "{campaign.name}"}}', 0)
            _deliver(p.user_id, event, mail, window, batch)
    return batch
