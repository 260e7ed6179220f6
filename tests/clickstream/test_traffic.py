"""Synthetic traffic: as many events as asked, all of them events the collector accepts, over
the days asked, with a funnel that narrows as real shops' do."""

from __future__ import annotations

from collections import Counter

from archlab.systems.clickstream.events import check, client
from archlab.systems.clickstream.traffic import visits

NOW = 1_780_000_000_000
DAY = 86_400_000


def test_traffic_is_what_the_collector_accepts_and_narrows_down_the_funnel() -> None:
    made = list(visits(20_000, days=7, now_ms=NOW, seed=1))
    events = [event for visit in made for event in visit.events]
    assert len(events) == 20_000
    names = Counter(event["name"] for event in events)
    assert names["page_view"] > names["add_to_cart"] > names["begin_checkout"] > 0
    assert 0 < names["purchase"] < names["add_to_cart"]
    for visit in made:  # as the collector saw each visit, as it happened
        arrived = visit.events[-1]["time"] + 1_000
        checked = check(visit.events, client(visit.ip, visit.user_agent), arrived)
        assert checked.refused == [] and not checked.bot
    times = [event["time"] for event in events]
    assert min(times) >= NOW - 7 * DAY and max(times) < NOW
    days = Counter((time - (NOW - 7 * DAY)) // DAY for time in times)
    assert len(days) == 7 and min(days.values()) > 0.5 * max(days.values())
    sessions = Counter(event["session"] for event in events)
    assert len(sessions) == len(made)
    visitors = Counter(visit.events[0]["visitor"] for visit in made)
    assert any(count > 1 for count in visitors.values())  # some come back


def test_the_same_seed_gives_the_same_traffic() -> None:
    first = [v.events for v in visits(500, days=1, now_ms=NOW, seed=7)]
    again = [v.events for v in visits(500, days=1, now_ms=NOW, seed=7)]
    other = [v.events for v in visits(500, days=1, now_ms=NOW, seed=8)]
    assert first == again != other
